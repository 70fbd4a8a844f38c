import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  activeShardOf,
  BY_ACTIVE_SHARD_INDEX,
  DynamoDbSessionStore,
} from '../../src/adapters/dynamodb-session-store.js';
import { ConfigurationError, MalformedSessionRecordError } from '../../src/domain/errors.js';
import { useLocalTables } from '../support/local-tables.js';
import {
  at,
  CONTRACT_AUDIT_RETENTION_SECONDS,
  makeSession,
  sessionStoreContract,
} from '../support/session-store-contract.js';

const tables = useLocalTables();
let store: DynamoDbSessionStore;

beforeAll(() => {
  store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
    auditRetentionSeconds: CONTRACT_AUDIT_RETENTION_SECONDS,
  });
});

// The same contract the in-memory fake runs (test/unit/in-memory-session-store.test.ts), here on DynamoDB Local.
sessionStoreContract('DynamoDbSessionStore on DynamoDB Local', () => store);

const rawItem = async (sessionId: string) =>
  (
    await tables.documentClient.send(
      new GetCommand({ TableName: tables.names.SessionsTable, Key: { sessionId }, ConsistentRead: true }),
    )
  ).Item;

const shardMembers = async (activeShard: string): Promise<string[]> => {
  const { Items } = await tables.documentClient.send(
    new QueryCommand({
      TableName: tables.names.SessionsTable,
      IndexName: BY_ACTIVE_SHARD_INDEX,
      KeyConditionExpression: 'activeShard = :shard',
      ExpressionAttributeValues: { ':shard': activeShard },
    }),
  );
  return (Items ?? []).map((item) => String(item.sessionId));
};

describe('DynamoDbSessionStore item layout', () => {
  it('keeps activeShard on an active row (through touches) and the row in its shard of the sparse index', async () => {
    // Prepare
    const session = makeSession();
    const shard = activeShardOf(session.sessionId, 8);
    // Act
    await store.create(session);
    await store.touch(session.sessionId, {
      principalArn: session.principalArn,
      now: at(new Date(session.createdAt), 60),
    });
    // Assess
    expect((await rawItem(session.sessionId))?.activeShard).toBe(shard);
    expect(shard).toMatch(/^active#[0-7]$/);
    expect(await shardMembers(shard)).toContain(session.sessionId);
    expect(await store.get(session.sessionId)).not.toHaveProperty('activeShard');
  });

  it.each(['revoke', 'expire'] as const)(
    'removes activeShard on %s so the index drops the row',
    async (how) => {
      const session = makeSession();
      const shard = activeShardOf(session.sessionId, 8);
      await store.create(session);

      const result =
        how === 'revoke'
          ? await store.revoke(session.sessionId, {
              by: 'ops',
              reason: 'r',
              now: new Date(session.createdAt),
            })
          : await store.expire(session.sessionId, {
              reason: 'forced',
              now: new Date(session.createdAt),
              force: true,
            });

      expect(result.ok).toBe(true);
      expect(await rawItem(session.sessionId)).not.toHaveProperty('activeShard');
      expect(await shardMembers(shard)).not.toContain(session.sessionId);
    },
  );

  it('spreads sessions over the shards (stable hash of the id)', () => {
    const shards = new Set(
      Array.from({ length: 200 }, (_, i) => activeShardOf(i.toString(16).padStart(32, '0'), 8)),
    );
    expect(shards.size).toBe(8);
    expect(activeShardOf('0123456789abcdef0123456789abcdef', 8)).toBe(
      activeShardOf('0123456789abcdef0123456789abcdef', 8),
    );
  });

  it('does not store a session created already finished in the active index', async () => {
    const session = { ...makeSession(), status: 'revoked' as const };

    await store.create(session);

    expect(await rawItem(session.sessionId)).not.toHaveProperty('activeShard');
  });
});

describe('DynamoDbSessionStore failures', () => {
  it('rejects a malformed row with MalformedSessionRecordError instead of returning undefined fields', async () => {
    // Prepare: a row written by something else, missing the user, with an unknown status and a text count.
    const session = makeSession();
    const { user: _user, ...withoutUser } = session;
    await tables.documentClient.send(
      new PutCommand({
        TableName: tables.names.SessionsTable,
        Item: { ...withoutUser, status: 'paused', requestCount: 'many' },
      }),
    );
    // Act / Assess
    await expect(store.get(session.sessionId)).rejects.toThrow(MalformedSessionRecordError);
    await expect(store.get(session.sessionId)).rejects.toThrow(
      /user must be a string.*requestCount must be.*status is unknown/,
    );
    await expect(
      store.touch(session.sessionId, {
        principalArn: session.principalArn,
        now: new Date(session.createdAt),
      }),
    ).rejects.toThrow(MalformedSessionRecordError);
  });

  it('lets any other DynamoDB error through unchanged (the caller decides deny or allow)', async () => {
    const missing = new DynamoDbSessionStore({
      documentClient: tables.documentClient,
      tableName: 'no-such-table',
    });

    await expect(missing.get('x')).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      missing.touch('x', {
        principalArn: 'arn:aws:iam::123456789012:user/alice',
        now: new Date(),
        extendTo: new Date().toISOString(),
      }),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(missing.listActive(new Date())).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it.each([0, -1, 1.5, 65])('refuses activeShardCount %s at construction', (activeShardCount) => {
    expect(
      () =>
        new DynamoDbSessionStore({
          documentClient: tables.documentClient,
          tableName: 'x',
          activeShardCount,
        }),
    ).toThrow(ConfigurationError);
  });
});

describe('no Scan anywhere in src', () => {
  it('finds no Scan call in any source file', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : [path];
      });
    const offenders = files('src').filter((path) => /\bScan(Command)?\b/.test(readFileSync(path, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
