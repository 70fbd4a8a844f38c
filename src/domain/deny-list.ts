/**
 * The deny list that makes a revocation bite (docs/design.md, "Revocation enforcement"). STS credentials cannot be
 * recalled, but every credential vended carries the session tag SentinelSessionID=<sessionId>, which IAM
 * exposes as `aws:PrincipalTag/SentinelSessionID` on every request those credentials make. One inline
 * policy on the profile's role denies everything to the revoked ids.
 *
 * An id is kept until no credential carrying its tag can still be alive (`until`), then pruned. The list
 * never refuses an id: when the per-session policy would not fit the role's inline-policy quota, the oldest
 * entries are covered instead by one role-wide deny of every credential issued before an instant
 * (`aws:TokenIssueTime`, what the IAM console's "Revoke active sessions" writes), and the policy returns to
 * per-session entries alone once pruning makes room (`planDenyPolicy`).
 */
import { STS_ROLE_CHAINING_MAX_DURATION_SECONDS } from './durations.js';
import { DomainError, InvalidInputError } from './errors.js';
import { isSessionId } from './ids.js';

/** Same key as the STS adapter's SESSION_TAG_KEY (a unit test pins them together). */
export const SESSION_TAG_KEY = 'SentinelSessionID';

/** The inline policy's name on each profile role. */
export const DENY_POLICY_NAME = 'SentinelRevokedSessions';

/** IAM: all inline policies of one role together, in non-whitespace characters. */
export const IAM_ROLE_INLINE_POLICY_MAX_CHARS = 10_240;

/**
 * Not even the smallest deny policy (one role-wide token-issue-time statement) fits beside the role's other
 * inline policies: IAM has no room at all, so nothing can be enforced on this role.
 */
export class DenyListFullError extends DomainError {
  override readonly name = 'DenyListFullError';
  readonly code = 'DenyListFull';
}

export interface DenyEntry {
  readonly sessionId: string;
  /** ISO-8601 UTC: after this instant the id may be pruned. */
  readonly until: string;
}

export interface DenyStatement {
  readonly Sid: string;
  readonly Effect: 'Deny';
  readonly Action: '*';
  readonly Resource: '*';
  readonly Condition:
    | { readonly StringEquals: Readonly<Record<string, readonly string[]>> }
    | { readonly DateLessThan: { readonly 'aws:TokenIssueTime': string } };
}

export interface DenyPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly [DenyStatement, ...DenyStatement[]];
}

/**
 * How the policy denies: `session-tag` lists every revoked id; `token-issue-time` also denies every credential
 * of the role issued before an instant, covering the oldest revoked ids that no longer fit in the list.
 */
export const DENY_MODES = ['session-tag', 'token-issue-time'] as const;
export type DenyMode = (typeof DENY_MODES)[number];

/**
 * Beyond the credential maximum, how long an id stays listed: a refresh that passed its check just before the
 * revocation still gets its credentials from STS a moment later, a credential may be chained from the
 * revoked one until the deny has propagated, and IAM takes seconds to minutes to apply a policy.
 */
export const DENY_MARGIN_SECONDS = 300;

export interface NextDenyList {
  /** Live entries, soonest `until` first, then by id (deterministic). */
  readonly entries: readonly DenyEntry[];
  /** The id was already denied (live) before this change. */
  readonly alreadyDenied: boolean;
  /** Entries dropped because their `until` has passed. */
  readonly pruned: readonly string[];
  /** Nothing to write: the id was already there with an `until` at least as late, and nothing was pruned. */
  readonly unchanged: boolean;
}

const millis = (value: string, what: string): number => {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidInputError(`${what} must be an ISO-8601 instant, got ${value}`);
  return ms;
};

/**
 * `until` for a revoked session: no credential carrying its tag is alive after it. Every credential vended for
 * the session ends by its expiresAt, and none is issued after the revocation (plus the margin above), so
 * the last one issued lives at most STS's role-chaining cap past the earlier of the two. `enforcedAt` (when
 * the enforcer runs, never before the revocation) stands in for the revocation time when the row's is not
 * at hand: later is safe, it only keeps the id a little longer.
 */
export const denyUntil = (input: {
  readonly expiresAt: string;
  readonly enforcedAt: Date;
  readonly revokedAt?: string;
}): string => {
  const expires = millis(input.expiresAt, 'expiresAt');
  const revoked =
    input.revokedAt === undefined ? input.enforcedAt.getTime() : millis(input.revokedAt, 'revokedAt');
  const lastIssued = Math.min(expires, Math.max(revoked, input.enforcedAt.getTime()));
  return new Date(
    lastIssued + (STS_ROLE_CHAINING_MAX_DURATION_SECONDS + DENY_MARGIN_SECONDS) * 1000,
  ).toISOString();
};

const byUntilThenId = (a: DenyEntry, b: DenyEntry): number =>
  Date.parse(a.until) - Date.parse(b.until) || (a.sessionId < b.sessionId ? -1 : 1);

/** Session ids are 32 hex characters: this matches none (IAM needs a value in the list). */
const NO_SESSION = 'none';

const sessionTagStatement = (sessionIds: readonly string[]): DenyStatement => ({
  Sid: 'DenyRevokedSentinelSessions',
  Effect: 'Deny',
  Action: '*',
  Resource: '*',
  Condition: {
    StringEquals: {
      [`aws:PrincipalTag/${SESSION_TAG_KEY}`]:
        sessionIds.length > 0 ? [...new Set(sessionIds)].sort() : [NO_SESSION],
    },
  },
});

/** What the IAM console's "Revoke active sessions" writes (AWSRevokeOlderSessions), under our own Sid. */
const tokenIssueTimeStatement = (issuedBefore: string): DenyStatement => ({
  Sid: 'DenySentinelCredentialsIssuedBefore',
  Effect: 'Deny',
  Action: '*',
  Resource: '*',
  Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
});

/** The policy denying every action to principals tagged with one of the ids. */
export const renderDenyPolicy = (entries: readonly DenyEntry[]): DenyPolicyDocument => ({
  Version: '2012-10-17',
  Statement: [sessionTagStatement(entries.map((e) => e.sessionId))],
});

/** Size as IAM counts it: characters, whitespace excluded. */
export const policySize = (document: DenyPolicyDocument): number =>
  JSON.stringify(document).replace(/\s/g, '').length;

/**
 * The deny list after adding `added` at `now`: duplicates merged (the later `until` wins), entries past
 * their `until` pruned (the added one too: its credentials are already dead). It never refuses an id for
 * room: `planDenyPolicy` decides how the list is rendered within the quota.
 */
export const nextDenyList = (
  current: readonly DenyEntry[],
  added: DenyEntry,
  options: { readonly now: Date },
): NextDenyList => {
  if (!isSessionId(added.sessionId)) {
    throw new InvalidInputError(`sessionId must be 32 lowercase hex characters, got ${added.sessionId}`);
  }
  const addedUntil = millis(added.until, 'until');
  const now = options.now.getTime();
  const { entries: kept, pruned } = pruneDenyList(current, options.now);
  const live = new Map(kept.map((entry) => [entry.sessionId, entry]));
  const existing = live.get(added.sessionId);
  const alreadyDenied = existing !== undefined;
  const grows = addedUntil > now && (!existing || Date.parse(existing.until) < addedUntil);
  if (grows) {
    live.set(added.sessionId, { sessionId: added.sessionId, until: new Date(addedUntil).toISOString() });
  }
  const entries = [...live.values()].sort(byUntilThenId);
  return {
    entries,
    alreadyDenied,
    pruned,
    // Duplicates in `current` collapse, so a shorter list is a change too.
    unchanged: !grows && entries.length === current.length,
  };
};

/** The live entries at `now` (duplicates merged, the later `until` wins), soonest until first, and the pruned ids. */
export const pruneDenyList = (
  current: readonly DenyEntry[],
  now: Date,
): { readonly entries: readonly DenyEntry[]; readonly pruned: readonly string[] } => {
  const live = new Map<string, DenyEntry>();
  const pruned: string[] = [];
  for (const entry of current) {
    const until = Date.parse(entry.until);
    if (Number.isNaN(until) || until <= now.getTime()) {
      pruned.push(entry.sessionId);
      continue;
    }
    const seen = live.get(entry.sessionId);
    if (!seen || Date.parse(seen.until) < until) live.set(entry.sessionId, entry);
  }
  return { entries: [...live.values()].sort(byUntilThenId), pruned };
};

export interface DenyPolicyPlan {
  readonly mode: DenyMode;
  readonly document: DenyPolicyDocument;
  /** Characters as IAM counts them. */
  readonly size: number;
  /** Ids listed one by one. */
  readonly listed: readonly string[];
  /** token-issue-time mode: credentials of the role issued before this instant are denied. */
  readonly tokenIssuedBefore?: string;
  /** token-issue-time mode: the ids covered by that instant instead of being listed. */
  readonly coveredByIssueTime: readonly string[];
}

/**
 * The instant before which every credential carrying the tag of an entry was issued. `until` is that last
 * issue plus the credential maximum plus the margin, so `until − maximum` is at or after it (the margin
 * included, which also covers an entry written as `expiresAt + maximum` by earlier versions). Never later
 * than `now`: a cut in the future would deny credentials vended to others in between.
 */
const issuedBeforeOf = (entry: DenyEntry, now: Date): number =>
  Math.min(Date.parse(entry.until) - STS_ROLE_CHAINING_MAX_DURATION_SECONDS * 1000, now.getTime());

/**
 * How the live `entries` are denied within `maxChars`. All listed (`session-tag`) when they fit. Otherwise
 * the oldest k entries (soonest `until`) are covered by one `aws:TokenIssueTime` cut at the latest of their
 * issue bounds, and the rest listed, with k the least that fits: the cut is as early as possible, so it
 * denies as few other credentials of the role as it can, and it lapses with the entries it covers.
 * Throws DenyListFullError only when the cut alone does not fit.
 */
export const planDenyPolicy = (
  entries: readonly DenyEntry[],
  options: { readonly now: Date; readonly maxChars: number },
): DenyPolicyPlan => {
  const { entries: live } = pruneDenyList(entries, options.now);
  const listedDocument = renderDenyPolicy(live);
  const listedSize = policySize(listedDocument);
  if (listedSize <= options.maxChars) {
    return {
      mode: 'session-tag',
      document: listedDocument,
      size: listedSize,
      listed: live.map((e) => e.sessionId),
      coveredByIssueTime: [],
    };
  }
  const planFor = (covered: number): DenyPolicyPlan => {
    const cut = live
      .slice(0, covered)
      .reduce((latest, e) => Math.max(latest, issuedBeforeOf(e, options.now)), 0);
    const rest = live.slice(covered);
    const tokenIssuedBefore = new Date(cut).toISOString();
    const document: DenyPolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        tokenIssueTimeStatement(tokenIssuedBefore),
        ...(rest.length > 0 ? [sessionTagStatement(rest.map((e) => e.sessionId))] : []),
      ],
    };
    return {
      mode: 'token-issue-time',
      document,
      size: policySize(document),
      listed: rest.map((e) => e.sessionId),
      tokenIssuedBefore,
      coveredByIssueTime: live.slice(0, covered).map((e) => e.sessionId),
    };
  };
  // Each listed id costs the same, so the size falls with every entry covered: search for the least k.
  let low = 1;
  let high = live.length;
  if (planFor(high).size > options.maxChars) {
    throw new DenyListFullError(
      `even a role-wide token-issue-time deny (${planFor(high).size} characters) exceeds the ${options.maxChars} ` +
        'characters left by the role’s other inline policies',
    );
  }
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (planFor(middle).size <= options.maxChars) high = middle;
    else low = middle + 1;
  }
  return planFor(low);
};
