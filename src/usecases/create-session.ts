/**
 * POST /v1/sessions: a new session and its first credentials.
 *
 * The conditional put and AssumeRole run concurrently (they do not depend on each other) so the request costs
 * about two AWS round trips instead of three. SessionCreated is published only once the put succeeded, and
 * credentials are returned only when both succeeded (and they end no later than the session, and the row is
 * still active when re-read after STS answered, beside the SessionCreated publish). A row whose
 * credentials were not issued is force-expired before the 502/503, so no active session exists that nobody
 * holds credentials for.
 */
import { type AccessPolicy, cappedSessionPolicy } from '../domain/access-policy.js';
import {
  credentialDuration,
  STS_MIN_DURATION_SECONDS,
  STS_ROLE_CHAINING_MAX_DURATION_SECONDS,
} from '../domain/durations.js';
import { DomainError, describeError } from '../domain/errors.js';
import { sessionCreated } from '../domain/events.js';
import type { CallerIdentity } from '../domain/identity.js';
import { ok, type Result, refuse } from '../domain/result.js';
import { newSession, type Session } from '../domain/session.js';
import { buildSourceIdentity } from '../domain/sts-names.js';
import { authorizeVend } from './authorize-vend.js';
import { issueWithinSession, withheldUnlessStillActive } from './issue-credentials.js';
import { onStoreFailure } from './store-failure.js';
import type { VendDeps } from './vend-deps.js';
import type { Vended, VendRefusal } from './vend-outcome.js';
import type { Profile, Profiles } from './vend-profiles.js';
import { publishSafely } from './vend-publish.js';

export type CreateSessionDeps = Pick<
  VendDeps,
  | 'store'
  | 'issuer'
  | 'publisher'
  | 'clock'
  | 'ids'
  | 'profiles'
  | 'storeFailure'
  | 'telemetry'
  | 'lastKnown'
  | 'auditRetentionSeconds'
>;

export interface CreateSessionInput {
  readonly caller: CallerIdentity;
  /** The access policy in force: it decides this create, and may cap the session's lifetime. */
  readonly policy: AccessPolicy;
  readonly profile: string;
  readonly durationSeconds?: number | undefined;
  /** API Gateway's request id: it goes into SourceIdentity so CloudTrail leads back to this request. */
  readonly requestId: string;
}

/**
 * The checks a create must pass before anything is written or issued (invariant 6): a profile on the
 * allowlist and a requested duration within [900, profile maximum ≤ 3600]. Pure, so the API also runs it before
 * touching the idempotency table.
 */
export const validateCreate = (
  profiles: Profiles,
  input: { readonly profile: string; readonly durationSeconds?: number | undefined },
): Result<{ readonly profile: Profile; readonly durationSeconds: number }, VendRefusal> => {
  const profile = profiles.get(input.profile);
  if (!profile) return refuse({ kind: 'UnknownProfile', profile: input.profile });
  const max = Math.min(profile.maxDurationSeconds, STS_ROLE_CHAINING_MAX_DURATION_SECONDS);
  const requested = input.durationSeconds ?? max;
  if (!Number.isInteger(requested) || requested < STS_MIN_DURATION_SECONDS || requested > max) {
    return refuse({ kind: 'DurationOutOfRange', min: STS_MIN_DURATION_SECONDS, max, requested });
  }
  return ok({ profile, durationSeconds: requested });
};

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

export const createSession =
  (deps: CreateSessionDeps) =>
  async (input: CreateSessionInput): Promise<Result<Vended, VendRefusal>> => {
    const checked = validateCreate(deps.profiles, input);
    if (!checked.ok) return checked;
    const { profile, durationSeconds } = checked.value;

    const now = deps.clock.now();
    const allowed = await authorizeVend(deps, input.policy, {
      action: 'create',
      caller: input.caller,
      profile: profile.name,
      sessionId: null,
      at: now,
    });
    if (!allowed.ok) return allowed;
    const sessionId = deps.ids.sessionId();
    deps.telemetry.session(sessionId);
    const session: Session = newSession({
      sessionId,
      caller: input.caller,
      profile: profile.name,
      roleArn: profile.roleArn,
      sourceIdentity: buildSourceIdentity({ user: input.caller.user, requestId: input.requestId }),
      policy: cappedSessionPolicy(profile.policy, allowed.value),
      now,
      ...(deps.auditRetentionSeconds === undefined
        ? {}
        : { auditRetentionSeconds: deps.auditRetentionSeconds }),
    });
    // Invariant 3 against the new session's own expiry (a policy's idle window is at least 900 s, so this holds).
    const duration = credentialDuration({
      requestedSeconds: durationSeconds,
      profileMaxSeconds: profile.maxDurationSeconds,
      expiresAt: session.expiresAt,
      now,
    });
    if (!duration.ok) {
      return duration.refusal.kind === 'DurationOutOfRange'
        ? refuse(duration.refusal)
        : refuse({ kind: 'SessionAtMaxLifetime', remainingSeconds: duration.refusal.remainingSeconds });
    }

    // If the put fails while AssumeRole is still pending and the answer would be a refusal anyway, the
    // AssumeRole is abandoned (skipped when not yet sent): no credential for a session that is not recorded.
    const abandon = new AbortController();
    const [stored, issued] = await Promise.all([
      settle(deps.store.create(session)).then((outcome) => {
        if (!outcome.ok && (deps.storeFailure === 'deny' || outcome.error instanceof DomainError)) {
          abandon.abort();
        }
        return outcome;
      }),
      issueWithinSession(deps, session, duration.value, { abortSignal: abandon.signal }),
    ]);

    if (!stored.ok) {
      if (issued.ok && (deps.storeFailure === 'deny' || stored.error instanceof DomainError)) {
        // Minted before the put's failure was known: never returned, they lapse on their own (≤ 1 h). Logged
        // with the session id (the tag they carry) so a deny-list can cut them off if ever needed.
        deps.telemetry.count('CredentialsDiscarded');
        deps.telemetry.warn(
          'credentials issued for a session that was not recorded; discarded, not returned',
          {
            credentialExpiration: issued.value.Expiration,
          },
        );
      }
      const decision = onStoreFailure(deps, stored.error, {
        doing: 'on create',
        allowing: 'vending an untracked session',
      });
      if (decision === 'deny') return refuse({ kind: 'StoreUnavailable' });
    }
    if (!issued.ok) {
      if (stored.ok) await endUnissued(deps, session);
      return issued;
    }
    const credentials = issued.value;

    if (stored.ok) {
      deps.lastKnown?.remember(session);
      // A revocation (of all the user's sessions) may have ended the new row before STS answered. The re-read
      // runs beside the announcement, which states a fact either way: the session was created.
      const [withheld] = await Promise.all([
        withheldUnlessStillActive(deps, session, credentials),
        publishSafely(deps, [
          sessionCreated(session, now, {
            rule: allowed.value.rule,
            policyVersion: String(allowed.value.policyVersion),
          }),
        ]),
      ]);
      if (withheld) return refuse(withheld);
    }
    deps.telemetry.count('SessionCreated');
    deps.telemetry.info('session created', {
      profile: session.profile,
      expiresAt: session.expiresAt,
      credentialExpiration: credentials.Expiration,
      tracked: stored.ok,
    });
    return ok({ sessionId, expiresAt: session.expiresAt, credentials });
  };

/**
 * The row was written but the caller gets no credentials: end it now (forced, conditional on active) rather
 * than leave an active session nobody holds until its workflow expires it. No SessionCreated was announced;
 * the stream consumer announces this expiry like any other. A failure here is logged and counted, and the
 * caller's answer (502/503) stands.
 */
const endUnissued = async (
  deps: Pick<CreateSessionDeps, 'store' | 'clock' | 'telemetry'>,
  session: Session,
): Promise<void> => {
  try {
    const ended = await deps.store.expire(session.sessionId, {
      reason: 'forced',
      now: deps.clock.now(),
      force: true,
    });
    if (ended.ok) {
      deps.telemetry.count('SessionForceExpired');
      deps.telemetry.info('session ended: no credentials were issued for it', { expiredReason: 'forced' });
      return;
    }
    deps.telemetry.warn('session without credentials already ended', { refusal: ended.refusal.kind });
  } catch (error) {
    deps.telemetry.count('SessionForceExpireFailed');
    deps.telemetry.error(
      'session without credentials could not be ended; it stays active until its workflow expires it',
      describeError(error),
    );
  }
};
