/**
 * The signer the CLI uses, run through the AWS SigV4 test suite's `get-vanilla` vector, then through the
 * CLI's own request builder: what goes on the wire (path, query, body) is what was signed.
 */
import { describe, expect, it } from 'vitest';
import { createApiClient } from '../../../src/cli/http.js';
import { createSigner, escapeUri, queryString, signRequest } from '../../../src/cli/sigv4.js';

const SUITE_CREDENTIALS = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
});
const SUITE_DATE = new Date('2015-08-30T12:36:00Z');

const signatureOf = (headers: Record<string, string>): string =>
  /Signature=([0-9a-f]{64})$/.exec(headers.authorization ?? '')?.[1] ?? 'none';

describe('SigV4', () => {
  it('signs the test suite get-vanilla request to its published Authorization header', async () => {
    // Prepare: the CLI's signer configuration, with the suite's region, service and credentials.
    const signer = createSigner({ region: 'us-east-1', service: 'service', credentials: SUITE_CREDENTIALS });

    // Act
    const headers = await signRequest(
      signer,
      { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} },
      SUITE_DATE,
    );

    // Assess
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, ' +
        'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    // No content-hash header: execute-api does not ask for one, and it would change the signature.
    expect(Object.keys(headers)).not.toContain('x-amz-content-sha256');
  });

  it('signs the query and the body: changing either changes the signature', async () => {
    const signer = createSigner({ region: 'eu-west-1', credentials: SUITE_CREDENTIALS });
    const sign = (url: string, body?: string) =>
      signRequest(
        signer,
        {
          method: 'POST',
          url: new URL(url),
          headers: { 'content-type': 'application/json' },
          ...(body ? { body } : {}),
        },
        SUITE_DATE,
      ).then(signatureOf);
    const base = 'https://abc.execute-api.eu-west-1.amazonaws.com/v1/sessions';

    const reference = await sign(`${base}?limit=10`, '{"profile":"dev"}');

    expect(await sign(`${base}?limit=10`, '{"profile":"dev"}')).toBe(reference);
    expect(await sign(`${base}?limit=10`, '{"profile":"prod"}')).not.toBe(reference);
    expect(await sign(`${base}?limit=11`, '{"profile":"dev"}')).not.toBe(reference);
    expect(await sign(`${base}/x?limit=10`, '{"profile":"dev"}')).not.toBe(reference);
  });

  it('the request builder sends exactly the request it signed, with the session token', async () => {
    // Prepare: capture what goes on the wire.
    let sent: { url: string; init: RequestInit } | undefined;
    const signer = createSigner({
      region: 'eu-west-1',
      credentials: async () => ({ ...(await SUITE_CREDENTIALS()), sessionToken: 'TOKEN' }),
    });
    const api = createApiClient({
      target: {
        kind: 'aws',
        base: new URL('https://abc.execute-api.eu-west-1.amazonaws.com'),
        region: 'eu-west-1',
        awsProfile: undefined,
      },
      signer,
      fetch: async (url, init) => {
        sent = { url, init };
        return Response.json({ sessions: [] });
      },
    });

    // Act: a principal ARN and a cursor need escaping.
    await api.request({
      method: 'GET',
      path: '/v1/sessions',
      query: { principal: 'arn:aws:iam::123456789012:user/a b', cursor: "x+y=*!'()", user: undefined },
    });

    // Assess: the wire query is RFC 3986-escaped, as SigV4 canonicalizes it.
    const url = new URL(sent?.url ?? '');
    expect(url.search).toBe(
      `?principal=${escapeUri('arn:aws:iam::123456789012:user/a b')}&cursor=x%2By%3D%2A%21%27%28%29`,
    );
    const headers = sent?.init.headers as Record<string, string>;
    expect(headers['x-amz-security-token']).toBe('TOKEN');
    expect(Object.keys(headers)).not.toContain('host');
    // Re-signing the wire request at its own x-amz-date gives the same signature.
    const date = headers['x-amz-date'] ?? '';
    const at = new Date(
      `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
    );
    const again = await signRequest(
      signer,
      { method: 'GET', url, headers: { accept: 'application/json' } },
      at,
    );
    expect(signatureOf(headers)).toBe(signatureOf(again));
  });

  it('escapes as RFC 3986 (what URLSearchParams does differently)', () => {
    expect(queryString({ a: 'x y', b: "*!'()", c: 'é/~' })).toBe('a=x%20y&b=%2A%21%27%28%29&c=%C3%A9%2F~');
  });
});
