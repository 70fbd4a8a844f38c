/**
 * POST /v1/sessions/{sessionId}/credentials: new credentials under an existing session.
 *
 * ONE conditional touch is the revocation check (invariant 5: a revoked, expired or unknown session is
 * denied), the ownership check (the caller's principal ARN), the grant check (the session's profile must still
 * be on the allowlist and map to the role it was created with; credentials are always for the stored roleArn)
 * and the extension. A refused touch writes nothing, so a session whose profile changed is neither counted nor
 * extended. After it, AssumeRole and the SessionTouched event run concurrently: the event states a fact
 * already true in the table. Then one strongly consistent read: credentials are handed out only if the session
 * is still active (withheldUnlessStillActive). A request costs three AWS round trips.
 */
import type { AccessPolicy } from '../domain/access-policy.js';
import {
  credentialDuration,
  isPast,
  minimumServableEnd,
  secondsUntil,
  wholeSecondsAfter,
} from '../domain/durations.js';
import { DomainError, describeError, MalformedSessionRecordError } from '../domain/errors.js';
import { sessionTouched } from '../domain/events.js';
import type { CallerIdentity } from '../domain/identity.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { Session, TransitionRefusal } from '../domain/session.js';
import type { SessionStore } from '../ports.js';
import { authorizeVend } from './authorize-vend.js';
import { issueWithinSession, withheldUnlessStillActive } from './issue-credentials.js';
import { onStoreFailure } from './store-failure.js';
import type { VendDeps } from './vend-deps.js';
import type { Vended, VendRefusal } from './vend-outcome.js';
import type { Profile, Profiles } from './vend-profiles.js';
import { publishSafely } from './vend-publish.js';

export type RefreshSessionDeps = Pick<
  VendDeps,
  'store' | 'issuer' | 'publisher' | 'clock' | 'profiles' | 'storeFailure' | 'telemetry' | 'lastKnown'
>;

export interface RefreshSessionInput {
  readonly caller: CallerIdentity;
  readonly sessionId: string;
  /**
   * The session's profile as the client names it: then the refresh is one conditional write that also
   * checks it. Without it the session is read first to learn its profile (one more round trip).
   */
  readonly profile?: string | undefined;
  /** The access policy in force: a refresh is decided like a create. */
  readonly policy: AccessPolicy;
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

  const profileChanged = (session: Session, reason: 'removed' | 'roleChanged'): void => {
    deps.telemetry.count('ProfileChanged');
    deps.telemetry.warn('session refused: its profile was removed or now maps to another role', {
      profile: session.profile,
      reason,
    });
  };

  const terminalRefusal = (session: Session): VendRefusal | undefined => {
    if (session.status === 'revoked') return { kind: 'SessionRevoked' };
    if (session.status === 'expired') return { kind: 'SessionExpired', expiresAt: session.expiresAt };
    return undefined;
  };

  /** The touch was refused: say why, without telling a non-owner anything about someone else's session. */
  const refused = async (
    refusal: TransitionRefusal,
    input: RefreshSessionInput,
    now: Date,
  ): Promise<Outcome> => {
    if (refusal.kind === 'NotFound') return refuse({ kind: 'SessionNotFound' });
    if (refusal.session.principalArn !== input.caller.principalArn || refusal.kind === 'NotOwner')
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
      // The client named another profile than the session's: nothing written, nothing revealed beyond that.
      if (input.profile !== undefined && refusal.session.profile !== input.profile) {
        return refuse({ kind: 'ProfileMismatch', profile: input.profile });
      }
      // The store checked the same allowlist the container holds, so grantOf names the reason.
      const grant = grantOf(deps.profiles, refusal.session);
      if (grant.ok) throw new Error('touch refused NotGranted for a session the allowlist grants');
      profileChanged(refusal.session, grant.refusal.reason);
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
      if (error instanceof MalformedSessionRecordError) return unverifiable(session.sessionId, error);
      if (error instanceof DomainError) throw error;
      // The lifecycle workflow expires it on time anyway; the caller is denied either way.
      deps.telemetry.warn('lazy expiry could not be written', describeError(error));
    }
    return refuse({ kind: 'SessionExpired', expiresAt: session.expiresAt });
  };

  /**
   * The row was read but is not a session (a hand-written revocation with a timestamp off, a corrupted
   * item): it cannot be shown to be active, so it is denied under either SESSION_STORE_FAILURE, and what
   * this container last saw of it is dropped.
   */
  const unverifiable = (sessionId: string, error: MalformedSessionRecordError): Outcome => {
    deps.lastKnown?.forget(sessionId);
    deps.telemetry.count('SessionRecordMalformed');
    deps.telemetry.error('session row is malformed; denied', describeError(error));
    return refuse({ kind: 'SessionUnverifiable' });
  };

  /**
   * The store could not be reached: SESSION_STORE_FAILURE decides. Under `allow`, only a session this
   * container saw active, owned by the caller, still granted and not past the expiry it saw is served, from
   * that last known state: never extended, and its revocation status unknown (see store-failure.ts).
   */
  const storeFailed = async (input: RefreshSessionInput, now: Date, error: unknown): Promise<Outcome> => {
    if (error instanceof MalformedSessionRecordError) return unverifiable(input.sessionId, error);
    const seen = deps.lastKnown?.get(input.sessionId);
    const grant = seen ? grantOf(deps.profiles, seen) : undefined;
    // Only the session seen here, under the profile the client named (if it named one).
    const servable =
      seen &&
      grant?.ok &&
      seen.principalArn === input.caller.principalArn &&
      (input.profile === undefined || input.profile === seen.profile) &&
      !isPast(seen.expiresAt, now)
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
    // The store being down never skips the access policy: it decides on the session's own profile.
    const allowed = await authorizeVend(deps, input.policy, {
      action: 'refresh',
      caller: input.caller,
      profile: session.profile,
      sessionId: session.sessionId,
      at: now,
    });
    if (!allowed.ok) return allowed;
    const duration = durationFor(session, profile, now);
    if (!duration.ok) return duration;
    const issued = await issueWithinSession(deps, session, duration.value);
    return issued.ok
      ? ok({ sessionId: session.sessionId, expiresAt: session.expiresAt, credentials: issued.value })
      : issued;
  };

  /**
   * Which profile the refresh is for, before anything is written: the one the client names (checked by the
   * touch's own condition), or the stored session's, read first.
   */
  const profileOf = async (
    input: RefreshSessionInput,
    now: Date,
  ): Promise<Result<Profile, VendRefusal> | { readonly storeError: unknown }> => {
    if (input.profile !== undefined) {
      const named = deps.profiles.get(input.profile);
      return named ? ok(named) : refuse({ kind: 'UnknownProfile', profile: input.profile });
    }
    let session: Session | undefined;
    try {
      session = await deps.store.get(input.sessionId);
    } catch (error) {
      return { storeError: error };
    }
    if (!session) return refuse({ kind: 'SessionNotFound' });
    // Nothing about someone else's session is revealed, not even by the policy's answer.
    if (session.principalArn !== input.caller.principalArn) return refuse({ kind: 'NotOwner' });
    const terminal = terminalRefusal(session);
    if (terminal) {
      deps.lastKnown?.forget(session.sessionId);
      return refuse(terminal);
    }
    if (isPast(session.expiresAt, now)) {
      const ended = await expireLazily(session, now);
      return ended.ok ? refuse({ kind: 'SessionExpired', expiresAt: session.expiresAt }) : ended;
    }
    const grant = grantOf(deps.profiles, session);
    if (!grant.ok) profileChanged(session, grant.refusal.reason);
    return grant;
  };

  return async (input: RefreshSessionInput): Promise<Outcome> => {
    deps.telemetry.session(input.sessionId);
    const now = deps.clock.now();

    const known = await profileOf(input, now);
    if ('storeError' in known) return storeFailed(input, now, known.storeError);
    if (!known.ok) return known;
    const profile = known.value;
    const allowed = await authorizeVend(deps, input.policy, {
      action: 'refresh',
      caller: input.caller,
      profile: profile.name,
      sessionId: input.sessionId,
      at: now,
    });
    if (!allowed.ok) return allowed;

    // Extended by the session's own profile's idle window; whole seconds, like every expiry (Step Functions
    // Wait truncates to the second). The store caps it at the row's maxExpiresAt.
    const extendTo = wholeSecondsAfter(now, profile.policy.idleTimeoutSeconds);
    let touched: Awaited<ReturnType<SessionStore['touch']>>;
    try {
      touched = await deps.store.touch(input.sessionId, {
        principalArn: input.caller.principalArn,
        now,
        extendTo,
        // The session must still be this profile on this role: a mismatch or a changed mapping writes nothing.
        grants: [{ profile: profile.name, roleArn: profile.roleArn }],
        // A session that cannot give even the shortest credential is at its end: refused before any write.
        minEndsAt: minimumServableEnd(now),
      });
    } catch (error) {
      return storeFailed(input, now, error);
    }
    if (!touched.ok) return refused(touched.refusal, input, now);

    const session = touched.value;
    deps.lastKnown?.remember(session);
    // The touch already refused a session without MIN_SERVABLE_SECONDS left (minEndsAt), so this only guards
    // the arithmetic: should it ever refuse, no credentials are vended and no SessionTouched is announced.
    const duration = durationFor(session, profile, now);
    if (!duration.ok) return duration;
    const [issued] = await Promise.all([
      issueWithinSession(deps, session, duration.value),
      publishSafely(deps, [sessionTouched(session, now)]),
    ]);
    if (!issued.ok) return issued;
    // A revocation or expiry may have landed between the touch and STS's answer: then nothing is handed out.
    const withheld = await withheldUnlessStillActive(deps, session, issued.value);
    if (withheld) return refuse(withheld);
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
