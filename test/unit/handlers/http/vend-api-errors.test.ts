/**
 * The error matrix (docs/design.md, "Error responses"), table-driven over the real API Gateway fixtures in events/vend.
 * Every refusal answers JSON {code, message}; a 4xx never calls STS, never publishes and never writes (a
 * session at its max lifetime is refused by the touch's own condition, before anything is counted).
 */
import { describe, expect, it } from 'vitest';
import { parseCallerArn } from '../../../../src/domain/identity.js';
import { newSession, type Session } from '../../../../src/domain/session.js';
import type { HttpApiEvent } from '../../../../src/handlers/http/event.js';
import { IssuerDeniedError, IssuerThrottledError } from '../../../../src/ports.js';
import {
  bodyOf,
  fixture,
  NOW,
  OTHER_ARN,
  PROFILES,
  refreshOf,
  setup,
  withBody,
  withCaller,
} from '../../../support/vend-api.js';

const CALLER = parseCallerArn(fixture('create').requestContext?.authorizer?.iam?.userArn);
const OTHER = parseCallerArn(OTHER_ARN);
const SID = 'b'.repeat(32);

const seeded = (overrides: Partial<Session> = {}, caller = CALLER): Session => {
  const dev = PROFILES.get('dev');
  if (!dev) throw new Error('fixture profile missing');
  return {
    ...newSession({
      sessionId: SID,
      caller,
      profile: 'dev',
      roleArn: dev.roleArn,
      sourceIdentity: 'sentinel=alice@example.com=direct=seed',
      policy: dev.policy,
      now: new Date('2026-01-15T09:00:00.000Z'),
    }),
    ...overrides,
  };
};

const json = (value: unknown): string => JSON.stringify(value);

interface Case {
  readonly name: string;
  readonly event: () => HttpApiEvent;
  readonly rows?: readonly Session[];
  readonly status: number;
  readonly code: string;
}

const create = fixture('create');
const cases: readonly Case[] = [
  {
    name: 'malformed JSON (fixture bad-body)',
    event: () => fixture('bad-body'),
    status: 400,
    code: 'MalformedJson',
  },
  { name: 'body is an array', event: () => withBody(create, '[]'), status: 400, code: 'InvalidBody' },
  { name: 'body is a string', event: () => withBody(create, '"dev"'), status: 400, code: 'InvalidBody' },
  { name: 'empty body', event: () => withBody(create, null), status: 400, code: 'InvalidBody' },
  {
    name: 'profile of the wrong type',
    event: () => withBody(create, json({ profile: 42 })),
    status: 400,
    code: 'InvalidField',
  },
  {
    name: 'profile with odd characters',
    event: () => withBody(create, json({ profile: '../prod' })),
    status: 400,
    code: 'InvalidField',
  },
  {
    name: 'durationSeconds as a string',
    event: () => withBody(create, json({ profile: 'dev', durationSeconds: '3600' })),
    status: 400,
    code: 'InvalidField',
  },
  {
    name: 'durationSeconds fractional',
    event: () => withBody(create, json({ profile: 'dev', durationSeconds: 1200.5 })),
    status: 400,
    code: 'InvalidField',
  },
  {
    name: 'unknown field (a role ARN smuggled in the body)',
    event: () => withBody(create, json({ profile: 'dev', roleArn: 'arn:aws:iam::444455556666:role/admin' })),
    status: 400,
    code: 'UnknownField',
  },
  {
    name: 'identity in the body is not a field',
    event: () => withBody(create, json({ profile: 'dev', user: 'root' })),
    status: 400,
    code: 'UnknownField',
  },
  {
    name: 'body over 4 KB',
    event: () => withBody(create, json({ profile: 'dev', pad: 'x'.repeat(4100) })),
    status: 400,
    code: 'BodyTooLarge',
  },
  {
    name: 'base64 body over 4 KB',
    event: () =>
      withBody(create, Buffer.from(json({ profile: 'dev', pad: 'x'.repeat(4100) })).toString('base64'), true),
    status: 400,
    code: 'BodyTooLarge',
  },
  {
    name: 'missing IAM context (fixture missing-auth)',
    event: () => fixture('missing-auth'),
    status: 401,
    code: 'Unauthenticated',
  },
  {
    name: 'account root cannot own a session',
    event: () => withCaller(create, 'arn:aws:iam::111122223333:root'),
    status: 403,
    code: 'UnsupportedPrincipal',
  },
  {
    name: 'unknown profile',
    event: () => withBody(create, json({ profile: 'admin' })),
    status: 403,
    code: 'ProfileNotAllowed',
  },
  {
    name: 'duration below the STS minimum',
    event: () => withBody(create, json({ profile: 'dev', durationSeconds: 899 })),
    status: 400,
    code: 'DurationOutOfRange',
  },
  {
    name: 'duration above the profile maximum',
    event: () => withBody(create, json({ profile: 'prod', durationSeconds: 901 })),
    status: 400,
    code: 'DurationOutOfRange',
  },
  {
    name: 'malformed Idempotency-Key',
    event: () => ({ ...create, headers: { ...create.headers, 'idempotency-key': 'short' } }),
    status: 400,
    code: 'InvalidIdempotencyKey',
  },
  {
    name: 'Idempotency-Key where the deployment has no idempotency table',
    event: () => fixture('create-idempotent'),
    status: 400,
    code: 'IdempotencyNotSupported',
  },
  {
    name: 'unknown route',
    event: () => ({ ...create, routeKey: 'GET /v1/sessions' }),
    status: 404,
    code: 'RouteNotFound',
  },
  { name: 'unknown session', event: () => refreshOf(SID), status: 404, code: 'SessionNotFound' },
  {
    name: 'malformed session id',
    event: () => refreshOf('not-a-session'),
    rows: [seeded()],
    status: 400,
    code: 'InvalidSessionId',
  },
  {
    name: 'refresh with a body field',
    event: () => withBody(refreshOf(SID), json({ durationSeconds: 900 })),
    rows: [seeded()],
    status: 400,
    code: 'UnknownField',
  },
  {
    name: "other principal's session",
    event: () => refreshOf(SID),
    rows: [seeded({}, OTHER)],
    status: 403,
    code: 'NotOwner',
  },
  {
    name: "other principal's revoked session says NotOwner, not its state",
    event: () => refreshOf(SID),
    rows: [
      seeded(
        { status: 'revoked', revokedAt: NOW, revokedBy: 'admin', revokedReason: 'x', version: 2 },
        OTHER,
      ),
    ],
    status: 403,
    code: 'NotOwner',
  },
  {
    name: 'session whose profile left the allowlist',
    event: () => refreshOf(SID),
    rows: [seeded({ profile: 'retired' })],
    status: 403,
    code: 'ProfileChanged',
  },
  {
    name: 'session whose profile now maps to another role',
    event: () => refreshOf(SID),
    rows: [seeded({ roleArn: 'arn:aws:iam::444455556666:role/sentinel/old-dev-access' })],
    status: 403,
    code: 'ProfileChanged',
  },
  {
    name: "other principal's session under a changed profile says NotOwner",
    event: () => refreshOf(SID),
    rows: [seeded({ profile: 'retired' }, OTHER)],
    status: 403,
    code: 'NotOwner',
  },
  {
    name: 'revoked session',
    event: () => refreshOf(SID),
    rows: [
      seeded({
        status: 'revoked',
        revokedAt: NOW,
        revokedBy: 'security',
        revokedReason: 'laptop lost',
        version: 2,
      }),
    ],
    status: 403,
    code: 'SessionRevoked',
  },
  {
    name: 'expired session',
    event: () => refreshOf(SID),
    rows: [seeded({ status: 'expired', expiredAt: NOW, expiredReason: 'workflow', version: 2 })],
    status: 410,
    code: 'SessionExpired',
  },
  {
    name: 'session at its max lifetime (< 900 s left)',
    event: () => refreshOf(SID),
    // Created 7h50m ago with an 8h cap: 10 minutes left, which no STS credential fits in.
    rows: [
      seeded({
        createdAt: '2026-01-15T01:40:00.000Z',
        expiresAt: '2026-01-15T09:40:00.000Z',
        maxExpiresAt: '2026-01-15T09:40:00.000Z',
      }),
    ],
    status: 410,
    code: 'SessionAtMaxLifetime',
  },
];

describe('vend error matrix', () => {
  it.each(cases)('$name → $status $code', async ({ event, rows, status, code }) => {
    // Prepare
    const { api, store, issuer, publisher } = setup();
    store.seed(...(rows ?? []));
    const before = structuredClone(store.all());

    // Act
    const response = await api(event());

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/json');
    const body = bodyOf(response);
    expect(Object.keys(body).sort()).toEqual(['code', 'message']);
    expect(body.code).toBe(code);
    expect(typeof body.message).toBe('string');
    expect(issuer.requests).toEqual([]);
    expect(publisher.events).toEqual([]);
    expect(store.all()).toEqual(before);
  });

  it('STS AccessDenied → 502 CredentialIssuerDenied, no credentials, no SessionCreated, row ended', async () => {
    const { api, issuer, publisher, store } = setup();
    issuer.failNext(new IssuerDeniedError('AssumeRole failed: AccessDenied'));

    const response = await api(fixture('create'));

    expect(response.statusCode).toBe(502);
    expect(bodyOf(response).code).toBe('CredentialIssuerDenied');
    expect(publisher.events).toEqual([]);
    expect(store.all().map((s) => [s.status, s.expiredReason])).toEqual([['expired', 'forced']]);
  });

  it('STS throttled after retries → 503 CredentialIssuerThrottled', async () => {
    const { api, issuer, store } = setup();
    store.seed(seeded());
    issuer.failNext(new IssuerThrottledError('AssumeRole failed: Throttling'));

    const response = await api(refreshOf(SID));

    expect(response.statusCode).toBe(503);
    expect(bodyOf(response).code).toBe('CredentialIssuerThrottled');
  });

  it.each([
    ['create', () => fixture('create')],
    ['refresh', () => refreshOf(SID)],
  ] as const)(
    'store unreachable on %s with SESSION_STORE_FAILURE=deny → 503, nothing vended',
    async (_name, event) => {
      const { api, store, publisher, telemetry } = setup({ storeFailure: 'deny' });
      store.seed(seeded());
      store.failNext(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));

      const response = await api(event());

      expect(response.statusCode).toBe(503);
      expect(bodyOf(response).code).toBe('SessionStoreUnavailable');
      expect(JSON.stringify(bodyOf(response))).not.toContain('ASIA');
      expect(publisher.events).toEqual([]);
      expect(telemetry.counts.get('StoreFailureDenied')).toBe(1);
    },
  );
});
