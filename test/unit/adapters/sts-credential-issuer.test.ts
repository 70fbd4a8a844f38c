/** The STS adapter against a mocked STS client: the exact AssumeRole input, the answer's shape, its errors. */
import { Readable } from 'node:stream';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { StsCredentialIssuer } from '../../../src/adapters/sts-credential-issuer.js';
import type { CredentialRequest } from '../../../src/ports.js';
import { IssuerDeniedError, IssuerFailedError, IssuerThrottledError } from '../../../src/ports.js';

const sts = mockClient(STSClient);
afterEach(() => sts.reset());

const REQUEST: CredentialRequest = {
  roleArn: 'arn:aws:iam::444455556666:role/sentinel/dev-access',
  roleSessionName: 'sentinel-alice@example.com-3f9c2b7a',
  sourceIdentity: 'sentinel=alice@example.com=direct=EXAMPLEreqId0',
  sessionId: '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79',
  durationSeconds: 1800,
};

const serviceError = (name: string, httpStatusCode: number, throttling = false): STSServiceException =>
  Object.assign(
    new STSServiceException({
      name,
      $fault: httpStatusCode >= 500 ? 'server' : 'client',
      $metadata: { httpStatusCode },
    }),
    throttling ? { $retryable: { throttling: true } } : {},
  );

describe('StsCredentialIssuer', () => {
  it('calls AssumeRole with exactly the role, names, duration, SourceIdentity and transitive session tag', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLEISSUED001',
        SecretAccessKey: 'example-secret',
        SessionToken: 'example-token',
        Expiration: new Date('2026-01-15T10:00:00Z'),
      },
    });
    const issuer = new StsCredentialIssuer({ client: new STSClient({ region: 'eu-west-1' }) });

    // Act
    const credentials = await issuer.issue(REQUEST);

    // Assess
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      {
        RoleArn: 'arn:aws:iam::444455556666:role/sentinel/dev-access',
        RoleSessionName: 'sentinel-alice@example.com-3f9c2b7a',
        DurationSeconds: 1800,
        SourceIdentity: 'sentinel=alice@example.com=direct=EXAMPLEreqId0',
        Tags: [{ Key: 'SentinelSessionID', Value: '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79' }],
        TransitiveTagKeys: ['SentinelSessionID'],
      },
    ]);
    expect(credentials).toEqual({
      AccessKeyId: 'ASIAEXAMPLEISSUED001',
      SecretAccessKey: 'example-secret',
      Token: 'example-token',
      Expiration: '2026-01-15T10:00:00.000Z',
    });
  });

  it.each([
    ['AccessDenied', 403, false, IssuerDeniedError],
    ['RegionDisabledException', 403, false, IssuerDeniedError],
    ['MalformedPolicyDocument', 400, false, IssuerDeniedError],
    ['Throttling', 400, true, IssuerThrottledError],
    ['RequestLimitExceeded', 400, false, IssuerThrottledError],
    ['InternalFailure', 500, false, IssuerFailedError],
  ] as const)('maps %s (HTTP %i) to %o', async (name, status, throttling, expected) => {
    sts.on(AssumeRoleCommand).rejects(serviceError(name, status, throttling));
    const issuer = new StsCredentialIssuer({
      client: new STSClient({ region: 'eu-west-1', maxAttempts: 1 }),
    });

    const failure = await issuer.issue(REQUEST).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(expected);
    expect((failure as Error).message).toContain(name);
  });

  it('hands the abort signal of the caller to the SDK, so an abandoned AssumeRole is skipped or cut off', async () => {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLEISSUED001',
        SecretAccessKey: 'example-secret',
        SessionToken: 'example-token',
        Expiration: new Date('2026-01-15T10:00:00Z'),
      },
    });
    const issuer = new StsCredentialIssuer({ client: new STSClient({ region: 'eu-west-1' }) });
    const abandon = new AbortController();

    await issuer.issue(REQUEST, { abortSignal: abandon.signal });

    // send(command, options): the mock types args as the command alone.
    const sendOptions = sts.commandCalls(AssumeRoleCommand).map((call) => {
      const args: readonly unknown[] = call.args;
      return args[1];
    });
    expect(sendOptions).toEqual([{ abortSignal: abandon.signal }]);
  });

  it('refuses an answer without complete credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: undefined });
    const issuer = new StsCredentialIssuer({ client: new STSClient({ region: 'eu-west-1' }) });

    await expect(issuer.issue(REQUEST)).rejects.toBeInstanceOf(IssuerFailedError);
  });
});

describe('StsCredentialIssuer with the SDK retrying for real', () => {
  it('gives up with IssuerThrottledError only after the client used all its attempts', async () => {
    // Prepare: a real STSClient whose HTTP layer always answers STS's throttling error.
    sts.restore();
    let calls = 0;
    const throttled =
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>' +
      '<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fixture</RequestId></ErrorResponse>';
    const client = new STSClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIAFIXTURE', secretAccessKey: 'fixture' },
      maxAttempts: 3,
      requestHandler: {
        handle: async () => {
          calls += 1;
          return {
            response: {
              statusCode: 400,
              headers: { 'content-type': 'text/xml' },
              body: Readable.from([Buffer.from(throttled)]),
            },
          };
        },
      },
    });
    const issuer = new StsCredentialIssuer({ client });
    try {
      // Act / Assess
      await expect(issuer.issue(REQUEST)).rejects.toBeInstanceOf(IssuerThrottledError);
      expect(calls).toBe(3);
    } finally {
      client.destroy();
    }
  }, 20_000);
});
