/**
 * Bundle-time stand-in for `@aws-sdk/credential-provider-node` (scripts/build.ts aliases it here).
 *
 * On Lambda the runtime puts the function role's credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, and the SDK's default chain resolves them from there first; the rest of that chain
 * (SSO, ini files, credential_process, web identity, ECS/IMDS …) is never reached, yet it is a large part
 * of every client's bundle and of its cold import. This provider keeps only the environment step.
 * Explicit `credentials` given to a client still win over it, as with the real chain.
 */
interface EnvCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export class EnvCredentialsMissingError extends Error {
  override readonly name = 'CredentialsProviderError';
  /** The SDK's chains treat a provider error with tryNextLink as "not here"; there is no next link here. */
  readonly tryNextLink = false;
}

export const defaultProvider =
  (_init: unknown = {}) =>
  async (): Promise<EnvCredentials> => {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new EnvCredentialsMissingError(
        'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set: this bundle reads credentials from the Lambda environment only',
      );
    }
    const sessionToken = process.env.AWS_SESSION_TOKEN;
    const expiry = process.env.AWS_CREDENTIAL_EXPIRATION;
    return {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      ...(expiry ? { expiration: new Date(expiry) } : {}),
    };
  };
