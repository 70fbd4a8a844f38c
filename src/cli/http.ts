/**
 * One request to the API: SigV4-signed in AWS, with the local caller header on the local stack; a time
 * limit on every request; every answer read as JSON. What can go wrong becomes one clean message: an
 * unreachable API, a timeout, a non-JSON answer, a 5xx, or the API's own `{code, message}` (an ApiError).
 */
import type { SignatureV4 } from '@smithy/signature-v4';
import { isRecord } from '../domain/json.js';
import { ApiError, failure } from './errors.js';
import { queryString, signRequest } from './sigv4.js';
import { LOCAL_CALLER_HEADER, type Target } from './target.js';

/** API Gateway gives an integration at most 30 s; the vend function has 10 s. */
export const REQUEST_TIMEOUT_MS = 15_000;

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiRequest {
  readonly method: 'GET' | 'POST';
  /** Already escaped, as it goes on the wire (e.g. `/v1/sessions/abc/revoke`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type JsonObject = Readonly<Record<string, unknown>>;

export interface ApiClient {
  readonly target: Target;
  request(request: ApiRequest): Promise<JsonObject>;
}

/** Node's fetch wraps socket errors: the code (ECONNREFUSED …) is on the cause. */
const networkCode = (error: unknown): string | undefined => {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
};

export const createApiClient = (input: {
  readonly target: Target;
  readonly fetch: Fetch;
  /** Required for an AWS target. */
  readonly signer?: SignatureV4;
  readonly timeoutMs?: number;
}): ApiClient => {
  const { target } = input;
  const timeoutMs = input.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const where = target.base.origin;
  return {
    target,
    async request(request) {
      const query = Object.fromEntries(
        Object.entries(request.query ?? {}).filter(
          (entry): entry is [string, string] => entry[1] !== undefined,
        ),
      );
      const search = queryString(query);
      const basePath = target.base.pathname.replace(/\/+$/, '');
      const url = new URL(`${target.base.origin}${basePath}${request.path}${search ? `?${search}` : ''}`);
      const body = request.body === undefined ? undefined : JSON.stringify(request.body);
      const plain: Record<string, string> = {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      };
      let headers: Record<string, string>;
      if (target.kind === 'local') {
        headers = { ...plain, [LOCAL_CALLER_HEADER]: target.callerArn };
      } else {
        if (!input.signer) throw new Error('an AWS target needs a signer');
        headers = await signRequest(input.signer, {
          method: request.method,
          url,
          headers: plain,
          ...(body === undefined ? {} : { body }),
        });
      }
      let response: Response;
      let text: string;
      try {
        response = await input.fetch(url.href, {
          method: request.method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        text = await response.text();
      } catch (error) {
        if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
          throw failure(`the API at ${where} did not answer within ${Math.round(timeoutMs / 1000)} s`);
        }
        const code = networkCode(error);
        throw failure(`cannot reach API at ${where}${code ? ` (${code})` : ''}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw failure(`the API at ${where} answered ${response.status} with a body that is not JSON`);
      }
      if (!isRecord(parsed)) {
        throw failure(`the API at ${where} answered ${response.status} with JSON that is not an object`);
      }
      if (response.ok) return parsed;
      const code = typeof parsed.code === 'string' ? parsed.code : undefined;
      const message = typeof parsed.message === 'string' ? parsed.message : `HTTP ${response.status}`;
      if (response.status >= 500) {
        throw failure(`the API failed (${response.status}${code ? ` ${code}` : ''}): ${message}`);
      }
      throw new ApiError(response.status, code, message, parsed);
    },
  };
};
