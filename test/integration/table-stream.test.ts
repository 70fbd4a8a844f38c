/**
 * Streams are on, with both images, in the table built from template.yaml: the lifecycle consumer depends on
 * it (INSERT starts the workflow, MODIFY active→revoked stops it). Read through the real DynamoDB Streams API.
 */
import { type AttributeValue, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../local/dynamodb-local.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { useLocalTables } from '../support/local-tables.js';
import { at, makeSession } from '../support/session-store-contract.js';

const tables = useLocalTables();
let streams: DynamoDBStreamsClient;

beforeAll(() => {
  streams = new DynamoDBStreamsClient(localClientConfig(tables.endpoint));
});
afterAll(() => streams.destroy());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every record of the stream so far, from TRIM_HORIZON of each shard (bounded polling, no timing asserted). */
const readStream = async (streamArn: string): Promise<StreamRecord[]> => {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: StreamRecord[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let iterator = ShardIterator;
    // An open shard always hands back a next iterator: stop at the first empty read.
    for (let reads = 0; iterator !== undefined && reads < 100; reads++) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(page.Records ?? []));
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return records;
};

const imageOf = (image: Record<string, AttributeValue> | undefined): Record<string, unknown> | undefined =>
  // The streams client's AttributeValue is structurally DynamoDB's; util-dynamodb reads both.
  image === undefined ? undefined : unmarshall(image);

describe('SessionsTable stream (from template.yaml)', () => {
  it('carries an INSERT and a MODIFY with old and new images after writes', async () => {
    // Prepare
    const { Table } = await tables.client.send(
      new DescribeTableCommand({ TableName: tables.names.SessionsTable }),
    );
    const streamArn = Table?.LatestStreamArn;
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(streamArn).toBeDefined();
    const store = new DynamoDbSessionStore({
      documentClient: tables.documentClient,
      tableName: tables.names.SessionsTable,
    });
    const session = makeSession();

    // Act
    await store.create(session);
    await store.revoke(session.sessionId, {
      by: 'ops',
      reason: 'stream test',
      now: at(new Date(session.createdAt), 1),
    });

    // Assess: poll until both records are there (DynamoDB Local publishes asynchronously).
    let mine: StreamRecord[] = [];
    for (let attempt = 0; attempt < 40 && mine.length < 2; attempt++) {
      if (attempt > 0) await sleep(250);
      mine = (await readStream(streamArn ?? '')).filter(
        (record) => record.dynamodb?.Keys?.sessionId?.S === session.sessionId,
      );
    }
    expect(mine.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY']);
    const [insert, modify] = mine;
    expect(insert?.dynamodb?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
    expect(insert?.dynamodb?.OldImage).toBeUndefined();
    expect(imageOf(insert?.dynamodb?.NewImage)).toMatchObject({
      sessionId: session.sessionId,
      status: 'active',
    });
    expect(imageOf(modify?.dynamodb?.OldImage)).toMatchObject({ status: 'active', version: 1 });
    expect(imageOf(modify?.dynamodb?.OldImage)).toHaveProperty('activeShard');
    expect(imageOf(modify?.dynamodb?.NewImage)).toMatchObject({
      status: 'revoked',
      revokedBy: 'ops',
      revokedReason: 'stream test',
      version: 2,
    });
    expect(imageOf(modify?.dynamodb?.NewImage)).not.toHaveProperty('activeShard');
  });
});
