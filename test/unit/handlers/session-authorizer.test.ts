/**
 * The session authorizer on its fixtures (events/verifier/, the `sam local invoke` events), with the Sessions
 * table mocked and a fake STS: each outcome in both payload formats, the REST policy's shape, the metric per
 * outcome, the token never logged, and configuration read at init. The same fixtures run against DynamoDB
 * Local in test/integration/session-authorizer.test.ts.
 */
import { readdirSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createObservability } from '../../../src/commons/powertools.js';
import { ConfigurationError } from '../../../src/domain/errors.js';
import type { Session } from '../../../src/domain/session.js';
import type {
  HttpApiAuthorizerEvent,
  RestAuthorizerEvent,
} from '../../../src/handlers/session-authorizer.js';
import { fakeLambdaContext } from '../../support/consumer-fakes.js';
import {
  EXPECTED_OUTCOMES,
  fakeSts,
  verifierFixture as fixture,
  SESSIONS,
  VERIFIER_AUDIENCE,
  VERIFIER_NOW,
} from '../../support/verifier-world.js';

// The module builds its deployed `handler` from the environment at import, as Lambda loads it.
vi.stubEnv('SESSIONS_TABLE_NAME', 'sentinel-sessions-test');
vi.stubEnv('VERIFIER_AUDIENCE', VERIFIER_AUDIENCE);
vi.stubEnv('AWS_REGION', 'eu-west-1');
vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
const { createSessionAuthorizerHandler, sessionAuthorizerConfigFromEnv } = await import(
  '../../../src/handlers/session-authorizer.js'
);

describe('session authorizer handler', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  const rows = new Map<string, Session>();

  beforeEach(() => {
    dynamo.reset();
    rows.clear();
    for (const [name, session] of Object.entries(SESSIONS))
      if (name !== 'ttlDeleted') rows.set(session.sessionId, session);
    dynamo.on(GetCommand).callsFake((input: { Key: { sessionId: string } }) => {
      if (input.Key.sessionId === SESSIONS.storeDown.sessionId) {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
      }
      return { Item: rows.get(input.Key.sessionId) };
    });
  });
  afterAll(() => vi.unstubAllEnvs());

  const build = (options: { readonly allowCacheSeconds?: number } = {}) => {
    const observability = createObservability({ serviceName: 'authorizer-test' });
    const addMetric = vi.spyOn(observability.metrics, 'addMetric');
    const lines: string[] = [];
    for (const level of ['info', 'warn', 'error'] as const) {
      vi.spyOn(observability.logger, level).mockImplementation((...args: unknown[]) => {
        lines.push(JSON.stringify(args));
      });
    }
    const sts = fakeSts();
    const handler = createSessionAuthorizerHandler({
      config: {
        sessionsTableName: 'sentinel-sessions-test',
        allowCacheSeconds: options.allowCacheSeconds ?? 0,
        audience: VERIFIER_AUDIENCE,
      },
      clients: {
        documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
        fetch: sts.fetch,
      },
      observability,
      clock: { now: () => VERIFIER_NOW },
    });
    const metrics = () => addMetric.mock.calls.map((call) => call[0]);
    return { handler, sts, metrics, lines };
  };

  it('has a fixture for every outcome, and only these fixtures', () => {
    const names = readdirSync('events/verifier').map((file) => file.replace(/\.json$/, ''));
    expect(names.sort()).toEqual(Object.keys(EXPECTED_OUTCOMES).sort());
  });

  it.each(Object.entries(EXPECTED_OUTCOMES).filter(([name]) => name.startsWith('http-')))(
    'HTTP API payload 2.0 %s → %s (simple response, counted)',
    async (name, outcome) => {
      // Prepare
      const { handler, metrics } = build();
      // Act
      const response = await handler(fixture<HttpApiAuthorizerEvent>(name), fakeLambdaContext());
      // Assess
      expect(response).toMatchObject({ isAuthorized: outcome === 'Allowed', context: { outcome } });
      expect(metrics()).toEqual([`SessionAuthorizer${outcome}`]);
    },
  );

  it('an allow tells the API who the session is (context), in the simple response form', async () => {
    const { handler } = build();
    expect(await handler(fixture<HttpApiAuthorizerEvent>('http-active'), fakeLambdaContext())).toEqual({
      isAuthorized: true,
      context: {
        outcome: 'Allowed',
        sessionId: SESSIONS.active.sessionId,
        user: 'alice',
        profile: 'readonly',
        expiresAt: SESSIONS.active.expiresAt,
      },
    });
  });

  it('REST TOKEN authorizer: an Allow policy on exactly the method called, the caller as principal', async () => {
    const { handler } = build();
    const event = fixture<RestAuthorizerEvent>('rest-token-active');
    const response = await handler(event, fakeLambdaContext());
    expect(response).toEqual({
      principalId: expect.stringMatching(/^arn:aws:sts::123456789012:assumed-role\/sentinel-readonly\/s-/),
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
      },
      context: expect.objectContaining({ outcome: 'Allowed', sessionId: SESSIONS.active.sessionId }),
    });
  });

  it('REST REQUEST authorizer: a revoked session gets a Deny policy and no session context', async () => {
    const { handler } = build();
    const event = fixture<RestAuthorizerEvent>('rest-request-revoked');
    expect(await handler(event, fakeLambdaContext())).toEqual({
      principalId: 'unauthenticated',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }],
      },
      context: { outcome: 'SessionRevoked' },
    });
  });

  it('STS down → CallerIdentityUnavailable, a deny', async () => {
    const { handler, sts } = build();
    sts.failWith(503);
    const response = await handler(fixture<HttpApiAuthorizerEvent>('http-active'), fakeLambdaContext());
    expect(response).toEqual({ isAuthorized: false, context: { outcome: 'CallerIdentityUnavailable' } });
  });

  it('a token made for another audience is refused by STS → InvalidCallerToken', async () => {
    const observability = createObservability({ serviceName: 'authorizer-test' });
    const handler = createSessionAuthorizerHandler({
      config: { sessionsTableName: 't', allowCacheSeconds: 0, audience: 'billing-api.example.com' },
      clients: {
        documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
        fetch: fakeSts(VERIFIER_AUDIENCE).fetch,
      },
      observability,
      clock: { now: () => VERIFIER_NOW },
    });
    const response = await handler(fixture<HttpApiAuthorizerEvent>('http-active'), fakeLambdaContext());
    expect(response).toEqual({ isAuthorized: false, context: { outcome: 'InvalidCallerToken' } });
  });

  it('sends STS the configured audience, and never logs the token', async () => {
    const { handler, sts, lines } = build();
    const event = fixture<HttpApiAuthorizerEvent>('http-revoked');
    await handler(event, fakeLambdaContext());
    await handler(fixture<HttpApiAuthorizerEvent>('http-active'), fakeLambdaContext());
    expect(sts.requests.map((r) => r.audience)).toEqual([VERIFIER_AUDIENCE, VERIFIER_AUDIENCE]);
    const token = event.headers?.authorization ?? '';
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(token.slice(20, 60));
    expect(lines.join('\n')).not.toContain('IQoJb3JpZ2luX2VjEXAMPLE');
  });

  it('with the allow cache on, a repeat allow does not read the table', async () => {
    const { handler } = build({ allowCacheSeconds: 5 });
    await handler(fixture<HttpApiAuthorizerEvent>('http-active'), fakeLambdaContext());
    await handler(fixture<HttpApiAuthorizerEvent>('http-active'), fakeLambdaContext());
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('an event of neither shape is denied', async () => {
    const { handler, metrics } = build();
    const response = await handler({} as HttpApiAuthorizerEvent, fakeLambdaContext());
    expect(response).toEqual({ isAuthorized: false, context: { outcome: 'UnrecognisedEvent' } });
    expect(metrics()).toEqual(['SessionAuthorizerUnrecognisedEvent']);
  });
});

describe('sessionAuthorizerConfigFromEnv', () => {
  const ENV = { SESSIONS_TABLE_NAME: 'sessions', VERIFIER_AUDIENCE: 'orders-api' };

  it('reads the table, the audience and the cache TTL (default 5 s)', () => {
    expect(sessionAuthorizerConfigFromEnv(ENV)).toEqual({
      sessionsTableName: 'sessions',
      audience: 'orders-api',
      allowCacheSeconds: 5,
    });
    expect(
      sessionAuthorizerConfigFromEnv({ ...ENV, VERIFIER_ALLOW_CACHE_SECONDS: '0' }).allowCacheSeconds,
    ).toBe(0);
  });

  it.each([
    [{ ...ENV, SESSIONS_TABLE_NAME: undefined }, /SESSIONS_TABLE_NAME/],
    [{ ...ENV, VERIFIER_AUDIENCE: undefined }, /VERIFIER_AUDIENCE/],
    [{ ...ENV, VERIFIER_AUDIENCE: 'has space' }, /VERIFIER_AUDIENCE/],
    [{ ...ENV, VERIFIER_ALLOW_CACHE_SECONDS: '6' }, /VERIFIER_ALLOW_CACHE_SECONDS/],
    [{ ...ENV, VERIFIER_ALLOW_CACHE_SECONDS: 'soon' }, /VERIFIER_ALLOW_CACHE_SECONDS/],
  ])('fails naming the variable (%#)', (env, message) => {
    expect(() => sessionAuthorizerConfigFromEnv(env)).toThrow(ConfigurationError);
    expect(() => sessionAuthorizerConfigFromEnv(env)).toThrow(message);
  });

  it('the deployed handler is built from the environment at import', async () => {
    vi.resetModules();
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('SESSIONS_TABLE_NAME', 'sessions');
    vi.stubEnv('VERIFIER_AUDIENCE', 'orders-api');
    const module = await import('../../../src/handlers/session-authorizer.js');
    expect(typeof module.handler).toBe('function');
    vi.unstubAllEnvs();
    vi.resetModules();
    await expect(import('../../../src/handlers/session-authorizer.js')).rejects.toThrow(/VERIFIER_AUDIENCE/);
  });
});
