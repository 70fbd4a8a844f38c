/**
 * The ports of the hexagon: what the use cases need from the outside world.
 * AWS adapters in src/adapters implement them; tests and the local stack plug in their own.
 */
import type { AccessPolicy } from './domain/access-policy.js';
import type { Clock } from './domain/clock.js';
import type { DenyMode } from './domain/deny-list.js';
import type { SessionEvent } from './domain/events.js';
import type { IdGenerator } from './domain/ids.js';
import type { DenyListState } from './domain/reconcile.js';
import type { ExpiredReason, Session, SessionGrant, TransitionResult } from './domain/session.js';
import type { LifecycleInput, RevocationFanoutInput, RevocationFanoutStart } from './domain/workflows.js';

export type { Clock, IdGenerator };

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  readonly cursor?: string;
}

export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface TouchInput {
  readonly principalArn: string;
  readonly now: Date;
  readonly extendTo?: string;
  /** Also refuse (NotGranted) unless the session's (profile, roleArn) is one of these. */
  readonly grants?: readonly SessionGrant[];
  /**
   * Also refuse (AtMaxLifetime), writing nothing, unless the session lasts until at least this instant after
   * the touch: a use that cannot be served is not counted.
   */
  readonly minEndsAt?: string;
}

export interface SessionStore {
  /** Conditional put (the id must be new). Throws SessionAlreadyExistsError otherwise. */
  create(session: Session): Promise<void>;
  /** Strongly consistent read. */
  get(sessionId: string): Promise<Session | undefined>;
  /**
   * One conditional write that is also the revocation check: succeeds only while the session is active,
   * owned by the principal `principalArn` (not merely a same-named one) and not past expiry. Counts the
   * request, sets lastAccessAt and, when `extendTo` is given, moves expiresAt there (never past
   * maxExpiresAt, never backwards). Returns the updated session.
   */
  touch(sessionId: string, input: TouchInput): Promise<TransitionResult>;
  /** active → revoked, conditional on active. */
  revoke(
    sessionId: string,
    input: { readonly by: string; readonly reason: string; readonly now: Date },
  ): Promise<TransitionResult>;
  /** active → expired, conditional on active and (unless `force`) past expiresAt. */
  expire(
    sessionId: string,
    input: { readonly reason: ExpiredReason; readonly now: Date; readonly force?: boolean },
  ): Promise<TransitionResult>;
  /** A user's sessions, newest first. */
  listByUser(user: string, page?: PageRequest): Promise<Page<Session>>;
  /** Sessions still active and not past expiry at `now`, soonest expiry first within a page. */
  listActive(now: Date, page?: PageRequest): Promise<Page<Session>>;
  /**
   * Revoked and force-expired sessions whose enforcement began (revokedAt, or expiredAt of a forced expiry)
   * after `since`, newest first: those whose credentials may still be live (the revocation reconciler).
   */
  listEnforceable(since: Date, page?: PageRequest): Promise<Page<Session>>;
}

/** Short-lived credentials in the container-credentials shape the AWS SDKs read. */
export interface IssuedCredentials {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
  readonly Token: string;
  /** ISO-8601 UTC. */
  readonly Expiration: string;
}

export interface CredentialRequest {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly sourceIdentity: string;
  readonly sessionId: string;
  readonly durationSeconds: number;
}

/**
 * Failures a CredentialIssuer reports, named so that use cases can map them without knowing STS.
 * Adapters translate their SDK errors into these. Names are literals so the minified bundle logs them as
 * written.
 */
abstract class IssuerError extends Error {
  override readonly name: string = 'IssuerError';
}

/** The issuer refused (AccessDenied, a trust policy that does not allow us, a disabled region …): 502. */
export class IssuerDeniedError extends IssuerError {
  override readonly name = 'IssuerDeniedError';
}

/** The issuer throttled us and the SDK's retries did not get through: 503, the caller may retry later. */
export class IssuerThrottledError extends IssuerError {
  override readonly name = 'IssuerThrottledError';
}

/** Anything else from the issuer (network, 5xx, an answer without credentials): 502. */
export class IssuerFailedError extends IssuerError {
  override readonly name = 'IssuerFailedError';
}

export interface CredentialIssuer {
  /** `abortSignal`: the caller no longer wants the credentials (e.g. the session could not be recorded). */
  issue(
    request: CredentialRequest,
    options?: { readonly abortSignal?: AbortSignal },
  ): Promise<IssuedCredentials>;
}

/** One event for the bus; `detail` follows the contracts in src/domain/events.ts and events/schemas. */
export type DomainEvent = SessionEvent;

export interface PublishResult {
  /** Events the bus did not accept after retries, with the reason it gave. */
  readonly failed: readonly { readonly event: DomainEvent; readonly errorCode: string }[];
}

export interface EventPublisher {
  publish(events: readonly DomainEvent[]): Promise<PublishResult>;
}

/** The workflows' inputs are decided by the domain (src/domain/workflows.ts). */
export type { LifecycleInput, RevocationFanoutInput, RevocationFanoutStart };

export interface WorkflowControl {
  /** Starts the lifecycle workflow named by the session id; an existing execution counts as started. */
  startLifecycle(input: LifecycleInput): Promise<{ readonly alreadyStarted: boolean }>;
  /** Stops the session's lifecycle execution; a missing or finished execution is not an error. */
  stopLifecycle(sessionId: string, cause: string): Promise<{ readonly stopped: boolean }>;
  /**
   * Starts revocation fan-out named `revoke-<sessionId>`. An existing execution counts as started only while
   * it runs or if it succeeded; after a failed one a retry (`revoke-<sessionId>-r<n>`, bounded) is started.
   */
  startRevocationFanout(input: RevocationFanoutInput): Promise<RevocationFanoutStart>;
}

/**
 * Cuts off a revoked session's credentials where they are used: IAM denies every request whose principal
 * carries the session tag SentinelSessionID=<sessionId> on the profile's role (see src/domain/deny-list.ts).
 */
export interface AccessEnforcer {
  /**
   * Adds the session to the role's deny list, kept at least until `until` (ISO-8601 UTC), after which no
   * credential carrying its tag can be alive. Idempotent; a repeat reports `alreadyDenied`. `mode` says how
   * the role's policy denies it (absent: listed by id), `tokenIssuedBefore` the role-wide cut when there is one.
   */
  denySession(input: {
    readonly roleArn: string;
    readonly sessionId: string;
    readonly until: string;
  }): Promise<{
    readonly alreadyDenied: boolean;
    readonly mode?: 'session-tag' | 'token-issue-time';
    readonly tokenIssuedBefore?: string;
  }>;
}

/** Reads a role's deny-list row as it stands (strongly consistent), for the revocation reconciler. */
export interface DenyListSource {
  /** A role without a row has an empty list. */
  read(roleArn: string): Promise<DenyListState>;
}

/**
 * The access policy in force (docs/design.md, "Access policy"). Read on every vend from a cache, so an edit
 * applies within the cache's max age without a deploy.
 */
export interface AccessPolicySource {
  /** Throws PolicyUnavailableError when no valid policy can be read: every vend is then denied. */
  current(): Promise<AccessPolicy>;
}

/** No valid access policy: unreadable, or invalid (the message lists the problems). Vending fails closed. */
export class PolicyUnavailableError extends Error {
  override readonly name = 'PolicyUnavailableError';
}

/** What the revocation enforcer is asked to deny: a session on its role, until its credentials are dead. */
export interface EnforcementInput {
  readonly sessionId: string;
  readonly roleArn: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
}

/** What the enforcer did: how the role's policy denies the session now, and until when. */
export interface EnforcementResult {
  readonly sessionId: string;
  readonly roleArn: string;
  readonly deniedUntil: string;
  readonly alreadyDenied: boolean;
  /** How the role's policy denies it now: listed by id, or under the role-wide token-issue-time cut. */
  readonly mode: DenyMode;
  /** token-issue-time mode: credentials of the role issued before this instant are denied. */
  readonly tokenIssuedBefore?: string;
  /** The session row was malformed and enforced from what could be read of it: what was wrong. */
  readonly rowProblem?: string;
}

/**
 * The revocation enforcer as the reconciler reaches it: the deployed enforcer function (which re-reads and
 * checks the row), or its use case in-process. Rejects with the enforcer's refusal or fault.
 */
export type RevocationEnforcement = (input: EnforcementInput) => Promise<EnforcementResult>;
