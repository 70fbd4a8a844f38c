/**
 * The revocation reconciler's comparison (docs/design.md, "Reconciler"): does the deny list of a revoked (or
 * force-expired) session's role, as IAM last accepted it, deny the session for as long as its credentials can
 * live? Pure: the use case reads the rows and re-enforces only what is missing.
 */
import { DENY_MARGIN_SECONDS, type DenyEntry, denyUntil } from './deny-list.js';
import { CREDENTIAL_SAFETY_MARGIN_SECONDS, STS_ROLE_CHAINING_MAX_DURATION_SECONDS } from './durations.js';
import type { Session } from './session.js';

/** After its enforcement began, how long a session's credentials may still be live: the chaining hour plus the deny margin. */
export const ENFORCEMENT_WINDOW_SECONDS = STS_ROLE_CHAINING_MAX_DURATION_SECONDS + DENY_MARGIN_SECONDS;

type EnforcementFields = Pick<Session, 'status' | 'expiresAt' | 'revokedAt' | 'expiredAt' | 'expiredReason'>;

/**
 * Whether an expiry leaves credentials that may still be alive, so it must be enforced like a revocation.
 * Every credential vended for the session ends by the row's `expiresAt` minus the safety margin (each is
 * bounded by the expiresAt of its issue, and expiresAt only moves forward). An operator's forced expiry is
 * always enforced; any other expiry only when it happened before that end (the store never writes such an
 * expiry for workflow, sweeper or lazy: a row that says so was written by hand and is enforced, not trusted).
 */
export const expiryNeedsEnforcement = (
  session: Pick<Session, 'expiresAt'>,
  reason: string,
  endedAt: Date,
): boolean => {
  if (reason === 'forced') return true;
  const credentialsEnd = Date.parse(session.expiresAt) - CREDENTIAL_SAFETY_MARGIN_SECONDS * 1000;
  // An unreadable expiresAt cannot show the credentials are gone: enforce.
  return !(endedAt.getTime() >= credentialsEnd);
};

const isEarlyExpiry = (session: EnforcementFields): boolean =>
  session.status === 'expired' &&
  (session.expiredAt === undefined
    ? session.expiredReason === 'forced'
    : expiryNeedsEnforcement(session, session.expiredReason ?? 'forced', new Date(session.expiredAt)));

/** Whether the session must be on its role's deny list at all: revoked, or expired early (expiryNeedsEnforcement). */
export const needsEnforcement = (session: EnforcementFields): boolean =>
  session.status === 'revoked' || isEarlyExpiry(session);

/**
 * When the session's deny began: its revocation, or its early expiry (credentials vended before it may live
 * up to an hour). Undefined for an active session, for an expiry at its end (no credential outlives it) and
 * for a terminal row without the time of its end.
 */
export const enforcementSince = (session: EnforcementFields): string | undefined => {
  if (session.status === 'revoked') return session.revokedAt;
  return isEarlyExpiry(session) ? session.expiredAt : undefined;
};

/**
 * How long the fan-out has to enforce a revocation before the reconciler steps in: it normally takes seconds,
 * and healing one still in flight would report a failure that did not happen.
 */
export const FAN_OUT_GRACE_SECONDS = 60;

/** Whether the fan-out of a session enforced since `since` may still be under way at `now`. */
export const fanOutMayBeRunning = (since: string, now: Date): boolean =>
  Date.parse(since) > now.getTime() - FAN_OUT_GRACE_SECONDS * 1000;

/** The earliest enforcement start whose credentials may still be live at `now`; anything older has lapsed. */
export const enforceableSince = (now: Date): Date =>
  new Date(now.getTime() - ENFORCEMENT_WINDOW_SECONDS * 1000);

/** Newest enforcement first, ties broken by id: the order the store lists enforceable sessions in. */
export const newestEnforcementFirst = (
  a: { readonly since: string; readonly sessionId: string },
  b: { readonly since: string; readonly sessionId: string },
): number => {
  if (a.since !== b.since) return a.since < b.since ? 1 : -1;
  return a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0;
};

/** What the reconciler checks and, if missing, re-enforces. */
export interface EnforcementTarget {
  readonly sessionId: string;
  readonly roleArn: string;
  readonly expiresAt: string;
  /** ISO-8601 UTC: the revocation, or the forced expiry. */
  readonly since: string;
}

/**
 * The target for a session that needs enforcement, else undefined. A revoked row without its revocation time
 * (written by hand) takes `now`: later is fail-closed, it only demands a longer deny.
 */
export const enforcementTargetOf = (session: Session, now: Date): EnforcementTarget | undefined => {
  if (!needsEnforcement(session)) return undefined;
  return {
    sessionId: session.sessionId,
    roleArn: session.roleArn,
    expiresAt: session.expiresAt,
    since: enforcementSince(session) ?? now.toISOString(),
  };
};

/**
 * Until when the session must stay denied: no credential is issued after the earlier of its expiry and its
 * enforcement start, and none lives longer than the window after that. The enforcer's own `denyUntil`, with
 * the enforcement start as the enforcement time, so a list the enforcer wrote always satisfies it.
 */
export const requiredDenyUntil = (target: EnforcementTarget): string =>
  denyUntil({ expiresAt: target.expiresAt, revokedAt: target.since, enforcedAt: new Date(target.since) });

/** A role's deny-list row as the reconciler reads it (docs/design.md, "Deny list"). */
export interface DenyListState {
  /** The ids on the list and until when. */
  readonly entries: readonly DenyEntry[];
  /** IAM accepted the policy rendered from exactly these entries (the row's enforcedVersion is its version). */
  readonly enforced: boolean;
  /** The role-wide cut of the policy IAM accepted (token-issue-time mode), when there is one. */
  readonly tokenIssuedBefore?: string;
}

export type MissingReason =
  /** The id is not on the role's list (the fan-out never wrote it, or it failed first). */
  | 'not-listed'
  /** Listed, but with an `until` before the credentials can all be dead. */
  | 'listed-too-briefly'
  /** Listed, but IAM has not accepted the policy of this list (a put that failed or is in flight). */
  | 'not-accepted-by-iam';

export type Coverage =
  /** No credential of the session can be alive any more: nothing to do. */
  | { readonly kind: 'lapsed'; readonly requiredUntil: string }
  /** On the list IAM accepted, until late enough (listed by id, or under the cut: the plan covers every entry). */
  | { readonly kind: 'listed'; readonly requiredUntil: string }
  /** Not listed, but the role-wide cut IAM accepted denies every credential the session can have. */
  | { readonly kind: 'token-issue-time'; readonly requiredUntil: string; readonly tokenIssuedBefore: string }
  | { readonly kind: 'missing'; readonly requiredUntil: string; readonly reason: MissingReason };

/**
 * How the role's deny list covers the target at `now`. Only what IAM accepted counts: entries of a version IAM
 * has not accepted cover nothing, since the policy IAM holds may predate them.
 */
export const coverageOf = (target: EnforcementTarget, state: DenyListState, now: Date): Coverage => {
  const requiredUntil = requiredDenyUntil(target);
  const required = Date.parse(requiredUntil);
  if (required <= now.getTime()) return { kind: 'lapsed', requiredUntil };
  const listed = state.entries.filter((entry) => entry.sessionId === target.sessionId);
  const longEnough = listed.some((entry) => Date.parse(entry.until) >= required);
  if (state.enforced && longEnough) return { kind: 'listed', requiredUntil };
  // The cut denies credentials issued before it; this session's were all issued by `required` minus the
  // credential maximum (the margin included), the bound the enforcer's own cut is planned with.
  const cut = state.enforced ? state.tokenIssuedBefore : undefined;
  if (cut !== undefined && Date.parse(cut) >= required - STS_ROLE_CHAINING_MAX_DURATION_SECONDS * 1000) {
    return { kind: 'token-issue-time', requiredUntil, tokenIssuedBefore: cut };
  }
  const reason: MissingReason =
    listed.length === 0 ? 'not-listed' : longEnough ? 'not-accepted-by-iam' : 'listed-too-briefly';
  return { kind: 'missing', requiredUntil, reason };
};
