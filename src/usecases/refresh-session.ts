/**
 * POST /v1/sessions/{sessionId}/credentials: new credentials under an existing session.
 *
 * ONE conditional touch is the revocation check (invariant 5: a revoked, expired or unknown session is
 * denied), the ownership check (the caller's principal ARN), the grant check (the session's profile must still
 * be on the allowlist and map to the role it was created with; credentials are always for the stored roleArn)
 * and the extension. A refused touch writes nothing, so a session whose profile changed is neither counted nor
 * extended. After it, AssumeRole and the SessionTouched event run concurrently: the event states a fact
 * already true in the table. A request costs two AWS round trips.
 */
import {
  credentialDuration,
  isPast,
  minimumServableEnd,
  secondsUntil,
  wholeSecondsAfter,
} from '../domain/durations.js';
import { DomainError, describeError } from '../domain/errors.js';
import { sessionTouched } from '../domain/events.js';
import type { CallerIdentity } from '../domain/identity.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { Session, TransitionRefusal } from '../domain/session.js';
import type { SessionStore } from '../ports.js';
import { issueWithinSession } from './issue-credentials.js';
import { onStoreFailure } from './store-failure.js';
import type { VendDeps } from './vend-deps.js';
import type { Vended, VendRefusal } from './vend-outcome.js';
import { type Profile, type Profiles, refreshIdleSeconds } from './vend-profiles.js';
import { publishSafely } from './vend-publish.js';

export type RefreshSessionDeps = Pick<
  VendDeps,
  'store' | 'issuer' | 'publisher' | 'clock' | 'profiles' | 'storeFailure' | 'telemetry' | 'lastKnown'
>;

export interface RefreshSessionInput {
  readonly caller: CallerIdentity;
  readonly sessionId: string;
}

type Outcome = Result<Vended, VendRefusal>;

/**
 * The profile a session may still be served under: on the allowlist and mapped to the role the session was
 * created with. A changed mapping is refused, never followed: the caller must start a new session.
 */
export const grantOf = (
  profiles: Profiles,
  session: Pick<Session, 'profile' | 'roleArn'>,
): Result<Profile, Extract<VendRefusal, { readonly kind: 'ProfileChanged' }>> => {
  const profile = profiles.get(session.profile);
  if (!profile) return refuse({ kind: 'ProfileChanged', profile: session.profile, reason: 'removed' });
  if (profile.roleArn !== session.roleArn) {
    return refuse({ kind: 'ProfileChanged', profile: session.profile, reason: 'roleChanged' });
  }
  return ok(profile);
};

export const refreshSession = (deps: RefreshSessionDeps) => {
  const extendBySeconds = refreshIdleSeconds(deps.profiles);
  /** The allowlist as (profile, role) pairs: the touch refuses a session whose pair is no longer on it. */
  const grants = [...deps.profiles.values()].map((p) => ({ profile: p.name, roleArn: p.roleArn }));

  /** The profile maximum, cut to what the session has left (invariant 3); no requested duration on refresh. */
  const durationFor = (session: Session, profile: Profile, now: Date): Result<number, VendRefusal> => {
    const duration = credentialDuration({
      profileMaxSeconds: profile.maxDurationSeconds,
      expiresAt: session.expiresAt,
      now,
    });
    if (duration.ok) return duration;
    return duration.refusal.kind === 'AtMaxLifetime'
      ? refuse({ kind: 'SessionAtMaxLifetime', remainingSeconds: duration.refusal.remainingSeconds })
      : refuse(duration.refusal);
  };

  const terminalRefusal = (session: Session): VendRefusal | undefined => {
    if (session.status === 'revoked') return { kind: 'SessionRevoked' };
    if (session.status === 'expired') return { kind: 'SessionExpired', expiresAt: session.expiresAt };
    return undefined;
  };

  /** The touch was refused: say why, without telling a non-owner anything about someone else's session. */
  const refused = async (refusal: TransitionRefusal, caller: CallerIdentity, now: Date): Promise<Outcome> => {
    if (refusal.kind === 'NotFound') return refuse({ kind: 'SessionNotFound' });
    if (refusal.session.principalArn !== caller.principalArn || refusal.kind === 'NotOwner')
      return refuse({ kind: 'NotOwner' });
    deps.lastKnown?.forget(refusal.session.sessionId);
    if (refusal.kind === 'AlreadyTerminal') {
      return refuse(terminalRefusal(refusal.session) ?? { kind: 'SessionRevoked' });
    }
    if (refusal.kind === 'AtMaxLifetime') {
      return refuse({
        kind: 'SessionAtMaxLifetime',
        remainingSeconds: secondsUntil(refusal.session.expiresAt, now),
      });
    }
    if (refusal.kind === 'NotGranted') {
      // The store checked the same allowlist the container holds, so grantOf names the reason.
      const grant = grantOf(deps.profiles, refusal.session);
      if (grant.ok) throw new Error('touch refused NotGranted for a session the allowlist grants');
      deps.telemetry.count('ProfileChanged');
      deps.telemetry.warn('session refused: its profile was removed or now maps to another role', {
        profile: refusal.session.profile,
        reason: grant.refusal.reason,
      });
      return grant;
    }
    if (refusal.kind === 'Expired') return expireLazily(refusal.session, now);
    throw new Error(`touch refused with unexpected ${refusal.kind}`);
  };

  /**
   * Found active but past expiry: end it here (conditional). No event from here: the lifecycle consumer
   * announces SessionExpired for every active → expired stream record, exactly once, whoever wrote it
   * (invariant 2); announcing it here too would be a second terminal event.
   */
  const expireLazily = async (session: Session, now: Date): Promise<Outcome> => {
    try {
      const expired = await deps.store.expire(session.sessionId, { reason: 'lazy', now });
      if (expired.ok) {
        deps.telemetry.count('SessionExpiredLazily');
        deps.telemetry.info('session found past expiry; expired lazily', {
          expiresAt: expired.value.expiresAt,
        });
        return refuse({ kind: 'SessionExpired', expiresAt: expired.value.expiresAt });
      }
      if (expired.refusal.kind === 'AlreadyTerminal' && expired.refusal.status === 'revoked') {
        return refuse({ kind: 'SessionRevoked' });
      }
    } catch (error) {
      if (error instanceof DomainError) throw error;
      // The lifecycle workflow expires it on time anyway; the caller is denied either way.
      deps.telemetry.warn('lazy expiry could not be written', describeError(error));
    }
    return refuse({ kind: 'SessionExpired', expiresAt: session.expiresAt });
  };

  /**
   * The store could not be reached: SESSION_STORE_FAILURE decides. Under `allow`, only a session this
   * container saw active, owned by the caller, still granted and not past the expiry it saw is served, from
   * that last known state: never extended, and its revocation status unknown (see store-failure.ts).
   */
  const storeFailed = async (input: RefreshSessionInput, now: Date, error: unknown): Promise<Outcome> => {
    const seen = deps.lastKnown?.get(input.sessionId);
    const grant = seen ? grantOf(deps.profiles, seen) : undefined;
    const servable =
      seen && grant?.ok && seen.principalArn === input.caller.principalArn && !isPast(seen.expiresAt, now)
        ? { session: seen, profile: grant.value }
        : undefined;
    const decision = onStoreFailure(deps, error, {
      doing: 'on refresh',
      allowing: 'vending from the last known state, revocation unchecked',
      cannotAllow: servable ? undefined : 'the session is not known here',
      ...(servable ? { attributes: { lastKnownExpiresAt: servable.session.expiresAt } } : {}),
    });
    if (decision === 'deny' || !servable) return refuse({ kind: 'StoreUnavailable' });
    const { session, profile } = servable;
    const duration = durationFor(session, profile, now);
    if (!duration.ok) return duration;
    const issued = await issueWithinSession(deps, session, duration.value);
    return issued.ok
      ? ok({ sessionId: session.sessionId, expiresAt: session.expiresAt, credentials: issued.value })
      : issued;
  };

  return async (input: RefreshSessionInput): Promise<Outcome> => {
    deps.telemetry.session(input.sessionId);
    const now = deps.clock.now();

    // Whole seconds, like every expiry (Step Functions Wait truncates to the second).
    const extendTo = wholeSecondsAfter(now, extendBySeconds);
    let touched: Awaited<ReturnType<SessionStore['touch']>>;
    try {
      touched = await deps.store.touch(input.sessionId, {
        principalArn: input.caller.principalArn,
        now,
        extendTo,
        grants,
        // A session that cannot give even the shortest credential is at its end: refused before any write.
        minEndsAt: minimumServableEnd(now),
      });
    } catch (error) {
      return storeFailed(input, now, error);
    }
    if (!touched.ok) return refused(touched.refusal, input.caller, now);

    const session = touched.value;
    deps.lastKnown?.remember(session);
    // The touch already held the session to the allowlist; this only fetches the profile's limits.
    const grant = grantOf(deps.profiles, session);
    if (!grant.ok) return grant;
    // The touch already refused a session without MIN_SERVABLE_SECONDS left (minEndsAt), so this only guards
    // the arithmetic: should it ever refuse, no credentials are vended and no SessionTouched is announced.
    const duration = durationFor(session, grant.value, now);
    if (!duration.ok) return duration;
    const [issued] = await Promise.all([
      issueWithinSession(deps, session, duration.value),
      publishSafely(deps, [sessionTouched(session, now)]),
    ]);
    if (!issued.ok) return issued;
    deps.telemetry.count('SessionRefreshed');
    deps.telemetry.info('session refreshed', {
      profile: session.profile,
      expiresAt: session.expiresAt,
      requestCount: session.requestCount,
      credentialExpiration: issued.value.Expiration,
    });
    return ok({ sessionId: session.sessionId, expiresAt: session.expiresAt, credentials: issued.value });
  };
};
