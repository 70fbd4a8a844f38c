/**
 * SigV4 for the API's AWS_IAM authorizer: service `execute-api`, the API's region, the signing identity's
 * credentials. Method, host, path, query and body are all signed. No `x-amz-content-sha256` header
 * (applyChecksum off): execute-api does not ask for it, and the signature covers the body hash anyway.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export type CredentialSource = () => Promise<SigningCredentials>;

export interface RequestToSign {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export const createSigner = (input: {
  readonly region: string;
  readonly credentials: CredentialSource;
  /** `execute-api` for the API; the AWS test suite's vectors use `service`. */
  readonly service?: string;
}): SignatureV4 =>
  new SignatureV4({
    service: input.service ?? 'execute-api',
    region: input.region,
    credentials: input.credentials,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
    uriEscapePath: true,
  });

/** RFC 3986 escaping, as SigV4 canonicalizes: what goes on the wire is exactly what was signed. */
export const escapeUri = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The query string to send, escaped as SigV4 escapes it. */
export const queryString = (query: Readonly<Record<string, string>>): string =>
  Object.entries(query)
    .map(([key, value]) => `${escapeUri(key)}=${escapeUri(value)}`)
    .join('&');

/** The headers to send: the request's own plus `x-amz-date`, `authorization` and the session token. */
export const signRequest = async (
  signer: SignatureV4,
  request: RequestToSign,
  signingDate?: Date,
): Promise<Record<string, string>> => {
  const query: Record<string, string> = {};
  for (const [key, value] of request.url.searchParams) query[key] = value;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port ? { port: Number(request.url.port) } : {}),
      path: request.url.pathname,
      query,
      // The host header is signed; fetch sends the same one from the URL.
      headers: { ...request.headers, host: request.url.host },
      ...(request.body === undefined ? {} : { body: request.body }),
    },
    signingDate ? { signingDate } : {},
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    if (name.toLowerCase() !== 'host') headers[name] = String(value);
  }
  return headers;
};
