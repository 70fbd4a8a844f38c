/**
 * Who may see and end which session through the operator API (docs/design.md, "The operator API").
 *
 * A session is the caller's own when it was vended to the same principal ARN: the rule refresh already
 * uses, and the only one that does not trust a name someone else may choose (a role session name under an
 * ordinary role, a federated user's name). An admin (the access policy's `admins`) may see and revoke any.
 * Without a readable policy nobody is known to be an admin: own sessions still work, anything else is
 * refused as unknowable rather than answered as "not found".
 */
import type { CallerIdentity } from './identity.js';
import type { Session } from './session.js';

export type OperatorRole = 'admin' | 'owner-only' | 'unknown';

export interface Operator {
  readonly caller: CallerIdentity;
  /** `unknown`: the access policy could not be read, so admin rights cannot be checked. */
  readonly role: OperatorRole;
}

/** What the caller may do with one session: act on it, not see it at all, or cannot be told now. */
export type SessionAccess = 'granted' | 'hidden' | 'undecidable';

export const accessTo = (
  operator: Operator,
  session: Pick<Session, 'principalArn'> | undefined,
): SessionAccess => {
  if (operator.role === 'admin') return 'granted';
  if (session !== undefined && session.principalArn === operator.caller.principalArn) return 'granted';
  // Absent or someone else's: the same answer either way, so existence is never revealed.
  return operator.role === 'unknown' ? 'undecidable' : 'hidden';
};

export const REVOKE_REASON_MAX_LENGTH = 256;
// Control characters and line or paragraph separators would forge line breaks, and invisible format
// characters (bidi overrides such as U+202E, zero-width ones) would reorder or hide text, in logs, Slack and
// Teams notifications and the console. Lone surrogates are not text at all.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/** Why a revocation reason is unacceptable, or undefined when it is fine. Reasons are required. */
export const revokeReasonProblem = (reason: unknown): string | undefined => {
  if (typeof reason !== 'string') return '"reason" is required and must be a string';
  if (reason.trim().length === 0) return '"reason" must not be blank';
  if ([...reason].length > REVOKE_REASON_MAX_LENGTH) {
    return `"reason" must be at most ${REVOKE_REASON_MAX_LENGTH} characters`;
  }
  if (UNPRINTABLE.test(reason)) {
    return '"reason" must not contain control, format (bidi, zero-width) or separator characters';
  }
  return undefined;
};

/** A canonical user as the byUser index keys it: a name, or `<role name>/<session name>` (identity.ts). */
const CANONICAL_USER = /^[\w+=,.@-]{1,64}(?:\/[\w+=,.@-]{2,64})?$/;

export const isCanonicalUser = (value: unknown): value is string =>
  typeof value === 'string' && CANONICAL_USER.test(value);

/** What `POST /v1/users/{user}/revoke` answers (docs/design.md, "The operator API"); the CLI prints it. */
export interface RevokeUserReport {
  readonly user: string;
  readonly revoked: number;
  readonly alreadyTerminal: number;
  readonly failed: number;
  /** The sessions whose revocation failed (store errors), to retry or inspect. */
  readonly failedSessionIds: readonly string[];
  /**
   * True once a listing of the user found no active session left. False when the run stopped on its time
   * budget, when a revocation failed, or when the index kept showing active sessions: repeat it.
   */
  readonly complete: boolean;
}
