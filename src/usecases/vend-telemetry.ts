/** Logs and metrics as the vend use cases see them; the handler backs this with Powertools. */

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
  /**
   * Credentials minted for a session that ended (revoked, expired, removed) while STS answered: withheld,
   * never handed out (the after-issue re-read, issue-credentials.ts).
   */
  | 'CredentialsWithheld'
  | 'ProfileChanged'
  /** The access policy refused a vend (VendDenied published). */
  | 'VendDenied'
  /** No valid access policy could be read; the vend was denied. */
  | 'PolicyUnavailable'
  /** A session row could not be read as a session (hand-written, corrupted): denied whatever the mode. */
  | 'SessionRecordMalformed';

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
