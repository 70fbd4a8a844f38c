/**
 * The HTTP API on this machine: turns a plain HTTP request into the API Gateway payload 2.0 event that an
 * HTTP API with the AWS_IAM authorizer sends, and answers with the handler's result.
 *
 * There is no SigV4 here. The caller's IAM identity comes from the `x-sentinel-local-caller-arn` header,
 * which stands in for the authorizer and exists ONLY on this local server; without it the request reaches
 * the handler with no IAM context, as an unsigned request would be refused in AWS (401).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Context } from 'aws-lambda';
import type { HttpApiEvent, HttpResult } from '../src/handlers/http/event.js';
import { errorResponse } from '../src/handlers/http/response.js';
import { localLambdaContext } from './lambda-context.js';
import { listenError } from './ports.js';
import type { StackClock } from './scaled-clock.js';

export const LOCAL_CALLER_HEADER = 'x-sentinel-local-caller-arn';
/** API Gateway's own limit on a request body is 10 MB; the handler enforces its much smaller one. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

const ROUTES: readonly {
  readonly key: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
}[] = [
  { key: 'POST /v1/sessions', pattern: /^\/v1\/sessions$/, params: [] },
  {
    key: 'POST /v1/sessions/{sessionId}/credentials',
    pattern: /^\/v1\/sessions\/([^/]+)\/credentials$/,
    params: ['sessionId'],
  },
];

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

const accountOf = (arn: string): string => arn.split(':')[4] ?? '000000000000';

/** The event API Gateway would build for this request (payload format 2.0, AWS_IAM authorizer). */
export const toHttpApiEvent = (input: {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly sourceIp: string;
  /** The request's time (requestContext.time); default: now. */
  readonly at?: Date;
}): { event: HttpApiEvent; routed: boolean } => {
  const route = ROUTES.find((r) => input.method === 'POST' && r.pattern.test(input.path));
  const match = route?.pattern.exec(input.path);
  const pathParameters = route
    ? Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match?.[i + 1] ?? '')]))
    : undefined;
  const callerArn = input.headers[LOCAL_CALLER_HEADER];
  const { [LOCAL_CALLER_HEADER]: _stripped, ...headers } = input.headers;
  const now = input.at ?? new Date();
  const requestId = randomUUID();
  // Built as a plain object, then read through the handler's narrower type (it ignores what it does not need).
  const full = {
    version: '2.0',
    routeKey: route?.key ?? '$default',
    rawPath: input.path,
    rawQueryString: '',
    headers,
    ...(pathParameters && Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: callerArn ? accountOf(callerArn) : '000000000000',
      apiId: 'local',
      ...(callerArn
        ? {
            authorizer: {
              iam: {
                accessKey: 'ASIALOCALFAKEACCESSKEY',
                accountId: accountOf(callerArn),
                callerId: 'LOCAL',
                cognitoIdentity: null,
                principalOrgId: null,
                userArn: callerArn,
                userId: 'LOCAL',
              },
            },
          }
        : {}),
      domainName: 'localhost',
      http: {
        method: input.method,
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: input.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route?.key ?? '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: input.body,
    isBase64Encoded: false,
  };
  const event: HttpApiEvent = full;
  return { event, routed: route !== undefined };
};

/** `POST /local/sessions/{sessionId}/revoke` — LOCAL ONLY: stands in for an operator's revocation. */
const LOCAL_REVOKE = /^\/local\/sessions\/([0-9a-f]{32})\/revoke$/;

export type LocalRevoke = (input: { sessionId: string; by: string; reason: string }) => Promise<HttpResult>;

/** The local revoke route's answer, from its JSON body `{"reason": "..."}` (optional, ≤ 256 characters). */
const revokeFrom = async (
  revoke: LocalRevoke,
  sessionId: string,
  caller: string | undefined,
  body: string,
): Promise<HttpResult> => {
  if (!caller) return errorResponse(401, 'MissingIdentity', `the ${LOCAL_CALLER_HEADER} header is required`);
  let reason = 'revoked locally';
  if (body.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return errorResponse(400, 'MalformedJson', 'the body is not JSON');
    }
    const given = (parsed as { reason?: unknown } | null)?.reason;
    if (given !== undefined && (typeof given !== 'string' || given.length === 0 || given.length > 256)) {
      return errorResponse(400, 'InvalidReason', 'reason must be a string of 1-256 characters');
    }
    if (typeof given === 'string') reason = given;
  }
  return revoke({ sessionId, by: caller, reason });
};

export const startHttpApi = async (input: {
  readonly handler: (event: HttpApiEvent, context: Context) => Promise<HttpResult>;
  readonly port?: number;
  /** Enables the local-only revoke route. */
  readonly revoke?: LocalRevoke;
  /** The stack's clock: each request is handled at the instant it arrived on it. Default: the wall clock. */
  readonly clock?: Pick<StackClock, 'now' | 'stoppedDuring'>;
}): Promise<{ readonly url: string; readonly server: Server; close(): Promise<void> }> => {
  const NOT_FOUND: HttpResult = {
    statusCode: 404,
    headers: { 'content-type': 'application/json' },
    body: '{"message":"Not Found"}',
  };
  const answer = async (request: IncomingMessage, body: string): Promise<HttpResult> => {
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([k, v]) => [
        k.toLowerCase(),
        Array.isArray(v) ? v.join(',') : (v ?? ''),
      ]),
    );
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const revoking = LOCAL_REVOKE.exec(path);
    if (input.revoke && request.method === 'POST' && revoking?.[1]) {
      return revokeFrom(input.revoke, revoking[1], headers[LOCAL_CALLER_HEADER], body);
    }
    const { event, routed } = toHttpApiEvent({
      method: request.method ?? 'GET',
      path,
      headers,
      body,
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      ...(input.clock ? { at: input.clock.now() } : {}),
    });
    // API Gateway answers unknown routes itself; the function never sees them.
    if (!routed) return NOT_FOUND;
    return input.handler(
      event,
      localLambdaContext({
        functionName: 'VendFunction-local',
        requestId: String(event.requestContext?.requestId),
        // The vend function's timeout (template Globals).
        timeoutMs: 10_000,
      }),
    );
  };
  const server = createServer((request, response) => {
    void (async () => {
      try {
        const body = await readBody(request);
        // The whole request happens at the instant it arrived on the stack's clock.
        const result = await (input.clock
          ? input.clock.stoppedDuring(() => answer(request, body))
          : answer(request, body));
        response.writeHead(result.statusCode, result.headers).end(result.body);
      } catch (error) {
        // As API Gateway does when the integration fails.
        console.error('[local http api] handler failed:', error instanceof Error ? error.message : error);
        response
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"message":"Internal Server Error"}');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, input.port ?? 0, 'HTTP API')));
    server.listen(input.port ?? 0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    // Idle keep-alive connections would hold close() open; requests in flight get a moment to finish.
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 1000);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
};
