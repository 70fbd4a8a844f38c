/**
 * Failures of the credential issuer, named so that use cases can map them without knowing STS.
 * Adapters (sts-credential-issuer) translate their SDK errors into these.
 */
abstract class IssuerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The issuer refused (AccessDenied, a trust policy that does not allow us, a disabled region …): 502. */
export class IssuerDeniedError extends IssuerError {}

/** The issuer throttled us and the SDK's retries did not get through: 503, the caller may retry later. */
export class IssuerThrottledError extends IssuerError {}

/** Anything else from the issuer (network, 5xx, an answer without credentials): 502. */
export class IssuerFailedError extends IssuerError {}
