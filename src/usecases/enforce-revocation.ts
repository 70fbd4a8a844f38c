/**
 * Enforcing a revocation: the revoked session's id goes on its profile role's deny list until no credential
 * carrying its tag can be alive (the earlier of its expiry and the revocation, plus the role-chaining hour
 * and a margin: `denyUntil`). Called by the revocation-fanout workflow with the session row's roleArn and
 * expiresAt (and revokedAt when the caller has it; otherwise the enforcement time stands in, which is later).
 * `createRevocationEnforcer` trusts its input (the reconciler calls it with rows it has read and checked);
 * the deployed enforcer function runs `createVerifiedRevocationEnforcer`, which re-reads and checks the row.
 */
import { isRoleArn } from '../domain/arn.js';
import type { Clock } from '../domain/clock.js';
import { denyUntil } from '../domain/deny-list.js';
import { STS_ROLE_CHAINING_MAX_DURATION_SECONDS } from '../domain/durations.js';
import { DomainError, MalformedSessionRecordError } from '../domain/errors.js';
import { isSessionId } from '../domain/ids.js';
import { enforcementSince, needsEnforcement } from '../domain/reconcile.js';
import { salvageSession } from '../domain/salvage.js';
import type { Session } from '../domain/session.js';
import type { AccessEnforcer, EnforcementInput, EnforcementResult, SessionStore } from '../ports.js';

export type { EnforcementInput, EnforcementResult };

import type { Profile } from './vend-profiles.js';

/** The workflow passed something that is not `{sessionId, roleArn, expiresAt}`: a bug, never retried. */
export class InvalidEnforcementInputError extends DomainError {
  override readonly name = 'InvalidEnforcementInputError';
  readonly code = 'InvalidEnforcementInput';
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const isInstant = (value: unknown): value is string =>
  typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value));

export const parseEnforcementInput = (value: unknown): EnforcementInput => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidEnforcementInputError('input must be an object {sessionId, roleArn, expiresAt}');
  }
  const { sessionId, roleArn, expiresAt, revokedAt } = value as Record<string, unknown>;
  if (!isSessionId(sessionId)) {
    throw new InvalidEnforcementInputError('sessionId must be 32 lowercase hex characters');
  }
  if (!isRoleArn(roleArn)) {
    throw new InvalidEnforcementInputError('roleArn must be an IAM role ARN');
  }
  if (!isInstant(expiresAt)) {
    throw new InvalidEnforcementInputError('expiresAt must be an ISO-8601 UTC instant');
  }
  if (revokedAt !== undefined && !isInstant(revokedAt)) {
    throw new InvalidEnforcementInputError('revokedAt, when given, must be an ISO-8601 UTC instant');
  }
  return { sessionId, roleArn, expiresAt, ...(revokedAt === undefined ? {} : { revokedAt }) };
};

/**
 * Without a clock the enforcement time is unknown (a caller on its own time line, like the local emulator's
 * scaled clock, must not be measured against the wall clock): the id is kept until an hour past expiresAt,
 * which no credential of the session outlives by more than the chaining hour. The deployed handler always
 * passes its clock and gets the tighter bound.
 */
const untilWithoutClock = (expiresAt: string): string =>
  new Date(Date.parse(expiresAt) + STS_ROLE_CHAINING_MAX_DURATION_SECONDS * 1000).toISOString();

export const createRevocationEnforcer =
  (deps: { readonly enforcer: AccessEnforcer; readonly clock?: Clock }) =>
  async (raw: unknown): Promise<EnforcementResult> => {
    const input = parseEnforcementInput(raw);
    const until =
      deps.clock === undefined
        ? untilWithoutClock(input.expiresAt)
        : denyUntil({
            expiresAt: input.expiresAt,
            enforcedAt: deps.clock.now(),
            ...(input.revokedAt === undefined ? {} : { revokedAt: input.revokedAt }),
          });
    const denied = await deps.enforcer.denySession({
      roleArn: input.roleArn,
      sessionId: input.sessionId,
      until,
    });
    return {
      sessionId: input.sessionId,
      roleArn: input.roleArn,
      deniedUntil: until,
      alreadyDenied: denied.alreadyDenied,
      // An enforcer that does not say lists every id (it has no other mode).
      mode: denied.mode ?? 'session-tag',
      ...(denied.tokenIssuedBefore === undefined ? {} : { tokenIssuedBefore: denied.tokenIssuedBefore }),
    };
  };

/** Why the enforcer refused an input: nothing was written to IAM or the deny-list table. */
export const ENFORCEMENT_REFUSALS = [
  'unknown-session',
  'malformed-session',
  'role-mismatch',
  'not-enforceable',
  'not-a-profile-role',
  'times-outside-profile',
] as const;
export type EnforcementRefusal = (typeof ENFORCEMENT_REFUSALS)[number];

/**
 * The input does not describe a session that must be denied on that role (forged, stale or a bug): refused,
 * never retried, nothing written. `reason` says which check failed.
 */
export class EnforcementRefusedError extends DomainError {
  override readonly name = 'EnforcementRefusedError';
  readonly code = 'EnforcementRefused';
  readonly reason: EnforcementRefusal;

  constructor(reason: EnforcementRefusal, message: string) {
    super(`${reason}: ${message}`);
    this.reason = reason;
  }
}

/** The one read the enforcer needs: the session row, strongly consistent (GetItem only). */
export type SessionReader = Pick<SessionStore, 'get'>;

/** The profile roles and their limits, from the same PROFILES allowlist the vend function serves. */
export type ProfileRoles = Iterable<Pick<Profile, 'name' | 'roleArn' | 'policy'>>;

/** A revoked row's times may run this far ahead of the enforcer's clock (clock skew between Lambdas). */
export const ENFORCEMENT_CLOCK_SKEW_SECONDS = 300;

const instantOf = (value: string | undefined): number | undefined =>
  value === undefined || !isInstant(value) ? undefined : Date.parse(value);

/**
 * Checks the row against the profile limits: createdAt ≤ enforcement start ≤ expiresAt ≤ maxExpiresAt ≤
 * createdAt + maxLifetime, and the start not in the future. Returns the problem, or undefined when it fits.
 */
const timesProblem = (
  session: Session,
  maxLifetimeSeconds: number,
  now: Date | undefined,
): string | undefined => {
  const created = instantOf(session.createdAt);
  const expires = instantOf(session.expiresAt);
  const maxExpires = instantOf(session.maxExpiresAt);
  const since = enforcementSince(session);
  const start = instantOf(since);
  if (created === undefined || expires === undefined || maxExpires === undefined || start === undefined) {
    return 'createdAt, expiresAt, maxExpiresAt and the revocation (or forced expiry) must be ISO-8601 instants';
  }
  if (start < created) return `enforcement start ${since} is before createdAt ${session.createdAt}`;
  if (expires < created) return `expiresAt ${session.expiresAt} is before createdAt ${session.createdAt}`;
  if (expires > maxExpires)
    return `expiresAt ${session.expiresAt} is past maxExpiresAt ${session.maxExpiresAt}`;
  if (maxExpires > created + maxLifetimeSeconds * 1000) {
    return `maxExpiresAt ${session.maxExpiresAt} is past createdAt + the profile's maxLifetime (${maxLifetimeSeconds} s)`;
  }
  if (start > expires) return `enforcement start ${since} is after expiresAt ${session.expiresAt}`;
  if (now !== undefined && start > now.getTime() + ENFORCEMENT_CLOCK_SKEW_SECONDS * 1000) {
    return `enforcement start ${since} is in the future`;
  }
  return undefined;
};

/**
 * Decides from the row alone (never from the input) whether it must be denied, and returns what to enforce:
 * the row's role, expiry and enforcement start. Throws EnforcementRefusedError otherwise.
 */
export const verifyEnforcement = (
  input: EnforcementInput,
  session: Session,
  profiles: ProfileRoles,
  now?: Date,
): EnforcementInput & { readonly revokedAt: string } => {
  if (session.sessionId !== input.sessionId) {
    throw new EnforcementRefusedError(
      'unknown-session',
      `the store answered another session for ${input.sessionId}`,
    );
  }
  if (session.roleArn !== input.roleArn) {
    throw new EnforcementRefusedError(
      'role-mismatch',
      `session ${session.sessionId} is on ${session.roleArn}, not on ${input.roleArn}`,
    );
  }
  const since = enforcementSince(session);
  if (!needsEnforcement(session) || since === undefined) {
    throw new EnforcementRefusedError(
      'not-enforceable',
      `session ${session.sessionId} is ${session.status}${
        session.expiredReason === undefined ? '' : ` (${session.expiredReason})`
      }: only a revoked or early-expired session is denied`,
    );
  }
  const candidates = [...profiles].filter((profile) => profile.roleArn === session.roleArn);
  if (candidates.length === 0) {
    throw new EnforcementRefusedError(
      'not-a-profile-role',
      `${session.roleArn} is not a configured profile role`,
    );
  }
  // The session's own profile first; a role shared by several profiles fits if any of them allows the times.
  candidates.sort((a, b) => Number(b.name === session.profile) - Number(a.name === session.profile));
  const problems = candidates.map((profile) => timesProblem(session, profile.policy.maxLifetimeSeconds, now));
  if (!problems.includes(undefined)) {
    throw new EnforcementRefusedError(
      'times-outside-profile',
      `session ${session.sessionId}: ${problems[0] ?? 'times outside the profile limits'}`,
    );
  }
  return {
    sessionId: session.sessionId,
    roleArn: session.roleArn,
    expiresAt: session.expiresAt,
    revokedAt: since,
  };
};

/**
 * The enforcer the deployed function runs: it trusts nothing it is handed. The input only names a session;
 * the row is read again (strongly consistent) and the deny is written only when the row is really revoked or
 * force-expired, on that very role, a configured profile role, with times inside the profile's limits — and
 * then with the row's times. Anything else is an EnforcementRefusedError, and nothing is written.
 */
export const createVerifiedRevocationEnforcer = (deps: {
  readonly enforcer: AccessEnforcer;
  readonly sessions: SessionReader;
  readonly profiles: ProfileRoles;
  readonly clock?: Clock;
}) => {
  const enforce = createRevocationEnforcer({
    enforcer: deps.enforcer,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
  const profiles = [...deps.profiles];
  return async (raw: unknown): Promise<EnforcementResult> => {
    const input = parseEnforcementInput(raw);
    const now = deps.clock?.now();
    let session: Session | undefined;
    let rowProblem: string | undefined;
    try {
      session = await deps.sessions.get(input.sessionId);
    } catch (error) {
      if (!(error instanceof MalformedSessionRecordError)) throw error; // unreachable store: retried, not refused
      // A row edited by hand is still the session's: what can be read of it is checked like any row, so a
      // revocation is never skipped for a timestamp's format (the consumer salvages the same way).
      const salvaged = salvageSession(error.item, { sessionId: input.sessionId, at: now ?? new Date() });
      if (!salvaged.ok)
        throw new EnforcementRefusedError('malformed-session', `${error.message} (${salvaged.reason})`);
      session = salvaged.session;
      rowProblem = error.message;
    }
    if (session === undefined) {
      throw new EnforcementRefusedError('unknown-session', `no session ${input.sessionId} in the store`);
    }
    const result = await enforce(verifyEnforcement(input, session, profiles, now));
    return rowProblem === undefined ? result : { ...result, rowProblem };
  };
};
