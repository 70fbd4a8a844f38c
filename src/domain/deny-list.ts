/**
 * The deny list that makes a revocation bite (docs/design.md, "Revocation enforcement"). STS credentials cannot be
 * recalled, but every credential vended carries the session tag SentinelSessionID=<sessionId>, which IAM
 * exposes as `aws:PrincipalTag/SentinelSessionID` on every request those credentials make. One inline
 * policy on the profile's role denies everything to the revoked ids.
 *
 * An id is kept until no credential carrying its tag can still be alive (`until`), then pruned, so the
 * policy stays within IAM's size quota. A live id is never dropped to make room: a full list is an error.
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

/** The deny list has no room for another live id within the policy size quota. */
export class DenyListFullError extends DomainError {
  override readonly name = 'DenyListFullError';
  readonly code = 'DenyListFull';
}

export interface DenyEntry {
  readonly sessionId: string;
  /** ISO-8601 UTC: after this instant the id may be pruned. */
  readonly until: string;
}

export interface DenyPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly [
    {
      readonly Sid: string;
      readonly Effect: 'Deny';
      readonly Action: '*';
      readonly Resource: '*';
      readonly Condition: { readonly StringEquals: Readonly<Record<string, readonly string[]>> };
    },
  ];
}

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
 * `until` for a revoked session. A vended credential ends by the session's expiresAt; one chained from it
 * lives at most STS's role-chaining cap more. Past that, nothing carrying the tag is alive.
 */
export const denyUntil = (expiresAt: string): string =>
  new Date(millis(expiresAt, 'expiresAt') + STS_ROLE_CHAINING_MAX_DURATION_SECONDS * 1000).toISOString();

const byUntilThenId = (a: DenyEntry, b: DenyEntry): number =>
  Date.parse(a.until) - Date.parse(b.until) || (a.sessionId < b.sessionId ? -1 : 1);

/** The policy denying every action to principals tagged with one of the ids. */
export const renderDenyPolicy = (entries: readonly DenyEntry[]): DenyPolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DenyRevokedSentinelSessions',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: {
          [`aws:PrincipalTag/${SESSION_TAG_KEY}`]: [...new Set(entries.map((e) => e.sessionId))].sort(),
        },
      },
    },
  ],
});

/** Size as IAM counts it: characters, whitespace excluded. */
export const policySize = (document: DenyPolicyDocument): number =>
  JSON.stringify(document).replace(/\s/g, '').length;

/**
 * The deny list after adding `added` at `now`: duplicates merged (the later `until` wins), entries past
 * their `until` pruned (the added one too: its credentials are already dead). Throws DenyListFullError
 * when the rendered policy would exceed `maxChars`, rather than evicting an id that is still live.
 */
export const nextDenyList = (
  current: readonly DenyEntry[],
  added: DenyEntry,
  options: { readonly now: Date; readonly maxChars?: number },
): NextDenyList => {
  if (!isSessionId(added.sessionId)) {
    throw new InvalidInputError(`sessionId must be 32 lowercase hex characters, got ${added.sessionId}`);
  }
  const addedUntil = millis(added.until, 'until');
  const now = options.now.getTime();
  const live = new Map<string, DenyEntry>();
  const pruned: string[] = [];
  for (const entry of current) {
    if (Date.parse(entry.until) <= now || Number.isNaN(Date.parse(entry.until))) {
      pruned.push(entry.sessionId);
      continue;
    }
    const seen = live.get(entry.sessionId);
    if (!seen || Date.parse(seen.until) < Date.parse(entry.until)) live.set(entry.sessionId, entry);
  }
  const existing = live.get(added.sessionId);
  const alreadyDenied = existing !== undefined;
  const grows = addedUntil > now && (!existing || Date.parse(existing.until) < addedUntil);
  if (grows) {
    live.set(added.sessionId, { sessionId: added.sessionId, until: new Date(addedUntil).toISOString() });
  }
  const entries = [...live.values()].sort(byUntilThenId);
  const maxChars = options.maxChars ?? IAM_ROLE_INLINE_POLICY_MAX_CHARS;
  const size = policySize(renderDenyPolicy(entries));
  if (grows && size > maxChars) {
    throw new DenyListFullError(
      `denying session ${added.sessionId} needs a ${size}-character policy; the limit is ${maxChars} ` +
        `with ${entries.length - 1} live revoked sessions already denied`,
    );
  }
  return {
    entries,
    alreadyDenied,
    pruned,
    // Duplicates in `current` collapse, so a shorter list is a change too.
    unchanged: !grows && entries.length === current.length,
  };
};
