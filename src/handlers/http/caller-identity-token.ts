/**
 * Who is calling, proven by the caller itself: a presigned STS GetCallerIdentity request (docs/design.md,
 * "Downstream verifier"). A Lambda authorizer is never given API Gateway's IAM context, and any header that
 * merely names an ARN can be forged. A presigned request cannot: only the holder of the credentials can sign
 * it, and STS, not this code, checks the signature and answers with the signer's ARN. The same scheme as
 * IAM authentication in EKS (aws-iam-authenticator) and HashiCorp Vault.
 *
 * The client signs `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15`
 * (query-string SigV4, at most 15 minutes) with the header `x-sentinel-audience: <the API's audience>` among
 * the signed headers, and sends `sentinel-sts-v1.<base64url of the URL>` as its Authorization header. The
 * verifier sends the URL to STS with its own configured audience, so a token made for one service fails the
 * signature check at another. The token carries a session token and is never logged.
 */
import { describeError } from '../../domain/errors.js';

export const CALLER_TOKEN_PREFIX = 'sentinel-sts-v1.';
/** Signed into the presigned request: binds a token to the one service it was made for. */
export const AUDIENCE_HEADER = 'x-sentinel-audience';
/** STS's own cap on a presigned request's validity. */
export const MAX_PRESIGN_SECONDS = 900;
/** Clock skew tolerated on a token signed "in the future". */
const CLOCK_SKEW_SECONDS = 60;
/** A presigned URL with a session token is 1.5-3 KB; base64 adds a third. */
const MAX_TOKEN_LENGTH = 8192;

/** The token is absent, not one of ours, expired, or STS refused its signature: the caller is not proven. */
export class InvalidCallerTokenError extends Error {
  override readonly name = 'InvalidCallerTokenError';
}

/** STS could not be asked (network, timeout, 5xx, throttled): nothing is proven either way, so deny. */
export class CallerIdentityUnavailableError extends Error {
  override readonly name = 'CallerIdentityUnavailableError';
}

/** Only real STS endpoints (global, regional, FIPS, China): the URL is fetched, so nothing else may be. */
const STS_HOST = /^sts(-fips)?(\.[a-z]{2}(-[a-z]+)+-\d{1,2})?\.amazonaws\.com(\.cn)?$/;
const REQUIRED_QUERY: Readonly<Record<string, RegExp>> = {
  Action: /^GetCallerIdentity$/,
  Version: /^2011-06-15$/,
  'X-Amz-Algorithm': /^AWS4-HMAC-SHA256$/,
  'X-Amz-Credential': /^[A-Z0-9]{16,128}\/\d{8}\/[a-z0-9-]{1,32}\/sts\/aws4_request$/,
  'X-Amz-Date': /^\d{8}T\d{6}Z$/,
  'X-Amz-Expires': /^\d{1,4}$/,
  'X-Amz-SignedHeaders': /^[a-z0-9;-]{1,256}$/,
  'X-Amz-Signature': /^[0-9a-f]{64}$/,
};
const OPTIONAL_QUERY = new Set(['X-Amz-Security-Token']);

const signedAtOf = (amzDate: string): number =>
  Date.UTC(
    Number(amzDate.slice(0, 4)),
    Number(amzDate.slice(4, 6)) - 1,
    Number(amzDate.slice(6, 8)),
    Number(amzDate.slice(9, 11)),
    Number(amzDate.slice(11, 13)),
    Number(amzDate.slice(13, 15)),
  );

/**
 * The presigned STS URL a token carries, after every check that needs no network: an STS host over HTTPS,
 * exactly the GetCallerIdentity query, the audience header signed, within its validity at `now`.
 */
export const parseCallerToken = (token: unknown, options: { readonly now: Date }): URL => {
  if (typeof token !== 'string' || token.length === 0) throw new InvalidCallerTokenError('no caller token');
  const bare = token.replace(/^Bearer\s+/i, '').trim();
  if (bare.length > MAX_TOKEN_LENGTH) throw new InvalidCallerTokenError('caller token too long');
  if (!bare.startsWith(CALLER_TOKEN_PREFIX)) {
    throw new InvalidCallerTokenError(`caller token does not start with ${CALLER_TOKEN_PREFIX}`);
  }
  const encoded = bare.slice(CALLER_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(encoded))
    throw new InvalidCallerTokenError('caller token is not base64url');
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCallerTokenError('caller token does not hold a URL');
  }
  if (
    url.protocol !== 'https:' ||
    url.port !== '' ||
    url.username !== '' ||
    url.password !== '' ||
    url.hash
  ) {
    throw new InvalidCallerTokenError('caller token URL must be plain https');
  }
  if (!STS_HOST.test(url.hostname)) throw new InvalidCallerTokenError(`not an STS endpoint: ${url.hostname}`);
  if (url.pathname !== '/') throw new InvalidCallerTokenError('caller token URL has a path');
  const keys = [...url.searchParams.keys()];
  if (new Set(keys).size !== keys.length)
    throw new InvalidCallerTokenError('caller token repeats a parameter');
  for (const key of keys) {
    if (!(key in REQUIRED_QUERY) && !OPTIONAL_QUERY.has(key)) {
      throw new InvalidCallerTokenError(`unexpected parameter ${key}`);
    }
  }
  for (const [key, pattern] of Object.entries(REQUIRED_QUERY)) {
    const value = url.searchParams.get(key);
    if (value === null || !pattern.test(value))
      throw new InvalidCallerTokenError(`missing or invalid ${key}`);
  }
  const signedHeaders = (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes(AUDIENCE_HEADER)) {
    throw new InvalidCallerTokenError(`the signed headers must include host and ${AUDIENCE_HEADER}`);
  }
  const signedAt = signedAtOf(url.searchParams.get('X-Amz-Date') ?? '');
  const lifetime = Math.min(Number(url.searchParams.get('X-Amz-Expires')), MAX_PRESIGN_SECONDS);
  const now = options.now.getTime();
  if (Number.isNaN(signedAt) || signedAt > now + CLOCK_SKEW_SECONDS * 1000) {
    throw new InvalidCallerTokenError('caller token is signed in the future');
  }
  if (now > signedAt + lifetime * 1000) throw new InvalidCallerTokenError('caller token has expired');
  return url;
};

export type FetchLike = (
  url: string,
  init: {
    readonly method: 'GET';
    readonly headers: Record<string, string>;
    readonly redirect: 'error';
    readonly signal: AbortSignal;
  },
) => Promise<{ readonly status: number; text(): Promise<string> }>;

const ARN_IN_RESPONSE = /<GetCallerIdentityResult>[\s\S]*?<Arn>([^<&]{1,2048})<\/Arn>/;

/** Asks STS who signed the token. Resolves to the caller's ARN, or throws one of the two errors above. */
export const resolveCallerArn = async (
  token: unknown,
  options: {
    readonly audience: string;
    readonly now: Date;
    readonly fetch: FetchLike;
    readonly timeoutMs: number;
  },
): Promise<string> => {
  const url = parseCallerToken(token, { now: options.now });
  let response: Awaited<ReturnType<FetchLike>>;
  let body: string;
  try {
    response = await options.fetch(url.toString(), {
      method: 'GET',
      headers: { [AUDIENCE_HEADER]: options.audience, accept: 'application/xml' },
      // A redirect would take the signed request somewhere else.
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    body = await response.text();
  } catch (error) {
    const { errorName, errorMessage } = describeError(error);
    throw new CallerIdentityUnavailableError(`STS could not be reached: ${errorName}: ${errorMessage ?? ''}`);
  }
  if (response.status >= 500 || response.status === 429) {
    throw new CallerIdentityUnavailableError(`STS answered ${response.status}`);
  }
  if (response.status !== 200) {
    const code = /<Code>([\w.]{1,64})<\/Code>/.exec(body)?.[1] ?? 'unknown';
    throw new InvalidCallerTokenError(`STS refused the caller token (${response.status} ${code})`);
  }
  const arn = ARN_IN_RESPONSE.exec(body)?.[1];
  if (arn === undefined) throw new CallerIdentityUnavailableError('STS answered without an Arn');
  return arn;
};
