/**
 * The session-lifecycle ASL, run by the real interpreter against DynamoDB Local: the Wait is time-scaled,
 * every DynamoDB call and conditional failure is real.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { rawDefinitionOf, runLocalStateMachine, substitute } from '../../local/sfn-binder.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { newSession, type Session } from '../../src/domain/session.js';
import { iamUserCaller } from '../support/callers.js';
import { useLocalTables } from '../support/local-tables.js';

const tables = useLocalTables();

const caller = iamUserCaller('alice');
const policy = { idleTimeoutSeconds: 900, maxLifetimeSeconds: 3600 };
let counter = 0;
// In the future: DynamoDB Local really runs TTL deletes, and a row whose ttl has passed would vanish mid-test.
const base = new Date(Math.ceil(Date.now() / 86_400_000 + 1) * 86_400_000);
const freshSession = (createdAt: Date): Session =>
  newSession({
    sessionId: (++counter).toString(16).padStart(32, 'a'),
    caller,
    profile: 'dev',
    roleArn: 'arn:aws:iam::123456789012:role/dev',
    sourceIdentity: 'sentinel=alice=direct=req1',
    policy,
    now: createdAt,
  });

/**
 * Runs one lifecycle execution and returns the row it left. The workflow has no EventBridge binding: it
 * announces nothing itself (the consumer announces SessionExpired from the stream), and a Task that tried
 * would fail the execution with UnboundTaskError.
 */
const runLifecycle = async (session: Session) => {
  const definition = substitute(rawDefinitionOf('SessionLifecycleStateMachine'), {
    SessionsTableName: tables.names.SessionsTable,
  });
  const execution = runLocalStateMachine({
    definition,
    executionInput: {
      sessionId: session.sessionId,
      expiresAt: session.expiresAt,
      user: session.user,
      profile: 'dev',
    },
    services: { dynamodb: tables.client },
    waitMs: () => 0,
    retryMs: 0,
  });
  await execution.result;
  const row = await tables.documentClient.send(
    new GetCommand({
      TableName: tables.names.SessionsTable,
      Key: { sessionId: session.sessionId },
      ConsistentRead: true,
    }),
  );
  return { row: row.Item };
};

describe('session-lifecycle workflow (real ASL interpreter, DynamoDB Local)', () => {
  it('expires an untouched session once it is due, with reason workflow', async () => {
    // Prepare
    const session = freshSession(base);
    const store = new DynamoDbSessionStore({
      documentClient: tables.documentClient,
      tableName: tables.names.SessionsTable,
    });
    await store.create(session);
    // Act
    const { row } = await runLifecycle(session);
    // Assess
    expect(row).toMatchObject({
      status: 'expired',
      expiredReason: 'workflow',
      expiredAt: session.expiresAt,
      version: 2,
    });
    expect(row).not.toHaveProperty('activeShard');
  });

  it('sleeps again when the session was touched (extended) meanwhile, then expires it at the new time', async () => {
    // Prepare: the execution was started with the first expiry; a touch has moved it since
    const created = base;
    const session = freshSession(created);
    const store = new DynamoDbSessionStore({
      documentClient: tables.documentClient,
      tableName: tables.names.SessionsTable,
    });
    await store.create(session);
    const touched = await store.touch(session.sessionId, {
      principalArn: caller.principalArn,
      now: new Date(created.getTime() + 600_000),
      extendTo: new Date(created.getTime() + 1_500_000).toISOString(),
    });
    expect(touched.ok).toBe(true);
    // Act
    const { row } = await runLifecycle(session);
    // Assess: expired at the extended time, not at the one the execution started with
    expect(row).toMatchObject({
      status: 'expired',
      expiresAt: new Date(base.getTime() + 1_500_000).toISOString(),
      expiredAt: new Date(base.getTime() + 1_500_000).toISOString(),
    });
  });

  it.each([
    [
      'revoked',
      (s: DynamoDbSessionStore, id: string) => s.revoke(id, { by: 'ops', reason: 'test', now: new Date() }),
    ],
    [
      'expired',
      (s: DynamoDbSessionStore, id: string) => s.expire(id, { reason: 'lazy', now: new Date(), force: true }),
    ],
  ])('leaves a session already %s alone (one terminal transition per session)', async (status, finish) => {
    // Prepare
    const session = freshSession(base);
    const store = new DynamoDbSessionStore({
      documentClient: tables.documentClient,
      tableName: tables.names.SessionsTable,
    });
    await store.create(session);
    await finish(store, session.sessionId);
    // Act
    const { row } = await runLifecycle(session);
    // Assess
    expect(row?.status).toBe(status);
    expect(row?.version).toBe(2);
  });

  it('stops quietly when the row is gone (purged by TTL)', async () => {
    const session = freshSession(base);
    const { row } = await runLifecycle(session);
    expect(row).toBeUndefined();
  });
});
