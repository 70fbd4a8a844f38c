import {
  DEFAULT_AUDIT_RETENTION_SECONDS,
  earlierOf,
  initialExpiry,
  isPast,
  maxExpiryOf,
  type SessionPolicy,
  touchedExpiry,
  ttlFor,
} from './durations.js';
import type { CallerIdentity } from './identity.js';
import { ok, type Result, refuse } from './result.js';

export const SESSION_STATUSES = ['active', 'revoked', 'expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export type TerminalStatus = Exclude<SessionStatus, 'active'>;

/**
 * Why a session expired: its lifecycle workflow at the hard cap, the sweeper after an idle expiry, a caller
 * found it late, TTL purge, or an operator.
 */
export const EXPIRED_REASONS = ['workflow', 'sweeper', 'lazy', 'ttl', 'forced'] as const;
export type ExpiredReason = (typeof EXPIRED_REASONS)[number];

/** One row of the Sessions table (docs/design.md, "Sessions table"). Timestamps are ISO-8601 UTC. */
export interface Session {
  readonly sessionId: string;
  readonly user: string;
  readonly principalArn: string;
  readonly profile: string;
  readonly roleArn: string;
  readonly sourceIdentity: string;
  readonly status: SessionStatus;
  readonly createdAt: string;
  readonly lastAccessAt: string;
  readonly expiresAt: string;
  /** createdAt + maxLifetime, fixed at creation: the ceiling every touch is checked against. */
  readonly maxExpiresAt: string;
  readonly requestCount: number;
  /** Incremented by every write: optimistic concurrency and a cheap change detector for consumers. */
  readonly version: number;
  readonly revokedAt?: string;
  readonly revokedBy?: string;
  readonly revokedReason?: string;
  readonly expiredAt?: string;
  readonly expiredReason?: ExpiredReason;
  /** Epoch seconds: expiresAt + audit retention; DynamoDB TTL removes the row after that. */
  readonly ttl: number;
}

/** A profile on the allowlist and the role it maps to; a session is served only while its pair is one of them. */
export interface SessionGrant {
  readonly profile: string;
  readonly roleArn: string;
}

export const isGranted = (
  session: Pick<Session, 'profile' | 'roleArn'>,
  grants: readonly SessionGrant[],
): boolean => grants.some((grant) => grant.profile === session.profile && grant.roleArn === session.roleArn);

export const isTerminal = (status: SessionStatus): status is TerminalStatus => status !== 'active';

/** Why a transition was refused. Every refusal names enough for the caller to answer without re-reading. */
export type TransitionRefusal =
  | { readonly kind: 'NotFound' }
  | { readonly kind: 'AlreadyTerminal'; readonly status: TerminalStatus; readonly session: Session }
  | { readonly kind: 'NotOwner'; readonly session: Session }
  | { readonly kind: 'NotGranted'; readonly session: Session }
  /** Even after this touch the session would end before the caller's `minEndsAt`: it is at its hard cap. */
  | { readonly kind: 'AtMaxLifetime'; readonly session: Session }
  | { readonly kind: 'Expired'; readonly session: Session }
  | { readonly kind: 'NotYetExpired'; readonly session: Session };

export type TransitionResult = Result<Session, TransitionRefusal>;

export const newSession = (input: {
  readonly sessionId: string;
  readonly caller: CallerIdentity;
  readonly profile: string;
  readonly roleArn: string;
  readonly sourceIdentity: string;
  readonly policy: SessionPolicy;
  readonly now: Date;
  readonly auditRetentionSeconds?: number;
}): Session => {
  const createdAt = input.now.toISOString();
  const expiresAt = initialExpiry(input.now, input.policy);
  return {
    sessionId: input.sessionId,
    user: input.caller.user,
    principalArn: input.caller.principalArn,
    profile: input.profile,
    roleArn: input.roleArn,
    sourceIdentity: input.sourceIdentity,
    status: 'active',
    createdAt,
    lastAccessAt: createdAt,
    expiresAt,
    maxExpiresAt: maxExpiryOf(createdAt, input.policy),
    requestCount: 1,
    version: 1,
    ttl: ttlFor(expiresAt, input.auditRetentionSeconds ?? DEFAULT_AUDIT_RETENTION_SECONDS),
  };
};

const terminalRefusal = (session: Session): TransitionResult | undefined =>
  isTerminal(session.status)
    ? refuse({ kind: 'AlreadyTerminal', status: session.status, session })
    : undefined;

/** active → revoked. Allowed at any time while active (even past expiresAt: revocation is stronger). */
export const revokeSession = (
  session: Session,
  input: { readonly by: string; readonly reason: string; readonly now: Date },
): TransitionResult =>
  terminalRefusal(session) ??
  ok({
    ...session,
    status: 'revoked',
    revokedAt: input.now.toISOString(),
    revokedBy: input.by,
    revokedReason: input.reason,
    version: session.version + 1,
  });

/** active → expired, only once expiresAt has passed unless `force` (an operator ending it early). */
export const expireSession = (
  session: Session,
  input: { readonly reason: ExpiredReason; readonly now: Date; readonly force?: boolean },
): TransitionResult => {
  const terminal = terminalRefusal(session);
  if (terminal) return terminal;
  if (!input.force && !isPast(session.expiresAt, input.now))
    return refuse({ kind: 'NotYetExpired', session });
  return ok({
    ...session,
    status: 'expired',
    expiredAt: input.now.toISOString(),
    expiredReason: input.reason,
    version: session.version + 1,
  });
};

/**
 * A use of the session by the principal `principalArn` at `now`: refused unless active, owned by the caller and not past expiry;
 * otherwise counts the request and extends expiry within the hard cap (invariant 3).
 */
export const touchSession = (
  session: Session,
  input: {
    /** The caller's full ARN: the owner is the principal, not a name it may have chosen (role session names are). */
    readonly principalArn: string;
    readonly now: Date;
    readonly policy: SessionPolicy;
    readonly auditRetentionSeconds?: number;
    /** When given, the session's (profile, roleArn) must be one of these: the allowlist as it is now. */
    readonly grants?: readonly SessionGrant[];
  },
): TransitionResult => {
  const terminal = terminalRefusal(session);
  if (terminal) return terminal;
  if (session.principalArn !== input.principalArn) return refuse({ kind: 'NotOwner', session });
  if (input.grants && !isGranted(session, input.grants)) return refuse({ kind: 'NotGranted', session });
  if (isPast(session.expiresAt, input.now)) return refuse({ kind: 'Expired', session });
  const expiresAt = touchedExpiry(session, input.now, input.policy);
  const capped = earlierOf(expiresAt, session.maxExpiresAt);
  return ok({
    ...session,
    lastAccessAt: input.now.toISOString(),
    expiresAt: capped,
    requestCount: session.requestCount + 1,
    version: session.version + 1,
    ttl: ttlFor(capped, input.auditRetentionSeconds ?? DEFAULT_AUDIT_RETENTION_SECONDS),
  });
};
