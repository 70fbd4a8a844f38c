/**
 * fast-check arbitraries for the fuzz suite (test/reliability/fuzz.test.ts): hostile strings and JSON text,
 * and API Gateway (payload 2.0) requests built from a valid fixture by mutations. A mutation is either noise
 * (changes nothing a handler may act on: odd-case headers, forged identity fields outside the IAM authorizer,
 * a correctly base64-encoded body) or fatal, naming the error codes it can cause. A case with no fatal
 * mutation must be served; one with any must be refused with one of its codes, so the property is never
 * vacuous and a refusal for the wrong reason is caught too.
 */
import fc from 'fast-check';
import { isRecord } from '../../src/domain/json.js';
import type { HttpApiEvent } from '../../src/handlers/http/event.js';

// ---------------------------------------------------------------------------------------------------------
// Hostile text
// ---------------------------------------------------------------------------------------------------------

/** Characters that have broken parsers, logs and path handling somewhere. */
export const NASTY_PIECES = [
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\uDBFF\uDBFF',
  '\u202E',
  '\u200F',
  '\u2066',
  '\uFEFF',
  '\u2028',
  '\u0085',
  '\n',
  '\r\n',
  '\t',
  '"',
  '\\',
  "'",
  '/',
  '%00',
  '%2F',
  '%252F',
  '%2e%2e',
  '..',
  '../',
  '..\\',
  '\u0301',
  '😀',
  '𝔘',
  'İ',
  'ß',
  '\u00A0',
  '${jndi:x}',
  '{{7*7}}',
  '<script>',
  '*',
  '?',
  '=',
  ',',
  ';',
  'null',
  'undefined',
  '__proto__',
  'constructor',
] as const;

export const nastyPiece = fc.constantFrom(...NASTY_PIECES);

/** Short strings of any code unit (lone surrogates included), nasty pieces, or both mixed. */
export const hostileString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength }),
    fc.array(nastyPiece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join('')),
    fc
      .tuple(fc.string({ maxLength: 10 }), nastyPiece, fc.string({ maxLength: 10 }))
      .map(([a, b, c]) => `${a}${b}${c}`),
  );

/** Long text: a repeated piece, from a few hundred characters up to past every size limit the APIs have. */
export const hugeString = fc
  .tuple(
    fc.constantFrom('A', 'é', '😀', '\u0000', '\uD800', ' ', '%2F'),
    fc.integer({ min: 300, max: 20_000 }),
  )
  .map(([piece, count]) => piece.repeat(count));

/** Keys an object parser might treat specially, and names of identity fields a caller might try to set. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
export const FORGED_IDENTITY_KEYS = [
  'principalArn',
  'user',
  'userArn',
  'sessionId',
  'roleArn',
  'sourceIdentity',
  'revokedBy',
  'revokedAt',
  'status',
  'accountId',
  'admin',
  'isAdmin',
  'caller',
  'requestContext',
  'authorizer',
  'expiresAt',
  'maxExpiresAt',
] as const;

export const hostileKey = fc.oneof(
  fc.constantFrom(
    ...PROTO_KEYS,
    ...FORGED_IDENTITY_KEYS,
    'Profile',
    'PROFILE',
    'profile ',
    ' profile',
    'Reason',
  ),
  hostileString(20),
);

/** A JSON literal as text, including ones JSON.parse reads surprisingly (1e400 is Infinity, -0). */
const jsonLeafText = fc.oneof(
  hostileString().map((s) => JSON.stringify(s)),
  fc.constantFrom(
    'true',
    'false',
    'null',
    '0',
    '-0',
    '1e400',
    '-1e400',
    '9007199254740993',
    '1.5',
    '3600.0001',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
);

/** Text that parses as JSON: nested arrays and objects with hostile keys (own `__proto__` included). */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeafText,
    fc.array(tie('node'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(hostileKey, tie('node')), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).node;

/** JSON text that is not an object (so never a valid request body). */
export const nonObjectJsonText = jsonText.filter((text) => !text.startsWith('{'));

/** JSON text that is not a string (a wrong type wherever text is expected). */
export const nonStringJsonText = jsonText.filter((text) => !text.startsWith('"'));

/** Valid JSON nested `depth` levels deep: arrays, or objects keyed `a`. */
export const deeplyNested = fc
  .tuple(fc.constantFrom('array', 'object'), fc.integer({ min: 32, max: 6_000 }))
  .map(([shape, depth]) =>
    shape === 'array'
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** Text JSON.parse refuses. */
export const malformedJsonText = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '{"profile":"dev"',
    "{'profile':'dev'}",
    '{"profile":"dev",}',
    '{profile:"dev"}',
    '\uFEFF{"profile":"dev"}',
    '{"profile":"dev"}\u0000',
    '{"profile":"d\u0000ev"}',
    '{"profile":"dev"}}',
    'NaN',
    'Infinity',
    'undefined',
    '{"a":01}',
    '{"a":.5}',
    '{"a":"\\x41"}',
    '{"a":"\\ud800\\u"}',
    '[1,2',
  ),
  fc.integer({ min: 100, max: 3_000 }).map((depth) => '['.repeat(depth)),
  fc.integer({ min: 100, max: 1_300 }).map((depth) => '{"a":'.repeat(depth)),
  jsonText.map((text) => `${text},`),
  jsonText.map((text) => `${text}${text}`).filter((text) => !/^-?\d/.test(text)),
);

// ---------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------

/** The parts of an API Gateway event a mutation may change, as a mutable draft. */
export interface RequestDraft {
  routeKey: string | undefined;
  headers: Record<string, string | undefined> | null;
  body: string | null | undefined;
  isBase64Encoded: boolean;
  pathParameters: Record<string, string | undefined> | null | undefined;
  rawPath: string | undefined;
  rawQueryString: string | undefined;
  queryStringParameters: Record<string, string | undefined> | null | undefined;
  /** The request context as API Gateway sends it; `unknown` so a test can garble it on purpose. */
  requestContext: unknown;
}

export interface Mutation {
  /** What it does, for counterexamples and the summary. */
  readonly name: string;
  /** Error codes it may cause; absent for noise. */
  readonly fatal?: readonly string[];
  apply(draft: RequestDraft): void;
}

export const noise = (name: string, apply: (draft: RequestDraft) => void): Mutation => ({ name, apply });
export const fatal = (
  name: string,
  codes: readonly string[],
  apply: (draft: RequestDraft) => void,
): Mutation => ({
  name,
  fatal: codes,
  apply,
});

export const draftOf = (event: HttpApiEvent): RequestDraft => ({
  routeKey: event.routeKey,
  headers: { ...(event.headers ?? {}) },
  body: event.body,
  isBase64Encoded: event.isBase64Encoded ?? false,
  pathParameters: event.pathParameters === undefined ? undefined : { ...(event.pathParameters ?? {}) },
  rawPath: event.rawPath,
  rawQueryString: event.rawQueryString,
  queryStringParameters: event.queryStringParameters,
  requestContext: structuredClone(event.requestContext),
});

export const eventOf = (draft: RequestDraft): HttpApiEvent => {
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: draft.routeKey,
    rawPath: draft.rawPath,
    rawQueryString: draft.rawQueryString,
    headers: draft.headers,
    body: draft.body,
    isBase64Encoded: draft.isBase64Encoded,
    requestContext: draft.requestContext,
  };
  if (draft.pathParameters !== undefined) event.pathParameters = draft.pathParameters;
  if (draft.queryStringParameters !== undefined) event.queryStringParameters = draft.queryStringParameters;
  // The garbled request contexts are deliberately outside the declared type: API Gateway never sends them,
  // but the handler must refuse them cleanly all the same.
  return event as HttpApiEvent;
};

/** A generated request: the event, the mutations it was built with, and what must happen to it. */
export interface FuzzRequest {
  readonly event: HttpApiEvent;
  readonly mutations: readonly string[];
  /** Empty: must be served. Otherwise: must be refused with one of these codes. */
  readonly refusalCodes: readonly string[];
}

const apply = (base: HttpApiEvent, mutations: readonly Mutation[]): FuzzRequest => {
  const draft = draftOf(base);
  for (const mutation of mutations) mutation.apply(draft);
  return {
    event: eventOf(draft),
    mutations: mutations.map((m) => m.name),
    refusalCodes: [...new Set(mutations.flatMap((m) => m.fatal ?? []))],
  };
};

/**
 * Requests for one route: `served` of them (by weight) carry only noise, the rest at least one fatal
 * mutation. Order matters and is fixed: the valid choices, then the fatal ones (which override them), then
 * body encoding (it encodes whatever body is left), then noise on headers and context.
 */
export const requestsFor = (spec: {
  readonly base: HttpApiEvent;
  /** Valid choices, one per dimension (e.g. which valid body), applied first. */
  readonly valid: readonly fc.Arbitrary<Mutation>[];
  readonly fatal: fc.Arbitrary<Mutation>;
  readonly noise: fc.Arbitrary<Mutation>;
  readonly servedWeight?: number;
}): fc.Arbitrary<FuzzRequest> => {
  const validParts = fc.tuple(...spec.valid);
  const noiseParts = fc.array(spec.noise, { maxLength: 4 });
  return fc.oneof(
    {
      weight: spec.servedWeight ?? 1,
      arbitrary: fc
        .tuple(validParts, noiseParts)
        .map(([valid, extra]) => apply(spec.base, [...valid, ...extra])),
    },
    {
      weight: 10 - (spec.servedWeight ?? 1),
      arbitrary: fc
        .tuple(validParts, fc.array(spec.fatal, { minLength: 1, maxLength: 3 }), noiseParts)
        .map(([valid, fatals, extra]) => apply(spec.base, [...valid, ...fatals, ...extra])),
    },
  );
};

// ---------------------------------------------------------------------------------------------------------
// Mutations shared by every route
// ---------------------------------------------------------------------------------------------------------

type Iam = Record<string, unknown>;
/** The request context when it is still an object (an earlier mutation may have garbled it). */
const contextOf = (draft: RequestDraft): Record<string, unknown> | undefined =>
  isRecord(draft.requestContext) ? draft.requestContext : undefined;
const authorizerOf = (draft: RequestDraft): Record<string, unknown> | undefined => {
  const authorizer = contextOf(draft)?.authorizer;
  return isRecord(authorizer) ? authorizer : undefined;
};
const iamOf = (draft: RequestDraft): Iam | undefined => {
  const iam = authorizerOf(draft)?.iam;
  return isRecord(iam) ? iam : undefined;
};

/** The authorizer context comes from IAM: a caller cannot change it, but a missing or garbled one must be refused. */
export const garbledCaller: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(
    fatal('no requestContext', ['Unauthenticated'], (d) => {
      d.requestContext = undefined;
    }),
    fatal('null requestContext', ['Unauthenticated'], (d) => {
      d.requestContext = null;
    }),
    fatal('requestContext is a string', ['Unauthenticated'], (d) => {
      d.requestContext = 'arn:aws:iam::111122223333:user/alice';
    }),
    fatal('no authorizer', ['Unauthenticated'], (d) => {
      const context = contextOf(d);
      if (context) delete context.authorizer;
    }),
    fatal('authorizer is an array', ['Unauthenticated'], (d) => {
      const context = contextOf(d);
      if (context) context.authorizer = [{ iam: iamOf(d) }];
    }),
    fatal('iam is null', ['Unauthenticated'], (d) => {
      const context = contextOf(d);
      if (context) context.authorizer = { iam: null };
    }),
    fatal('a JWT authorizer instead of IAM', ['Unauthenticated'], (d) => {
      const context = contextOf(d);
      if (context)
        context.authorizer = { jwt: { claims: { sub: 'alice', 'cognito:username': 'alice' }, scopes: null } };
    }),
    fatal('userArn is empty', ['Unauthenticated'], (d) => {
      const iam = iamOf(d);
      if (iam) iam.userArn = '';
    }),
    fatal('userArn is a number', ['Unauthenticated'], (d) => {
      const iam = iamOf(d);
      if (iam) iam.userArn = 42;
    }),
    fatal('userArn is an array of ARNs', ['Unauthenticated'], (d) => {
      const iam = iamOf(d);
      if (iam) iam.userArn = [iam.userArn, 'arn:aws:iam::111122223333:user/admin'];
    }),
    fatal('root caller', ['UnsupportedPrincipal'], (d) => {
      const iam = iamOf(d);
      if (iam) iam.userArn = 'arn:aws:iam::111122223333:root';
    }),
    fatal('plain role caller', ['UnsupportedPrincipal'], (d) => {
      const iam = iamOf(d);
      if (iam) iam.userArn = 'arn:aws:iam::111122223333:role/admin';
    }),
    fatal('service-linked role caller', ['UnsupportedPrincipal'], (d) => {
      const iam = iamOf(d);
      if (iam) {
        iam.userArn = 'arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForSupport/1234567890123456789';
      }
    }),
    fatal('Cognito identity-pool caller', ['CognitoIdentityNotSupported'], (d) => {
      const iam = iamOf(d);
      if (iam)
        iam.cognitoIdentity = { amr: ['authenticated'], identityId: 'eu-west-1:x', identityPoolId: 'p' };
    }),
    fatal('authorizer account differs from the ARN', ['UnsupportedPrincipal'], (d) => {
      const iam = iamOf(d);
      if (iam) iam.accountId = '999999999999';
    }),
    fatal('malformed organization id', ['UnsupportedPrincipal'], (d) => {
      const iam = iamOf(d);
      if (iam) iam.principalOrgId = 'o-../../x';
    }),
  ),
  hostileString(80).map((text) =>
    fatal('hostile userArn', ['Unauthenticated', 'UnsupportedPrincipal'], (d) => {
      const iam = iamOf(d);
      if (iam) iam.userArn = text;
    }),
  ),
  fc
    .tuple(
      fc.constantFrom(
        'iam::111122223333:user/',
        'sts::111122223333:assumed-role/x/',
        'sts::111122223333:federated-user/',
      ),
      // The name (after any IAM user path) holds a character IAM never puts in one: no real caller has it.
      hostileString(70).filter((name) => !/^[\w+=,.@-]+$/.test(name.split('/').at(-1) ?? '')),
    )
    .map(([prefix, name]) =>
      fatal('ARN-shaped userArn with a hostile name', ['UnsupportedPrincipal'], (d) => {
        const iam = iamOf(d);
        if (iam) iam.userArn = `arn:aws:${prefix}${name}`;
      }),
    ),
);

/** A route key API Gateway would not send to this function. */
export const wrongRoute: fc.Arbitrary<Mutation> = fc
  .oneof(
    fc.constantFrom(
      undefined,
      '',
      '$default',
      'ANY /{proxy+}',
      'post /v1/sessions',
      'POST /v1/sessions/',
      'POST /V1/sessions',
      'GET /v1/sessions/{sessionId}/credentials',
      'POST /v1/sessions/{sessionId}/credentials ',
      'POST  /v1/sessions',
      'POST /v1/users/{user}/revoke/',
      'DELETE /v1/sessions/{sessionId}',
      '__proto__',
    ),
    hostileString(60),
  )
  .map((routeKey) =>
    fatal('route key for another route', ['RouteNotFound'], (d) => {
      d.routeKey = routeKey;
      const context = contextOf(d);
      if (context) context.routeKey = routeKey;
    }),
  );

/** Headers a client controls, with names in odd case, duplicated across case, and hostile values. */
const headerName = fc.oneof(
  fc.constantFrom(
    'Content-Type',
    'CONTENT-TYPE',
    'content-type',
    'Content-Length',
    'X-Amz-User-Arn',
    'x-amzn-iam-user-arn',
    'x-sentinel-local-caller-arn',
    'X-Forwarded-For',
    'Authorization',
    'x-api-key',
    'X-HTTP-Method-Override',
    'Transfer-Encoding',
    'Content-Encoding',
    'Accept',
    '__proto__',
    'constructor',
  ),
  hostileString(30),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json, text/plain',
  'application/xml',
  '',
  '\u0000',
);
const headerValue = fc.oneof(
  contentType,
  fc.constantFrom(
    'arn:aws:iam::111122223333:user/admin',
    'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecOps_89abcdef01234567/carol@example.com',
    'gzip',
    'chunked',
    'DELETE',
  ),
  hostileString(60),
  hugeString,
);

/** Headers a handler must not act on (the idempotency key is separate: it is acted on). */
export const headerNoise: fc.Arbitrary<Mutation> = fc
  .array(fc.tuple(headerName, headerValue), { minLength: 1, maxLength: 6 })
  .map((pairs) =>
    noise(`headers ${pairs.map(([name]) => JSON.stringify(name.slice(0, 20))).join(',')}`, (d) => {
      const headers: Record<string, string | undefined> = { ...(d.headers ?? {}) };
      for (const [name, value] of pairs) {
        if (name.toLowerCase() === 'idempotency-key') continue;
        Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
      }
      d.headers = headers;
    }),
  );

/** A valid choice, not noise: it goes before any mutation that sets a header. */
export const headersPresentOrNull: fc.Arbitrary<Mutation> = fc.constantFrom(
  noise('fixture headers', () => undefined),
  noise('headers null', (d) => {
    d.headers = null;
  }),
);

/**
 * Identity claims a caller might smuggle in outside the IAM authorizer: another `identity`, a Lambda
 * authorizer context, query parameters and path noise. None may change who the caller is.
 */
export const forgedContext: fc.Arbitrary<Mutation> = fc.constantFrom(
  noise('REST-style requestContext.identity naming an admin', (d) => {
    const context = contextOf(d) ?? {};
    context.identity = {
      userArn:
        'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecOps_89abcdef01234567/carol@example.com',
      caller: 'carol',
    };
  }),
  noise('a lambda authorizer context beside iam', (d) => {
    const authorizer = authorizerOf(d);
    if (authorizer) authorizer.lambda = { principalArn: 'arn:aws:iam::111122223333:user/admin', admin: true };
  }),
  noise('requestContext.http with a spoofed source and path', (d) => {
    const context = contextOf(d) ?? {};
    context.http = { method: 'DELETE', path: '/v1/sessions/../../admin', sourceIp: '127.0.0.1' };
  }),
  noise('requestId hostile', (d) => {
    const context = contextOf(d) ?? {};
    context.requestId = '\u0000\u202E../\uD800'.repeat(50);
  }),
  noise('rawPath with traversal and encoded slashes', (d) => {
    d.rawPath = '/v1/sessions/..%2F..%2Fusers%2Fcarol%00/credentials';
  }),
);

/** Encodes the body as base64 with the flag set, as API Gateway does for some content types: must not matter. */
export const base64Encoded: Mutation = noise('body base64-encoded', (d) => {
  if (d.isBase64Encoded || typeof d.body !== 'string') return;
  d.body = Buffer.from(d.body, 'utf8').toString('base64');
  d.isBase64Encoded = true;
});

/** Body text with the base64 flag set but not encoded: decodes to garbage. */
export const base64FlagOnRaw = (rawJson: string): Mutation =>
  fatal('isBase64Encoded on a raw JSON body', ['MalformedJson', 'InvalidBody'], (d) => {
    d.body = rawJson;
    d.isBase64Encoded = true;
  });

export const setBody = (
  name: string,
  codes: readonly string[] | undefined,
  body: string | null | undefined,
): Mutation =>
  codes === undefined
    ? noise(name, (d) => {
        d.body = body;
      })
    : fatal(name, codes, (d) => {
        d.body = body;
      });

/** An object body's text with every entry as given (duplicate and `__proto__` keys kept). */
export const objectText = (entries: readonly (readonly [string, string])[]): string =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;

/** A body over the 4096-byte limit: valid JSON padded, or a huge value. */
export const oversizeBody = (validBody: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.integer({ min: 4_097, max: 40_000 }).map((n) => `${validBody}${' '.repeat(n)}`),
    fc
      .integer({ min: 1_100, max: 5_000 })
      .map((n) => objectText([['profile', JSON.stringify('😀'.repeat(n))]])),
    fc.integer({ min: 4_100, max: 9_000 }).map((n) => `"${'\u0000'.repeat(n)}"`),
  );

/** An invalid Idempotency-Key header value (charset, length, merged duplicates, CRLF injection). */
export const badIdempotencyKey = fc.oneof(
  fc.constantFrom(
    '',
    'short',
    'k'.repeat(129),
    'key with spaces',
    'abcdefgh,ijklmnop',
    'abcdefgh\r\nx-amz-user-arn: arn:aws:iam::111122223333:user/admin',
    'abcdefgh\u0000',
    'abcdefgh/../../',
    'ключ-идемпотентности',
    '%2e%2e%2f%2e%2e%2fabc',
  ),
  hostileString(200).filter((key) => !/^[A-Za-z0-9_.:-]{8,128}$/.test(key)),
);

export const goodIdempotencyKey = fc.stringMatching(/^[A-Za-z0-9_.:-]{8,128}$/);

/** Session ids that are not 32 lowercase hex characters (the path parameter as API Gateway decoded it). */
export const badSessionId = fc.oneof(
  fc.constantFrom(
    '',
    '3F9C2B7A1E5D4C8B9A0F6E2D1C3B5A79',
    '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a7',
    '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a790',
    '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a7\u0000',
    '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79\n',
    '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79%00',
    '../3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79',
    '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79/../x',
    '3f9c2b7a1e5d4c8b%2F9a0f6e2d1c3b5a79',
    '%33f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79',
    '３f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79',
    '__proto__',
  ),
  hostileString(64).filter((id) => !/^[0-9a-f]{32}$/.test(id)),
  hugeString,
);

/** Mutations of the path parameter `name`: hostile values, absent, or no path parameters at all. */
export const badPathParameter = (
  name: string,
  codes: readonly string[],
  values: fc.Arbitrary<string>,
): fc.Arbitrary<Mutation> =>
  fc.oneof(
    values.map((value) =>
      fatal(`hostile ${name}`, codes, (d) => {
        d.pathParameters = { ...(d.pathParameters ?? {}), [name]: value };
      }),
    ),
    fc.constantFrom(
      fatal(`no ${name}`, codes, (d) => {
        d.pathParameters = {};
      }),
      fatal('pathParameters null', codes, (d) => {
        d.pathParameters = null;
      }),
      fatal(`${name} as __proto__ key only`, codes, (d) => {
        d.pathParameters = JSON.parse(`{"__proto__":{"${name}":"3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79"}}`);
      }),
    ),
  );
