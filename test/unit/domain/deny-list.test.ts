import { describe, expect, it } from 'vitest';
import { SESSION_TAG_KEY as STS_SESSION_TAG_KEY } from '../../../src/adapters/sts-credential-issuer.js';
import {
  DENY_MARGIN_SECONDS,
  type DenyEntry,
  DenyListFullError,
  denyUntil,
  IAM_ROLE_INLINE_POLICY_MAX_CHARS,
  nextDenyList,
  planDenyPolicy,
  policySize,
  renderDenyPolicy,
  SESSION_TAG_KEY,
} from '../../../src/domain/deny-list.js';
import { InvalidInputError } from '../../../src/domain/errors.js';

const NOW = new Date('2026-01-01T12:00:00.000Z');
const id = (n: number): string => n.toString(16).padStart(32, '0');
const at = (hours: number): string => new Date(NOW.getTime() + hours * 3_600_000).toISOString();
const entry = (n: number, hours: number): DenyEntry => ({ sessionId: id(n), until: at(hours) });
const ids = (entries: readonly DenyEntry[]): string[] => entries.map((e) => e.sessionId);

describe('denyUntil', () => {
  const margin = DENY_MARGIN_SECONDS * 1000;
  it('keeps an id the credential maximum plus the margin past the revocation, not past the expiry', () => {
    // A session idle-extended to 12 h: its credentials still die within an hour of the revocation.
    const until = denyUntil({ expiresAt: at(12), enforcedAt: new Date(at(0.01)), revokedAt: at(0) });
    expect(until).toBe(new Date(Date.parse(at(1.01)) + margin).toISOString());
  });

  it('counts from the enforcement when the revocation time is not given (later is safe)', () => {
    expect(denyUntil({ expiresAt: at(12), enforcedAt: NOW })).toBe(
      new Date(Date.parse(at(1)) + margin).toISOString(),
    );
  });

  it('counts from the expiry when the session had expired first (no credential outlives it)', () => {
    expect(denyUntil({ expiresAt: at(-0.5), enforcedAt: NOW })).toBe(
      new Date(Date.parse(at(0.5)) + margin).toISOString(),
    );
  });

  it('refuses an unreadable expiry or revocation time', () => {
    expect(() => denyUntil({ expiresAt: 'soon', enforcedAt: NOW })).toThrow(InvalidInputError);
    expect(() => denyUntil({ expiresAt: at(1), enforcedAt: NOW, revokedAt: 'earlier' })).toThrow(
      InvalidInputError,
    );
  });
});

describe('renderDenyPolicy', () => {
  it('denies every action to principals carrying one of the session tags, ids sorted and unique', () => {
    expect(renderDenyPolicy([entry(2, 1), entry(1, 2), entry(2, 3)])).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyRevokedSentinelSessions',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalTag/SentinelSessionID': [id(1), id(2)] } },
        },
      ],
    });
  });

  it('uses the tag key the STS adapter puts on every credential', () => {
    expect(SESSION_TAG_KEY).toBe(STS_SESSION_TAG_KEY);
  });

  it('measures size as IAM does (no whitespace)', () => {
    const document = renderDenyPolicy([entry(1, 1)]);
    expect(policySize(document)).toBe(JSON.stringify(document).length);
    expect(policySize(document)).toBeLessThan(JSON.stringify(document, null, 2).length);
  });
});

describe('nextDenyList', () => {
  const cases: {
    name: string;
    current: DenyEntry[];
    added: DenyEntry;
    entries: DenyEntry[];
    alreadyDenied: boolean;
    pruned: string[];
    unchanged: boolean;
  }[] = [
    {
      name: 'adds to an empty list',
      current: [],
      added: entry(1, 2),
      entries: [entry(1, 2)],
      alreadyDenied: false,
      pruned: [],
      unchanged: false,
    },
    {
      name: 'keeps the others, soonest until first',
      current: [entry(2, 5), entry(3, 1)],
      added: entry(1, 2),
      entries: [entry(3, 1), entry(1, 2), entry(2, 5)],
      alreadyDenied: false,
      pruned: [],
      unchanged: false,
    },
    {
      name: 'a repeat with the same until changes nothing',
      current: [entry(1, 2)],
      added: entry(1, 2),
      entries: [entry(1, 2)],
      alreadyDenied: true,
      pruned: [],
      unchanged: true,
    },
    {
      name: 'a repeat never shortens the until',
      current: [entry(1, 5)],
      added: entry(1, 2),
      entries: [entry(1, 5)],
      alreadyDenied: true,
      pruned: [],
      unchanged: true,
    },
    {
      name: 'a repeat with a later until extends it',
      current: [entry(1, 2)],
      added: entry(1, 5),
      entries: [entry(1, 5)],
      alreadyDenied: true,
      pruned: [],
      unchanged: false,
    },
    {
      name: 'prunes entries whose until has passed (and an entry due exactly now)',
      current: [entry(2, -1), entry(3, 0), entry(4, 1)],
      added: entry(1, 2),
      entries: [entry(4, 1), entry(1, 2)],
      alreadyDenied: false,
      pruned: [id(2), id(3)],
      unchanged: false,
    },
    {
      name: 'a pruned id added again is not "already denied"',
      current: [entry(1, -1)],
      added: entry(1, 2),
      entries: [entry(1, 2)],
      alreadyDenied: false,
      pruned: [id(1)],
      unchanged: false,
    },
    {
      name: 'does not add an id whose credentials are already dead',
      current: [entry(2, 1)],
      added: entry(1, -0.5),
      entries: [entry(2, 1)],
      alreadyDenied: false,
      pruned: [],
      unchanged: true,
    },
    {
      name: 'merges duplicates in the stored list, later until winning',
      current: [entry(2, 1), entry(2, 3)],
      added: entry(1, 2),
      entries: [entry(1, 2), entry(2, 3)],
      alreadyDenied: false,
      pruned: [],
      unchanged: false,
    },
    {
      name: 'collapsing stored duplicates is a change even for a repeat',
      current: [entry(1, 2), entry(1, 2)],
      added: entry(1, 2),
      entries: [entry(1, 2)],
      alreadyDenied: true,
      pruned: [],
      unchanged: false,
    },
  ];

  it.each(cases)('$name', ({ current, added, entries, alreadyDenied, pruned, unchanged }) => {
    // Act
    const next = nextDenyList(current, added, { now: NOW });
    // Assess
    expect(next).toEqual({ entries, alreadyDenied, pruned, unchanged });
  });

  it('normalises the until to canonical ISO-8601 UTC', () => {
    const next = nextDenyList([], { sessionId: id(1), until: '2026-01-01T14:00:00+01:00' }, { now: NOW });
    expect(next.entries).toEqual([{ sessionId: id(1), until: '2026-01-01T13:00:00.000Z' }]);
  });

  it.each([
    ['an id that is not a session id', { sessionId: 'x"],"Effect":"Allow', until: at(1) }],
    ['an upper-case id', { sessionId: id(1).toUpperCase().replace(/0/g, 'A'), until: at(1) }],
    ['an unreadable until', { sessionId: id(1), until: 'tomorrow' }],
  ])('refuses %s', (_name, added) => {
    expect(() => nextDenyList([], added, { now: NOW })).toThrow(InvalidInputError);
  });

  describe('size limit', () => {
    /** As many live entries as fit in `maxChars` (each id costs its quoted length plus a comma). */
    const fill = (maxChars: number): DenyEntry[] => {
      const entries: DenyEntry[] = [];
      while (policySize(renderDenyPolicy([...entries, entry(entries.length + 100, 1)])) <= maxChars) {
        entries.push(entry(entries.length + 100, 1));
      }
      return entries;
    };

    it('fits about 290 revoked sessions in the role quota of 10,240 characters', () => {
      const full = fill(IAM_ROLE_INLINE_POLICY_MAX_CHARS);
      expect(full.length).toBeGreaterThan(280);
      expect(policySize(renderDenyPolicy(full))).toBeLessThanOrEqual(IAM_ROLE_INLINE_POLICY_MAX_CHARS);
    });

    it('never refuses a new id for room: the list keeps every live id', () => {
      const full = fill(1000);
      const next = nextDenyList(full, entry(1, 2), { now: NOW });
      expect(ids(next.entries)).toEqual([...ids(full), id(1)]);
    });

    it('makes room by pruning expired ids only', () => {
      // Prepare: the same full list, but one of its ids is past its until
      const full = fill(1000);
      const [first, ...rest] = full;
      const withOneExpired = [{ sessionId: String(first?.sessionId), until: at(-1) }, ...rest];
      // Act
      const next = nextDenyList(withOneExpired, entry(1, 2), { now: NOW });
      // Assess
      expect(next.pruned).toEqual([first?.sessionId]);
      expect(ids(next.entries)).toEqual([...ids(rest), id(1)]);
      expect(planDenyPolicy(next.entries, { now: NOW, maxChars: 1000 }).mode).toBe('session-tag');
    });

    it('still accepts a repeat of an id already in a full list', () => {
      const full = fill(1000);
      const next = nextDenyList(full, full[0] ?? entry(0, 1), { now: NOW });
      expect(next).toMatchObject({ alreadyDenied: true, unchanged: true });
    });
  });
});

describe('planDenyPolicy', () => {
  const HOUR = 3_600_000;
  const SPACING = 5000;
  /** `count` entries revoked 5 s apart up to now, oldest first, each kept 1 h + margin past its revocation. */
  const revokedEvery5s = (count: number): DenyEntry[] =>
    Array.from({ length: count }, (_, n) => ({
      sessionId: id(1000 + n),
      until: new Date(
        NOW.getTime() - (count - n) * SPACING + HOUR + DENY_MARGIN_SECONDS * 1000,
      ).toISOString(),
    }));
  /** Whether the policy denies a credential carrying `sessionId` issued at `issuedAt`, as IAM evaluates it. */
  const denies = (plan: ReturnType<typeof planDenyPolicy>, sessionId: string, issuedAt: Date): boolean =>
    plan.document.Statement.some((statement) =>
      'StringEquals' in statement.Condition
        ? (statement.Condition.StringEquals[`aws:PrincipalTag/${SESSION_TAG_KEY}`] ?? []).includes(sessionId)
        : issuedAt.getTime() < Date.parse(statement.Condition.DateLessThan['aws:TokenIssueTime']),
    );

  it('lists every id while they fit (session-tag mode)', () => {
    const plan = planDenyPolicy(revokedEvery5s(10), {
      now: NOW,
      maxChars: IAM_ROLE_INLINE_POLICY_MAX_CHARS,
    });
    expect(plan).toMatchObject({ mode: 'session-tag', coveredByIssueTime: [] });
    expect(plan.listed).toHaveLength(10);
    expect(plan.tokenIssuedBefore).toBeUndefined();
  });

  it('past the budget, covers the oldest ids by a token-issue-time cut and lists the rest, within the budget', () => {
    // Prepare: 400 live revocations, 7,740 characters left beside a 2,500-character policy.
    const entries = revokedEvery5s(400);
    const maxChars = IAM_ROLE_INLINE_POLICY_MAX_CHARS - 2500;
    // Act
    const plan = planDenyPolicy(entries, { now: NOW, maxChars });
    // Assess
    expect(plan.mode).toBe('token-issue-time');
    expect(plan.size).toBeLessThanOrEqual(maxChars);
    expect(plan.size).toBe(policySize(plan.document));
    expect([...plan.coveredByIssueTime, ...plan.listed]).toEqual(ids(entries));
    // The oldest are covered, and the plan is tight: one more listed id (35 characters) would not fit, so the
    // cut is as early as it can be.
    expect(plan.coveredByIssueTime[0]).toBe(entries[0]?.sessionId);
    expect(plan.size).toBeGreaterThan(maxChars - 35);
    // Every revoked session's credentials (issued at the latest just before its revocation) are denied.
    for (const [n, entry] of entries.entries()) {
      const revokedAt = new Date(NOW.getTime() - (entries.length - n) * SPACING);
      expect(denies(plan, entry.sessionId, new Date(revokedAt.getTime() - 1)), entry.sessionId).toBe(true);
    }
    // A colleague's credential issued after the cut is not.
    const cut = Date.parse(plan.tokenIssuedBefore ?? '');
    expect(cut).toBeLessThanOrEqual(NOW.getTime());
    expect(denies(plan, id(9999), new Date(cut + 1))).toBe(false);
  });

  it('writes the cut as the console does: DateLessThan on aws:TokenIssueTime, Deny *', () => {
    const plan = planDenyPolicy(revokedEvery5s(400), { now: NOW, maxChars: 2000 });
    expect(plan.document.Statement[0]).toEqual({
      Sid: 'DenySentinelCredentialsIssuedBefore',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { DateLessThan: { 'aws:TokenIssueTime': plan.tokenIssuedBefore } },
    });
  });

  it('never cuts in the future (credentials vended to others now stay valid)', () => {
    const future = [1, 2, 3, 4, 5].map((n) => ({
      sessionId: id(n),
      until: new Date(NOW.getTime() + 3 * HOUR).toISOString(),
    }));
    const plan = planDenyPolicy(future, { now: NOW, maxChars: 250 });
    expect(plan).toMatchObject({
      mode: 'token-issue-time',
      listed: [],
      tokenIssuedBefore: NOW.toISOString(),
    });
  });

  it('returns to session-tag mode once the covered entries are pruned', () => {
    const entries = revokedEvery5s(400);
    const later = new Date(NOW.getTime() + HOUR + DENY_MARGIN_SECONDS * 1000 - 60_000);
    const plan = planDenyPolicy(entries, { now: later, maxChars: IAM_ROLE_INLINE_POLICY_MAX_CHARS - 2500 });
    expect(plan.mode).toBe('session-tag');
    expect(plan.listed.length).toBeGreaterThan(0);
    expect(plan.listed.length).toBeLessThan(20);
  });

  it('renders a list nobody matches when nothing is live (IAM needs a value)', () => {
    expect(planDenyPolicy([], { now: NOW, maxChars: 1000 }).document.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:PrincipalTag/SentinelSessionID': ['none'] },
    });
  });

  it('fails, naming the room left, only when the cut alone does not fit', () => {
    expect(() => planDenyPolicy(revokedEvery5s(3), { now: NOW, maxChars: 100 })).toThrow(DenyListFullError);
    expect(() => planDenyPolicy(revokedEvery5s(3), { now: NOW, maxChars: 100 })).toThrow(
      /100 characters left/,
    );
  });
});
