/**
 * CredentialIssuer on STS AssumeRole. Every credential carries the session id as a transitive session tag
 * (`SentinelSessionID`) so a deny-list policy can cut off one session, and a SourceIdentity that CloudTrail
 * keeps through any role chaining.
 */
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  type AssumeRoleCommandOutput,
  type STSClient,
} from '@aws-sdk/client-sts';
import type { CredentialIssuer, CredentialRequest, IssuedCredentials } from '../ports.js';
import { IssuerDeniedError, IssuerFailedError, IssuerThrottledError } from '../ports.js';

export const SESSION_TAG_KEY = 'SentinelSessionID';

/** STS refusals that retrying cannot fix: our role, its trust policy or the account says no. */
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'PackedPolicyTooLarge',
  'PackedPolicyTooLargeException',
  'RegionDisabledException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidIdentityToken',
]);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

export const assumeRoleInput = (request: CredentialRequest): AssumeRoleCommandInput => ({
  RoleArn: request.roleArn,
  RoleSessionName: request.roleSessionName,
  DurationSeconds: request.durationSeconds,
  SourceIdentity: request.sourceIdentity,
  Tags: [{ Key: SESSION_TAG_KEY, Value: request.sessionId }],
  // Transitive: the tag survives role chaining, so a chained session is still cut off with its parent.
  TransitiveTagKeys: [SESSION_TAG_KEY],
});

export class StsCredentialIssuer implements CredentialIssuer {
  readonly #client: STSClient;

  /** The client's own retry strategy (standard mode) handles throttling before we see it. */
  constructor(options: { readonly client: STSClient }) {
    this.#client = options.client;
  }

  /** An aborted signal skips the call if it has not been sent yet, or abandons it in flight. */
  async issue(
    request: CredentialRequest,
    options: { readonly abortSignal?: AbortSignal } = {},
  ): Promise<IssuedCredentials> {
    let output: AssumeRoleCommandOutput;
    try {
      output = await this.#client.send(
        new AssumeRoleCommand(assumeRoleInput(request)),
        options.abortSignal ? { abortSignal: options.abortSignal } : {},
      );
    } catch (error) {
      throw translate(error);
    }
    const c = output.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new IssuerFailedError('AssumeRole answered without complete credentials');
    }
    return {
      AccessKeyId: c.AccessKeyId,
      SecretAccessKey: c.SecretAccessKey,
      Token: c.SessionToken,
      Expiration: new Date(c.Expiration).toISOString(),
    };
  }
}

const translate = (error: unknown): Error => {
  const name = error instanceof Error ? error.name : 'UnknownError';
  const throttling =
    (error as { $retryable?: { throttling?: boolean } } | null)?.$retryable?.throttling === true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  // The SDK's message names the role and the reason; it never contains a credential.
  const message = `AssumeRole failed: ${name}${error instanceof Error ? `: ${error.message}` : ''}`;
  if (DENIED.has(name) || status === 403) return new IssuerDeniedError(message, { cause: error });
  if (THROTTLED.has(name) || throttling || status === 429)
    return new IssuerThrottledError(message, { cause: error });
  return new IssuerFailedError(message, { cause: error });
};
