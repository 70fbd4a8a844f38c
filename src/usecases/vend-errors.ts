/**
 * Failures of the credential issuer, named so that use cases can map them without knowing STS.
 * Adapters (sts-credential-issuer) translate their SDK errors into these. Names are literals so that the
 * minified bundle logs them as written.
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
