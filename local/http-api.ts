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
import { localLambdaContext } from './lambda-context.js';
import { listenError } from './ports.js';
import type { StackClock } from './scaled-clock.js';

export const LOCAL_CALLER_HEADER = 'x-sentinel-local-caller-arn';
/** API Gateway's own limit on a request body is 10 MB; the handler enforces its much smaller one. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Which local function answers a route: as in template.yaml, vend and the operator API are two functions. */
export type RouteTarget = 'vend' | 'operator';

/** The routes of template.yaml's VendHttpApi; anything else is API Gateway's own 404. */
const ROUTES: readonly {
  readonly key: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  readonly target: RouteTarget;
}[] = [
  { key: 'POST /v1/sessions', method: 'POST', pattern: /^\/v1\/sessions$/, params: [], target: 'vend' },
  {
    key: 'POST /v1/sessions/{sessionId}/credentials',
    method: 'POST',
    pattern: /^\/v1\/sessions\/([^/]+)\/credentials$/,
    params: ['sessionId'],
    target: 'vend',
  },
  { key: 'GET /v1/sessions', method: 'GET', pattern: /^\/v1\/sessions$/, params: [], target: 'operator' },
  {
    key: 'GET /v1/sessions/{sessionId}',
    method: 'GET',
    pattern: /^\/v1\/sessions\/([^/]+)$/,
    params: ['sessionId'],
    target: 'operator',
  },
  {
    key: 'POST /v1/sessions/{sessionId}/revoke',
    method: 'POST',
    pattern: /^\/v1\/sessions\/([^/]+)\/revoke$/,
    params: ['sessionId'],
    target: 'operator',
  },
  {
    key: 'POST /v1/users/{user}/revoke',
    method: 'POST',
    pattern: /^\/v1\/users\/([^/]+)\/revoke$/,
    params: ['user'],
    target: 'operator',
  },
];

/** Each function's Timeout in template.yaml (vend: Globals; operator: its own, under API Gateway's 30 s). */
export const FUNCTION_TIMEOUT_MS: Readonly<Record<RouteTarget, number>> = { vend: 10_000, operator: 29_000 };

/** The route keys this server answers, for the test that holds them equal to the template's. */
export const LOCAL_ROUTE_KEYS: readonly string[] = ROUTES.map((route) => route.key);

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
  /** The query string without its `?` ('' for none). */
  readonly query?: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly sourceIp: string;
  /** The request's time (requestContext.time); default: now. */
  readonly at?: Date;
}): { event: HttpApiEvent; target?: RouteTarget } => {
  const route = ROUTES.find((r) => input.method === r.method && r.pattern.test(input.path));
  const match = route?.pattern.exec(input.path);
  const pathParameters = route
    ? Object.fromEntries(route.params.map((name, i) => [name, decodeOnce(match?.[i + 1] ?? '')]))
    : undefined;
  const rawQueryString = input.query ?? '';
  const queryStringParameters = queryParametersOf(rawQueryString);
  const callerArn = input.headers[LOCAL_CALLER_HEADER];
  const { [LOCAL_CALLER_HEADER]: _stripped, ...headers } = input.headers;
  const now = input.at ?? new Date();
  const requestId = randomUUID();
  // Built as a plain object, then read through the handler's narrower type (it ignores what it does not need).
  const full = {
    version: '2.0',
    routeKey: route?.key ?? '$default',
    rawPath: input.path,
    rawQueryString,
    ...(queryStringParameters ? { queryStringParameters } : {}),
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
  return route === undefined ? { event } : { event, target: route.target };
};

/** Path parameters as API Gateway passes them: percent-decoded once (a malformed escape stays as sent). */
const decodeOnce = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** Payload 2.0's queryStringParameters: decoded, a repeated parameter's values joined with commas. */
const queryParametersOf = (raw: string): Record<string, string> | undefined => {
  if (raw === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    parameters[key] = key in parameters ? `${parameters[key]},${value}` : value;
  }
  return parameters;
};

export const startHttpApi = async (input: {
  /** The function behind each route target (vend, operator). */
  readonly handlers: Readonly<
    Record<RouteTarget, (event: HttpApiEvent, context: Context) => Promise<HttpResult>>
  >;
  readonly port?: number;
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
    const url = new URL(request.url ?? '/', 'http://localhost');
    const { event, target } = toHttpApiEvent({
      method: request.method ?? 'GET',
      // As API Gateway routes: on the path as sent, path parameters decoded afterwards.
      path: (request.url ?? '/').split('?')[0] ?? '/',
      query: url.search.replace(/^\?/, ''),
      headers,
      body,
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      ...(input.clock ? { at: input.clock.now() } : {}),
    });
    // API Gateway answers unknown routes itself; the function never sees them.
    if (target === undefined) return NOT_FOUND;
    return input.handlers[target](
      event,
      localLambdaContext({
        functionName: target === 'vend' ? 'VendFunction-local' : 'OperatorFunction-local',
        requestId: String(event.requestContext?.requestId),
        timeoutMs: FUNCTION_TIMEOUT_MS[target],
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
