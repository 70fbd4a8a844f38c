/**
 * The secrets scanner itself (test/support/secret-scan.ts): it must catch a credential planted in each kind of
 * source the suites collect, say where, never print the secret, and stay quiet on the pipeline's normal output.
 */
import { describe, expect, it } from 'vitest';
import { OfflineCredentialIssuer } from '../../local/offline-credential-issuer.js';
import { describeHits, findSecrets, type IssuedCredentialValues } from '../support/secret-scan.js';

const issueOne = async (sessionId: string): Promise<IssuedCredentialValues> => {
  const issued = await new OfflineCredentialIssuer({ warn: () => undefined }).issue({
    roleArn: 'arn:aws:iam::123456789012:role/sentinel-local-dev',
    roleSessionName: `s-${sessionId}-alice`,
    sourceIdentity: 'sentinel=alice=direct=req-1',
    sessionId,
    durationSeconds: 900,
  });
  return {
    accessKeyId: issued.AccessKeyId,
    secretAccessKey: issued.SecretAccessKey,
    sessionToken: issued.Token,
  };
};

const SESSION_ID = '0123456789abcdef0123456789abcdef';

/** What the pipeline writes for a session, shaped as the suites collect it (no credential anywhere). */
const normalOutput = [
  {
    where: 'log line 1',
    text: '{"level":"WARN","message":"!!! OFFLINE CREDENTIAL ISSUER: these are FAKE credentials for local development; no AWS service accepts them. Never deploy the offline issuer. !!!","accessKeyPrefix":"ASIAOFFLINEFAKE"}',
  },
  {
    where: 'log line 2',
    text: `{"level":"INFO","message":"session created","sessionId":"${SESSION_ID}","requestId":"5f0b8e2c-1d7a-4a55-9a43-7d1b0c2f9e11","credentialExpiration":"2026-11-28T10:15:00.000Z","tracked":true}`,
  },
  {
    where: 'bus event 1 (SessionCreated)',
    text: `{"version":"0","id":"1b4e28ba-2fa1-11d2-883f-0016d3cca427","detail-type":"SessionCreated","source":"sentinel.sessions","detail":{"schemaVersion":"2","sessionId":"${SESSION_ID}","principalArn":"arn:aws:iam::123456789012:user/alice","roleArn":"arn:aws:iam::123456789012:role/sentinel-local-dev","sourceIdentity":"sentinel=alice=direct=5f0b8e2c-1d7a-4a55-9a43-7d1b0c2f9e11"}}`,
  },
  {
    where: 'execution SessionLifecycleStateMachine/x input',
    text: `{"sessionId":"${SESSION_ID}","maxExpiresAt":"2026-11-28T11:00:00Z","user":"alice","profile":"dev"}`,
  },
  {
    where: 'StreamIdempotencyTable item 1',
    text: '{"id":"lifecycle-consumer#1f3870be274f6c49b3e31a0c6728957f","status":"COMPLETED","data":"{\\"eventId\\":\\"a9c7c8e3f0b84f4b8d7e6a5b4c3d2e1f\\",\\"change\\":\\"insert\\"}","expiration":1796000000}',
  },
  {
    where: 'commit digest next to a key-ish word',
    text: 'access policy version hash da39a3ee5e6b4b0d3255bfef95601890afd80709',
  },
];

describe('findSecrets', () => {
  it('does not flag the normal pipeline output', async () => {
    // Arrange
    const issued = [await issueOne(SESSION_ID)];

    // Act
    const hits = findSecrets(normalOutput, issued);

    // Assess
    expect(describeHits(hits)).toBe('');
  });

  it('finds an issued credential planted in each kind of source, says where, and never prints it', async () => {
    // Arrange
    const credentials = await issueOne(SESSION_ID);
    const planted = [
      {
        where: 'log line 7',
        text: `{"level":"INFO","message":"vended","credentials":${JSON.stringify(credentials)}}`,
      },
      { where: 'bus event 3 (SessionTouched)', text: `{"detail":{"token":"${credentials.sessionToken}"}}` },
      {
        where: 'execution RevocationFanoutStateMachine/revoke-x output',
        text: `{"enforcement":{"note":"key=${credentials.secretAccessKey}"}}`,
      },
      {
        where: 'IdempotencyTable item 2',
        text: `{"data":"{\\"AccessKeyId\\":\\"${credentials.accessKeyId}\\"}"}`,
      },
    ];

    // Act
    const hits = findSecrets([...normalOutput, ...planted], [credentials]);

    // Assess
    expect(hits.map((hit) => [hit.where, hit.kind])).toEqual([
      ['log line 7', 'issued-access-key-id'],
      ['log line 7', 'issued-secret-access-key'],
      ['log line 7', 'issued-session-token'],
      ['bus event 3 (SessionTouched)', 'issued-session-token'],
      ['execution RevocationFanoutStateMachine/revoke-x output', 'issued-secret-access-key'],
      ['IdempotencyTable item 2', 'issued-access-key-id'],
    ]);
    const printed = describeHits(hits);
    for (const secret of Object.values(credentials)) expect(printed).not.toContain(secret);
    expect(printed).toContain('[issued-secret-access-key, ');
  });

  it('finds credential-shaped strings that nobody issued in this run', () => {
    // Arrange: the shapes of real AWS credentials (AWS's documentation examples) and a stray offline one
    const sources = [
      { where: 'log line 1', text: 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE' },
      { where: 'log line 2', text: '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"' },
      {
        where: 'log line 3',
        text: `"SessionToken":"IQoJb3JpZ2luX2VjEHoaCXVzLWVhc3QtMSJHMEUCIQD${'A'.repeat(120)}"`,
      },
      { where: 'log line 4', text: `{"x-amz-security-token":"${'Zm9vYmFy'.repeat(20)}"}` },
      { where: 'log line 5', text: 'leftover OFFLINE-FAKE-TOKEN-eyJzZXNzaW9uSWQiOiIwMTIzIn0' },
    ];

    // Act
    const hits = findSecrets(sources, []);

    // Assess
    expect(hits.map((hit) => [hit.where, hit.kind])).toEqual([
      ['log line 1', 'access-key-id-shaped'],
      ['log line 2', 'secret-access-key-shaped'],
      ['log line 3', 'session-token-shaped'],
      ['log line 4', 'session-token-shaped'],
      ['log line 5', 'offline-credential-shaped'],
    ]);
    expect(describeHits(hits)).not.toContain('wJalrXUtnFEMI');
  });
});
