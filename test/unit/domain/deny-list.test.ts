import { describe, expect, it } from 'vitest';
import { SESSION_TAG_KEY as STS_SESSION_TAG_KEY } from '../../../src/adapters/sts-credential-issuer.js';
import {
  type DenyEntry,
  DenyListFullError,
  denyUntil,
  IAM_ROLE_INLINE_POLICY_MAX_CHARS,
  nextDenyList,
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
  it('keeps an id one role-chaining hour past the session expiry', () => {
    expect(denyUntil('2026-01-01T12:00:00.000Z')).toBe('2026-01-01T13:00:00.000Z');
  });

  it('refuses an unreadable expiry', () => {
    expect(() => denyUntil('soon')).toThrow(InvalidInputError);
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

    it('refuses a new id that would not fit, naming the limit, instead of evicting a live one', () => {
      // Prepare
      const full = fill(1000);
      // Act / Assess
      expect(() => nextDenyList(full, entry(1, 2), { now: NOW, maxChars: 1000 })).toThrow(DenyListFullError);
      expect(() => nextDenyList(full, entry(1, 2), { now: NOW, maxChars: 1000 })).toThrow(/limit is 1000/);
    });

    it('makes room by pruning expired ids only', () => {
      // Prepare: the same full list, but one of its ids is past its until
      const full = fill(1000);
      const [first, ...rest] = full;
      const withOneExpired = [{ sessionId: String(first?.sessionId), until: at(-1) }, ...rest];
      // Act
      const next = nextDenyList(withOneExpired, entry(1, 2), { now: NOW, maxChars: 1000 });
      // Assess
      expect(next.pruned).toEqual([first?.sessionId]);
      expect(ids(next.entries)).toEqual([...ids(rest), id(1)]);
      expect(policySize(renderDenyPolicy(next.entries))).toBeLessThanOrEqual(1000);
    });

    it('still accepts a repeat of an id already in a full list', () => {
      const full = fill(1000);
      const next = nextDenyList(full, full[0] ?? entry(0, 1), { now: NOW, maxChars: 1000 });
      expect(next).toMatchObject({ alreadyDenied: true, unchanged: true });
    });
  });
});
