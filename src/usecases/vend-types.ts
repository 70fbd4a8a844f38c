/** What the vend use cases share: their outcome, their refusals and their window on logs and metrics. */
import type { Session } from '../domain/session.js';
import type { IssuedCredentials } from '../ports.js';
import { IssuerDeniedError, IssuerThrottledError } from '../ports.js';

/**
 * SESSION_STORE_FAILURE (invariant 5): what to do when the Sessions table cannot be reached.
 * - `deny` (default): 503, nothing vended.
 * - `allow`: logged and counted, and
 *   - create vends credentials without a row (untracked: no refresh, no lifecycle, no SessionCreated event;
 *     the credentials still end at the session's initial expiry, so invariant 3 holds),
 *   - refresh vends only for a session this container saw active, owned by the caller and not past the
 *     expiry it last saw, for at most the time left until that expiry, never extending it. Its revocation
 *     status is unknown: that is the risk the switch accepts. Any other session id is still denied.
 */
export type StoreFailureMode = 'deny' | 'allow';
export const STORE_FAILURE_MODES = ['deny', 'allow'] as const satisfies readonly StoreFailureMode[];

export interface Vended {
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly credentials: IssuedCredentials;
}

export type VendRefusal =
  | { readonly kind: 'UnknownProfile'; readonly profile: string }
  /**
   * Refresh of a session whose profile left the allowlist, or whose profile now maps to another role than
   * the one the session was created with: the stored role is no longer ours to hand out (403 ProfileChanged).
   */
  | { readonly kind: 'ProfileChanged'; readonly profile: string; readonly reason: 'removed' | 'roleChanged' }
  | {
      readonly kind: 'DurationOutOfRange';
      readonly min: number;
      readonly max: number;
      readonly requested: number;
    }
  | { readonly kind: 'SessionNotFound' }
  | { readonly kind: 'NotOwner' }
  | { readonly kind: 'SessionRevoked' }
  | { readonly kind: 'SessionExpired'; readonly expiresAt: string }
  | { readonly kind: 'SessionAtMaxLifetime'; readonly remainingSeconds: number }
  | { readonly kind: 'IssuerDenied' }
  | { readonly kind: 'IssuerThrottled' }
  | { readonly kind: 'IssuerFailed' }
  | { readonly kind: 'StoreUnavailable' };

export type VendMetric =
  | 'SessionCreated'
  | 'SessionRefreshed'
  | 'SessionExpiredLazily'
  | 'StoreFailureAllowed'
  | 'StoreFailureDenied'
  | 'EventPublishFailed'
  | 'IssuerFailure'
  /** The issuer answered with an Expiration after the session's end (an issuer bug; refused, 502). */
  | 'CredentialOutlivesSession'
  /** A created row force-expired because no credentials were issued for it. */
  | 'SessionForceExpired'
  /** A force-expiry that could not be written: the row stays active until the workflow expires it. */
  | 'SessionForceExpireFailed'
  /** Credentials STS minted for a session the store did not record (deny mode): discarded, not returned. */
  | 'CredentialsDiscarded'
  | 'ProfileChanged';

/** Logs and metrics as the use cases see them; the handler backs this with Powertools. */
export interface VendTelemetry {
  count(metric: VendMetric, value?: number): void;
  info(message: string, attributes?: Readonly<Record<string, unknown>>): void;
  warn(message: string, attributes?: Readonly<Record<string, unknown>>): void;
  error(message: string, attributes?: Readonly<Record<string, unknown>>): void;
  /** The session this request is about, as soon as it is known (log correlation). */
  session(sessionId: string): void;
}

export const silentTelemetry: VendTelemetry = {
  count: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  session: () => undefined,
};

export const issuerRefusal = (error: unknown): VendRefusal =>
  error instanceof IssuerDeniedError
    ? { kind: 'IssuerDenied' }
    : error instanceof IssuerThrottledError
      ? { kind: 'IssuerThrottled' }
      : { kind: 'IssuerFailed' };

/**
 * Invariant 3, checked on what the issuer actually returned: credentials must end no later than their
 * session. DurationSeconds already leaves a safety margin, so a later Expiration (or an unreadable one) is
 * an issuer bug, and the use cases fail closed on it.
 */
export const outlivesSession = (credentials: IssuedCredentials, expiresAt: string): boolean => {
  const expiration = new Date(credentials.Expiration).getTime();
  const end = new Date(expiresAt).getTime();
  return !(Number.isFinite(expiration) && Number.isFinite(end) && expiration <= end);
};

/** Name, code and message for a log line: SDK messages carry ARNs and reasons, never a credential. */
export const describeError = (error: unknown): Record<string, string> => {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      errorName: error.name,
      ...(typeof code === 'string' ? { errorCode: code } : {}),
      errorMessage: error.message,
    };
  }
  return { errorName: typeof error };
};

/**
 * Sessions this container last saw active (for `allow` on refresh only). Bounded; the oldest entry goes first.
 */
export class LastKnownSessions {
  readonly #entries = new Map<string, Session>();
  constructor(readonly capacity = 1000) {}
  remember(session: Session): void {
    this.#entries.delete(session.sessionId);
    if (session.status !== 'active') return;
    this.#entries.set(session.sessionId, session);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
  forget(sessionId: string): void {
    this.#entries.delete(sessionId);
  }
  get(sessionId: string): Session | undefined {
    return this.#entries.get(sessionId);
  }
}
