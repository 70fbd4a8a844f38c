import { InvalidInputError } from './errors.js';
import { ok, type Result, refuse } from './result.js';

/** STS AssumeRole accepts DurationSeconds from 900 (up to 43200 with long-term credentials; see below). */
export const STS_MIN_DURATION_SECONDS = 900;

/**
 * The effective ceiling of every credential we vend. The vend Lambda calls AssumeRole with its own role's
 * (temporary) credentials: that is role chaining, and STS refuses DurationSeconds above 3600 for it ("exceeds
 * the 1 hour session limit for roles assumed by role chaining"), whatever the target role's MaxSessionDuration.
 */
export const STS_ROLE_CHAINING_MAX_DURATION_SECONDS = 3600;

/**
 * Seconds a credential must end before its session does. Our `now` is taken before AssumeRole, and STS counts
 * DurationSeconds from when it issues (one round trip later, on its own clock): without a margin a credential
 * could outlive its session by that latency and skew (invariant 3).
 */
export const CREDENTIAL_SAFETY_MARGIN_SECONDS = 30;

/** The least time a session must have left to be served at all: the STS minimum plus the safety margin. */
export const MIN_SERVABLE_SECONDS = STS_MIN_DURATION_SECONDS + CREDENTIAL_SAFETY_MARGIN_SECONDS;

/**
 * The shortest idle window in which a new session can be served at all: MIN_SERVABLE_SECONDS and one second
 * lost to expiries rounded down to the whole second. A shorter window would refuse every create.
 */
export const MIN_SERVABLE_IDLE_SECONDS = MIN_SERVABLE_SECONDS + 1;

/** How long a session may live: idle window extended by each touch, hard cap from creation. */
export interface SessionPolicy {
  readonly idleTimeoutSeconds: number;
  readonly maxLifetimeSeconds: number;
}

export const DEFAULT_AUDIT_RETENTION_SECONDS = 7 * 24 * 3600;

const addSeconds = (at: Date, seconds: number): Date => new Date(at.getTime() + seconds * 1000);
const isoOf = (at: Date): string => at.toISOString();

/**
 * The instant truncated to its whole second. Session expiries are whole seconds because Step Functions Wait
 * timestamps are truncated to the second: an expiry at hh:mm:ss.500 would be acted on 0.5 s early. Rounding
 * down (never up) keeps every expiry at or before its cap.
 */
export const floorToSecond = (millis: number): Date => new Date(Math.floor(millis / 1000) * 1000);

/** `now + seconds`, truncated to the second: the extension a touch asks the store for. */
export const wholeSecondsAfter = (now: Date, seconds: number): string =>
  isoOf(floorToSecond(now.getTime() + seconds * 1000));

/** A policy must leave room for at least one minimum-length credential. */
export const validatePolicy = (policy: SessionPolicy): SessionPolicy => {
  const { idleTimeoutSeconds, maxLifetimeSeconds } = policy;
  // The two fields by name: a missing one must fail (Object.entries would skip it and `undefined < 900` is
  // false), and a wider config object passed structurally must not fail on its other fields.
  for (const [name, value] of [
    ['idleTimeoutSeconds', idleTimeoutSeconds],
    ['maxLifetimeSeconds', maxLifetimeSeconds],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new InvalidInputError(`${name} must be a positive whole number of seconds, got ${String(value)}`);
    }
  }
  if (idleTimeoutSeconds < STS_MIN_DURATION_SECONDS) {
    throw new InvalidInputError(
      `idleTimeoutSeconds must be at least ${STS_MIN_DURATION_SECONDS} (STS minimum), got ${idleTimeoutSeconds}`,
    );
  }
  if (maxLifetimeSeconds < idleTimeoutSeconds) {
    throw new InvalidInputError(
      `maxLifetimeSeconds (${maxLifetimeSeconds}) must be at least idleTimeoutSeconds (${idleTimeoutSeconds})`,
    );
  }
  return policy;
};

/** The hard cap: no session, however often touched, lives past createdAt + maxLifetime (whole seconds, down). */
export const maxExpiryOf = (createdAt: string, policy: SessionPolicy): string =>
  isoOf(floorToSecond(addSeconds(new Date(createdAt), policy.maxLifetimeSeconds).getTime()));

/** A new session lives one idle window, never past its hard cap (whole seconds, rounded down). */
export const initialExpiry = (createdAt: Date, policy: SessionPolicy): string =>
  isoOf(
    floorToSecond(
      addSeconds(createdAt, Math.min(policy.idleTimeoutSeconds, policy.maxLifetimeSeconds)).getTime(),
    ),
  );

/**
 * Expiry after a touch at `now`: min(now + idle, createdAt + maxLifetime), and never earlier than the
 * current expiry (a touch never shortens a session, e.g. after the idle timeout was lowered). Whole seconds,
 * rounded down, like every expiry (see floorToSecond).
 */
export const touchedExpiry = (
  session: { readonly createdAt: string; readonly expiresAt: string },
  now: Date,
  policy: SessionPolicy,
): string => {
  const cap = new Date(session.createdAt).getTime() + policy.maxLifetimeSeconds * 1000;
  const candidate = Math.min(now.getTime() + policy.idleTimeoutSeconds * 1000, cap);
  const current = new Date(session.expiresAt).getTime();
  return isoOf(floorToSecond(Math.max(candidate, Math.min(current, cap))));
};

/**
 * Whole seconds from `now` until `expiresAt` (0 when past). Rounded down so credentials never outlive it.
 * An unreadable instant counts as no time left (fail closed), never NaN.
 */
export const secondsUntil = (expiresAt: string, now: Date): number => {
  const millis = new Date(expiresAt).getTime() - now.getTime();
  return Number.isFinite(millis) ? Math.max(0, Math.floor(millis / 1000)) : 0;
};

/** True once `expiresAt` is reached. An unreadable instant counts as past (fail closed, invariant 5). */
export const isPast = (expiresAt: string, now: Date): boolean =>
  !(new Date(expiresAt).getTime() > now.getTime());

export type DurationRefusal =
  | {
      readonly kind: 'DurationOutOfRange';
      readonly min: number;
      readonly max: number;
      readonly requested: number;
    }
  | { readonly kind: 'AtMaxLifetime'; readonly remainingSeconds: number };

/**
 * DurationSeconds for AssumeRole (invariant 3): the requested value (default: the profile maximum, itself
 * capped at the role-chaining limit of 3600 s) clamped to what the session has left minus the safety margin.
 * A request outside [900, profileMax] is refused; a session whose time left, less the margin, is under 900 s
 * cannot be served at all: the caller must start a new session.
 */
export const credentialDuration = (input: {
  readonly requestedSeconds?: number | undefined;
  readonly profileMaxSeconds: number;
  readonly expiresAt: string;
  readonly now: Date;
}): Result<number, DurationRefusal> => {
  // Floored: a fractional profile maximum must not make its own default request a non-integer.
  const profileMax = Math.floor(Math.min(input.profileMaxSeconds, STS_ROLE_CHAINING_MAX_DURATION_SECONDS));
  const requested = input.requestedSeconds ?? profileMax;
  if (!Number.isInteger(requested) || requested < STS_MIN_DURATION_SECONDS || requested > profileMax) {
    return refuse({ kind: 'DurationOutOfRange', min: STS_MIN_DURATION_SECONDS, max: profileMax, requested });
  }
  const remainingSeconds = secondsUntil(input.expiresAt, input.now);
  if (remainingSeconds < MIN_SERVABLE_SECONDS) {
    return refuse({ kind: 'AtMaxLifetime', remainingSeconds });
  }
  return ok(Math.min(requested, remainingSeconds - CREDENTIAL_SAFETY_MARGIN_SECONDS));
};

/**
 * The earliest end a session may have and still be served at `now` (MIN_SERVABLE_SECONDS later), rounded up
 * to the whole second so that any session ending at or after it passes credentialDuration.
 */
export const minimumServableEnd = (now: Date): string =>
  new Date(Math.ceil((now.getTime() + MIN_SERVABLE_SECONDS * 1000) / 1000) * 1000).toISOString();

/** DynamoDB TTL (epoch seconds): the row stays for audit `retentionSeconds` after the session's end. */
export const ttlFor = (expiresAt: string, retentionSeconds = DEFAULT_AUDIT_RETENTION_SECONDS): number => {
  const ttl = Math.ceil(new Date(expiresAt).getTime() / 1000) + retentionSeconds;
  // NaN would reach DynamoDB as an invalid number; refuse it here, where the cause is still visible.
  if (!Number.isFinite(ttl)) {
    throw new InvalidInputError(`ttl needs an ISO-8601 expiresAt and finite retention, got ${expiresAt}`);
  }
  return ttl;
};

/** The earlier of two instants, compared as instants (not as strings). */
export const earlierOf = (a: string, b: string): string =>
  new Date(a).getTime() <= new Date(b).getTime() ? a : b;
