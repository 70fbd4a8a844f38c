/**
 * POST /v1/sessions/{sessionId}/credentials: new credentials under an existing session.
 *
 * ONE conditional touch is both the revocation check and the extension (invariant 5: a revoked, expired or
 * unknown session is denied). After it, AssumeRole and the SessionTouched event run concurrently: the event
 * states a fact already true in the table, and the request costs about two AWS round trips.
 */
import { credentialDuration, isPast } from '../domain/durations.js';
import { DomainError } from '../domain/errors.js';
import { sessionExpired, sessionTouched } from '../domain/events.js';
import type { CallerIdentity } from '../domain/identity.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { Session, TransitionRefusal } from '../domain/session.js';
import { buildRoleSessionName } from '../domain/sts-names.js';
import type { Clock, CredentialIssuer, EventPublisher, IssuedCredentials, SessionStore } from '../ports.js';
import { type Profile, type Profiles, refreshIdleSeconds } from './vend-profiles.js';
import { publishSafely } from './vend-publish.js';
import {
  describeError,
  issuerRefusal,
  type LastKnownSessions,
  type StoreFailureMode,
  type Vended,
  type VendRefusal,
  type VendTelemetry,
} from './vend-types.js';

export interface RefreshSessionDeps {
  readonly store: SessionStore;
  readonly issuer: CredentialIssuer;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
  readonly profiles: Profiles;
  readonly storeFailure: StoreFailureMode;
  readonly telemetry: VendTelemetry;
  readonly lastKnown?: LastKnownSessions;
}

export interface RefreshSessionInput {
  readonly caller: CallerIdentity;
  readonly sessionId: string;
}

type Outcome = Result<Vended, VendRefusal>;

export const refreshSession = (deps: RefreshSessionDeps) => {
  const extendBySeconds = refreshIdleSeconds(deps.profiles);

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

  const issue = async (
    session: Session,
    profile: Profile,
    durationSeconds: number,
  ): Promise<Result<IssuedCredentials, VendRefusal>> => {
    try {
      return ok(
        await deps.issuer.issue({
          roleArn: profile.roleArn,
          roleSessionName: buildRoleSessionName({ user: session.user, sessionId: session.sessionId }),
          sourceIdentity: session.sourceIdentity,
          sessionId: session.sessionId,
          durationSeconds,
        }),
      );
    } catch (error) {
      deps.telemetry.count('IssuerFailure');
      deps.telemetry.error('credential issuer failed', describeError(error));
      return refuse(issuerRefusal(error));
    }
  };

  /** The touch was refused: say why, without telling a non-owner anything about someone else's session. */
  const refused = async (refusal: TransitionRefusal, caller: CallerIdentity, now: Date): Promise<Outcome> => {
    if (refusal.kind === 'NotFound') return refuse({ kind: 'SessionNotFound' });
    if (refusal.session.principalArn !== caller.principalArn || refusal.kind === 'NotOwner')
      return refuse({ kind: 'NotOwner' });
    deps.lastKnown?.forget(refusal.session.sessionId);
    if (refusal.kind === 'AlreadyTerminal') {
      return refusal.status === 'revoked'
        ? refuse({ kind: 'SessionRevoked' })
        : refuse({ kind: 'SessionExpired', expiresAt: refusal.session.expiresAt });
    }
    if (refusal.kind === 'Expired') return expireLazily(refusal.session, now);
    throw new Error(`touch refused with unexpected ${refusal.kind}`);
  };

  /** Found active but past expiry: end it here (conditional; whoever wins emits the one SessionExpired). */
  const expireLazily = async (session: Session, now: Date): Promise<Outcome> => {
    try {
      const expired = await deps.store.expire(session.sessionId, { reason: 'lazy', now });
      if (expired.ok) {
        deps.telemetry.count('SessionExpiredLazily');
        deps.telemetry.info('session found past expiry; expired lazily', {
          expiresAt: expired.value.expiresAt,
        });
        await publishSafely(deps, [sessionExpired(expired.value, 'lazy', now)]);
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

  /** SESSION_STORE_FAILURE=allow on refresh: see StoreFailureMode. Never extends, never beyond what was seen. */
  const fromLastKnown = async (input: RefreshSessionInput, now: Date, error: unknown): Promise<Outcome> => {
    const seen = deps.lastKnown?.get(input.sessionId);
    const profile = seen ? deps.profiles.get(seen.profile) : undefined;
    if (!seen || !profile || seen.principalArn !== input.caller.principalArn || isPast(seen.expiresAt, now)) {
      deps.telemetry.count('StoreFailureDenied');
      deps.telemetry.error(
        'session store unreachable on refresh and the session is not known here; denied',
        describeError(error),
      );
      return refuse({ kind: 'StoreUnavailable' });
    }
    deps.telemetry.count('StoreFailureAllowed');
    deps.telemetry.warn(
      'session store unreachable on refresh; vending from the last known state, revocation unchecked (SESSION_STORE_FAILURE=allow)',
      { ...describeError(error), lastKnownExpiresAt: seen.expiresAt },
    );
    const duration = durationFor(seen, profile, now);
    if (!duration.ok) return duration;
    const issued = await issue(seen, profile, duration.value);
    return issued.ok
      ? ok({ sessionId: seen.sessionId, expiresAt: seen.expiresAt, credentials: issued.value })
      : issued;
  };

  return async (input: RefreshSessionInput): Promise<Outcome> => {
    deps.telemetry.session(input.sessionId);
    const now = deps.clock.now();
    const extendTo = new Date(now.getTime() + extendBySeconds * 1000).toISOString();
    let touched: Awaited<ReturnType<SessionStore['touch']>>;
    try {
      touched = await deps.store.touch(input.sessionId, { principalArn: input.caller.principalArn, now, extendTo });
    } catch (error) {
      if (error instanceof DomainError) throw error;
      if (deps.storeFailure === 'allow') return fromLastKnown(input, now, error);
      deps.telemetry.count('StoreFailureDenied');
      deps.telemetry.error(
        'session store unreachable on refresh; denied (SESSION_STORE_FAILURE=deny)',
        describeError(error),
      );
      return refuse({ kind: 'StoreUnavailable' });
    }
    if (!touched.ok) return refused(touched.refusal, input.caller, now);

    const session = touched.value;
    deps.lastKnown?.remember(session);
    const profile = deps.profiles.get(session.profile);
    if (!profile) {
      // The profile was removed from the allowlist after the session began: its role is no longer ours to hand out.
      return refuse({ kind: 'UnknownProfile', profile: session.profile });
    }
    // Under 900 s left even after the touch: the caller must start a new session. The touch stays counted in
    // the table (it was a use), but no credentials are vended and so no SessionTouched is announced.
    const duration = durationFor(session, profile, now);
    if (!duration.ok) return duration;
    const [issued] = await Promise.all([
      issue(session, profile, duration.value),
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
