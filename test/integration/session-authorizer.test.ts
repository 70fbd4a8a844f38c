/**
 * The session authorizer against DynamoDB Local: every fixture of events/verifier/ in its payload format
 * (HTTP API 2.0 simple responses, REST TOKEN/REQUEST policies) reaching the outcome it stands for, with rows
 * written by the real session store; and a revocation seen through a 5 s allow cache once the TTL passed.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../local/manual-clock.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { createObservability } from '../../src/commons/powertools.js';
import type {
  HttpApiAuthorizerEvent,
  RestAuthorizerEvent,
  RestAuthorizerResponse,
} from '../../src/handlers/session-authorizer.js';
import { fakeLambdaContext } from '../support/consumer-fakes.js';
import { useLocalTables } from '../support/local-tables.js';
import {
  EXPECTED_OUTCOMES,
  fakeSts,
  SESSIONS,
  VERIFIER_AUDIENCE,
  VERIFIER_NOW,
  verifierFixture,
} from '../support/verifier-world.js';

vi.stubEnv('SESSIONS_TABLE_NAME', 'unused-at-import');
vi.stubEnv('VERIFIER_AUDIENCE', VERIFIER_AUDIENCE);
vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
const { createSessionAuthorizerHandler } = await import('../../src/handlers/session-authorizer.js');

const tables = useLocalTables();

const authorizer = (options: {
  readonly tableName?: string;
  readonly clock?: ManualClock;
  readonly cache?: number;
}) =>
  createSessionAuthorizerHandler({
    config: {
      sessionsTableName: options.tableName ?? tables.names.SessionsTable,
      allowCacheSeconds: options.cache ?? 0,
      audience: VERIFIER_AUDIENCE,
    },
    clients: { documentClient: tables.documentClient, fetch: fakeSts().fetch },
    observability: createObservability({ serviceName: 'authorizer-it' }),
    clock: options.clock ?? new ManualClock(VERIFIER_NOW),
  });

let store: DynamoDbSessionStore;

beforeAll(async () => {
  store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
  });
  const created = new Date(SESSIONS.active.createdAt);
  for (const session of [SESSIONS.active, SESSIONS.otherOwner, SESSIONS.storeDown, SESSIONS.ttlDeleted]) {
    await store.create(session);
  }
  await store.create({ ...SESSIONS.active, sessionId: SESSIONS.expired.sessionId });
  await store.expire(SESSIONS.expired.sessionId, { reason: 'forced', now: created, force: true });
  await store.create({ ...SESSIONS.active, sessionId: SESSIONS.revoked.sessionId });
  await store.revoke(SESSIONS.revoked.sessionId, { by: 'security', reason: 'laptop stolen', now: created });
  // What DynamoDB TTL does to a row past its ttl: it is simply gone.
  await tables.documentClient.send(
    new DeleteCommand({
      TableName: tables.names.SessionsTable,
      Key: { sessionId: SESSIONS.ttlDeleted.sessionId },
    }),
  );
});

const outcomeOf = (response: unknown): string =>
  (response as { context: { outcome: string } }).context.outcome;

describe('session authorizer on DynamoDB Local', () => {
  it.each(Object.entries(EXPECTED_OUTCOMES))('%s → %s', async (name, outcome) => {
    // Prepare: the store-down fixture meets a table that does not exist (ResourceNotFoundException).
    const handler = authorizer(
      name === 'http-store-down' ? { tableName: `${tables.names.SessionsTable}-gone` } : {},
    );
    const event = verifierFixture<HttpApiAuthorizerEvent | RestAuthorizerEvent>(name);
    // Act
    const response = await handler(event, fakeLambdaContext());
    // Assess: the outcome, in the response form of the event's API type.
    expect(outcomeOf(response)).toBe(outcome);
    if (name.startsWith('rest-')) {
      const effect = (response as RestAuthorizerResponse).policyDocument.Statement[0].Effect;
      expect(effect).toBe(outcome === 'Allowed' ? 'Allow' : 'Deny');
    } else {
      expect((response as { isAuthorized: boolean }).isAuthorized).toBe(outcome === 'Allowed');
    }
  });

  it('a revocation is denied once the 5 s allow cache has passed', async () => {
    // Prepare: a fresh active session allowed (and cached).
    const clock = new ManualClock(VERIFIER_NOW);
    const handler = authorizer({ clock, cache: 5 });
    const event = verifierFixture<HttpApiAuthorizerEvent>('http-active');
    const sessionId = SESSIONS.active.sessionId;
    expect(outcomeOf(await handler(event, fakeLambdaContext()))).toBe('Allowed');
    // Act
    await store.revoke(sessionId, { by: 'security', reason: 'test', now: clock.now() });
    clock.advanceSeconds(4);
    const cached = await handler(event, fakeLambdaContext());
    clock.advanceSeconds(1);
    const after = await handler(event, fakeLambdaContext());
    // Assess
    expect(outcomeOf(cached)).toBe('Allowed');
    expect(after).toEqual({ isAuthorized: false, context: { outcome: 'SessionRevoked' } });
  });
});
