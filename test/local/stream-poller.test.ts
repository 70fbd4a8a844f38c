import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../local/dynamodb-local.js';
import { type StreamFailure, StreamPoller, toLambdaRecord } from '../../local/stream-poller.js';
import { loadTemplate, streamEventSourceOf } from '../../local/template.js';
import { useLocalTables } from '../support/local-tables.js';

const tables = useLocalTables();
let streams: DynamoDBStreamsClient;
beforeAll(() => {
  streams = new DynamoDBStreamsClient(localClientConfig(tables.endpoint));
});
afterAll(() => streams?.destroy());

/** A handler that records every invocation and answers with what `respond` says. */
const recordingHandler = (
  respond: (event: DynamoDBStreamEvent, call: number) => DynamoDBBatchResponse = () => ({
    batchItemFailures: [],
  }),
) => {
  const invocations: DynamoDBRecord[][] = [];
  const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    invocations.push(event.Records);
    return respond(event, invocations.length);
  };
  return { invocations, handler };
};

const keyOf = (r: DynamoDBRecord | undefined): string | undefined => r?.dynamodb?.Keys?.sessionId?.S;
const seqOf = (r: DynamoDBRecord | undefined): string => r?.dynamodb?.SequenceNumber ?? '?';

/** Each test writes its own items; the poller starts at LATEST so earlier tests' records stay out. */
const newPoller = async (
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>,
  options: Partial<ConstructorParameters<typeof StreamPoller>[0]> = {},
) => {
  const poller = new StreamPoller({
    client: streams,
    tableName: tables.names.SessionsTable,
    handler,
    startingPosition: 'LATEST',
    ...options,
  });
  await poller.pollOnce(); // positions the iterators before the test writes
  return poller;
};

const put = (sessionId: string, extra: Record<string, { S: string } | { N: string }> = {}) =>
  tables.client.send(
    new PutItemCommand({
      TableName: tables.names.SessionsTable,
      Item: { sessionId: { S: sessionId }, ...extra },
    }),
  );

describe('stream poller on DynamoDB Local', () => {
  it('delivers real writes as Lambda-shaped DynamoDB stream records', async () => {
    // Prepare
    const { invocations, handler } = recordingHandler();
    const poller = await newPoller(handler);
    // Act
    await put('shape-1', { status: { S: 'active' } });
    await tables.client.send(
      new UpdateItemCommand({
        TableName: tables.names.SessionsTable,
        Key: { sessionId: { S: 'shape-1' } },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': { S: 'revoked' } },
      }),
    );
    await tables.client.send(
      new DeleteItemCommand({ TableName: tables.names.SessionsTable, Key: { sessionId: { S: 'shape-1' } } }),
    );
    await poller.drain();
    // Assess
    const records = invocations.flat();
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const [insert, modify, remove] = records;
    expect(insert).toMatchObject({
      eventSource: 'aws:dynamodb',
      eventVersion: '1.1',
      awsRegion: 'us-east-1',
      eventSourceARN: poller.streamArn,
      dynamodb: {
        Keys: { sessionId: { S: 'shape-1' } },
        NewImage: { sessionId: { S: 'shape-1' }, status: { S: 'active' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(insert?.eventSourceARN).toMatch(/^arn:aws:dynamodb:.*:table\/.*\/stream\//);
    expect(typeof insert?.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(typeof insert?.dynamodb?.SizeBytes).toBe('number');
    expect(modify?.dynamodb?.OldImage?.status).toEqual({ S: 'active' });
    expect(modify?.dynamodb?.NewImage?.status).toEqual({ S: 'revoked' });
    expect(remove?.dynamodb?.OldImage?.status).toEqual({ S: 'revoked' });
    expect(remove?.dynamodb?.NewImage).toBeUndefined();
    expect(remove?.userIdentity).toBeUndefined();
  });

  it('invokes with at most batchSize records, in stream order', async () => {
    const { invocations, handler } = recordingHandler();
    const poller = await newPoller(handler, { batchSize: 10 });
    for (let i = 0; i < 25; i++) await put(`batch-${String(i).padStart(2, '0')}`);
    await poller.drain();
    expect(invocations.every((batch) => batch.length <= 10)).toBe(true);
    expect(invocations.flat().map(keyOf)).toEqual(
      Array.from({ length: 25 }, (_, i) => `batch-${String(i).padStart(2, '0')}`),
    );
  });

  it('re-delivers from the lowest reported failure on, as ReportBatchItemFailures does', async () => {
    // Prepare: the first invocation reports records 3 and 5 failed.
    const { invocations, handler } = recordingHandler((event, call) => ({
      batchItemFailures:
        call === 1 ? [event.Records[5], event.Records[3]].map((r) => ({ itemIdentifier: seqOf(r) })) : [],
    }));
    const poller = await newPoller(handler);
    for (let i = 0; i < 8; i++) await put(`partial-${i}`);
    // Act
    await poller.drain();
    // Assess
    expect(invocations.map((batch) => batch.map(keyOf))).toEqual([
      Array.from({ length: 8 }, (_, i) => `partial-${i}`),
      Array.from({ length: 5 }, (_, i) => `partial-${i + 3}`),
    ]);
  });

  it('splits a batch whose invocation throws and gives up on the poison record after the retries', async () => {
    // Prepare
    const failures: StreamFailure[] = [];
    const { invocations, handler } = recordingHandler((event) => {
      if (event.Records.some((r) => keyOf(r) === 'bisect-5')) throw new Error('poison');
      return { batchItemFailures: [] };
    });
    const poller = await newPoller(handler, { maxRetryAttempts: 4, onFailure: (f) => void failures.push(f) });
    for (let i = 0; i < 8; i++) await put(`bisect-${i}`);
    // Act
    await poller.drain();
    // Assess: everything but the poison record got through once, in order; the poison went to onFailure.
    const succeeded = invocations.filter((batch) => !batch.some((r) => keyOf(r) === 'bisect-5'));
    expect(succeeded.flat().map(keyOf)).toEqual([
      'bisect-0',
      'bisect-1',
      'bisect-2',
      'bisect-3',
      'bisect-4',
      'bisect-6',
      'bisect-7',
    ]);
    expect(failures.map((f) => f.records.map(keyOf))).toEqual([['bisect-5']]);
    expect(failures[0]?.error).toBeInstanceOf(Error);
    expect(poller.discarded).toBe(1);
  });

  it('hands a batch that keeps reporting failures to onFailure after maxRetryAttempts, then moves on', async () => {
    const failures: StreamFailure[] = [];
    const { invocations, handler } = recordingHandler((event) => ({
      batchItemFailures: event.Records.filter((r) => keyOf(r) === 'stuck-1').map((r) => ({
        itemIdentifier: seqOf(r),
      })),
    }));
    const poller = await newPoller(handler, { maxRetryAttempts: 2, onFailure: (f) => void failures.push(f) });
    await put('stuck-0');
    await put('stuck-1');
    await put('stuck-2');
    await poller.drain();
    expect(invocations.length).toBe(3); // first try + 2 retries
    expect(failures.map((f) => [f.attempts, f.records.map(keyOf)])).toEqual([[3, ['stuck-1', 'stuck-2']]]);
    // The shard moved on: a later write is delivered.
    await put('stuck-3');
    await poller.drain();
    expect(invocations.at(-1)?.map(keyOf)).toEqual(['stuck-3']);
  });

  it('polls in the background between start() and stop()', async () => {
    const { invocations, handler } = recordingHandler();
    const poller = await newPoller(handler, { pollIntervalMs: 20, batchingWindowMs: 0 });
    poller.start();
    await put('bg-1');
    await expect.poll(() => invocations.flat().map(keyOf), { timeout: 10_000 }).toContain('bg-1');
    await poller.stop();
  });

  it('gathers records over the batching window into one invocation, as MaximumBatchingWindowInSeconds does', async () => {
    // Prepare: a window far longer than the time the three writes take
    const { invocations, handler } = recordingHandler();
    const poller = await newPoller(handler, { pollIntervalMs: 20, batchingWindowMs: 1500, batchSize: 100 });
    poller.start();
    // Act
    await put('window-1');
    await put('window-2');
    await put('window-3');
    await expect.poll(() => invocations.flat().length, { timeout: 10_000 }).toBe(3);
    await poller.stop();
    // Assess
    expect(invocations.map((batch) => batch.map(keyOf))).toEqual([['window-1', 'window-2', 'window-3']]);
  });
});

describe('stream records as AWS sends them', () => {
  it("turns DynamoDB Local's TTL delete into REMOVE by the DynamoDB service", () => {
    // Prepare: what the SDK returns for DynamoDB Local's TTL deletes.
    // The SDK's type has no room for this eventName; the raw JSON is exactly what DynamoDB Local answers.
    const raw: _Record = {
      ...JSON.parse('{"eventName":"UNKNOWN_TO_SDK_VERSION"}'),
      eventID: 'e1',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: new Date('2026-01-08T00:00:00.000Z'),
        Keys: { sessionId: { S: 'x' } },
        OldImage: { sessionId: { S: 'x' }, blob: { B: new Uint8Array([1, 2, 3]) } },
        SequenceNumber: '100',
        SizeBytes: 10,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    // Act
    const record = toLambdaRecord(
      raw,
      'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x',
      'us-east-1',
    );
    // Assess
    expect(record.eventName).toBe('REMOVE');
    expect(record.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(record.dynamodb?.ApproximateCreationDateTime).toBe(Date.parse('2026-01-08T00:00:00.000Z') / 1000);
    expect(record.dynamodb?.OldImage?.blob).toEqual({ B: 'AQID' });
  });
});

describe('shard rollover', () => {
  it('reads a child shard only after its parent is closed and delivered, in order', async () => {
    // Prepare: DynamoDB Local never splits shards, so this one runs against a scripted stream.
    const mock = mockClient(DynamoDBStreamsClient);
    const arn = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026';
    const rec = (key: string, seq: string): _Record => ({
      eventID: key,
      eventName: 'INSERT',
      dynamodb: {
        Keys: { sessionId: { S: key } },
        SequenceNumber: seq,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    mock.on(ListStreamsCommand).resolves({ Streams: [{ StreamArn: arn }] });
    mock.on(DescribeStreamCommand).resolves({
      StreamDescription: {
        Shards: [
          {
            ShardId: 'child',
            ParentShardId: 'parent',
            SequenceNumberRange: { StartingSequenceNumber: '300' },
          },
          {
            ShardId: 'parent',
            SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '200' },
          },
        ],
      },
    });
    mock
      .on(GetShardIteratorCommand)
      .callsFake((input: { ShardId?: string }) => ({ ShardIterator: `${input.ShardId}#0` }));
    mock.on(GetRecordsCommand).callsFake((input: { ShardIterator?: string }) => {
      switch (input.ShardIterator) {
        case 'parent#0':
          return { Records: [rec('p1', '100')], NextShardIterator: 'parent#1' };
        case 'parent#1':
          return { Records: [rec('p2', '200')] }; // no next iterator: the parent closed
        case 'child#0':
          return { Records: [rec('c1', '300')], NextShardIterator: 'child#1' };
        default:
          return { Records: [], NextShardIterator: input.ShardIterator };
      }
    });
    const { invocations, handler } = recordingHandler();
    const poller = new StreamPoller({
      client: new DynamoDBStreamsClient({ region: 'us-east-1' }),
      tableName: 't',
      handler,
    });
    // Act
    await poller.drain();
    // Assess
    expect(invocations.flat().map(keyOf)).toEqual(['p1', 'p2', 'c1']);
    expect(invocations.flat().every((r) => r.eventSourceARN === arn)).toBe(true);
    mock.restore();
  });
});

describe('expired shard iterators', () => {
  it('resume after the last record read, without re-delivering or skipping', async () => {
    // Prepare: the second GetRecords finds its iterator expired (15 minutes in AWS).
    const mock = mockClient(DynamoDBStreamsClient);
    const arn = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026';
    const rec = (key: string, seq: string): _Record => ({
      eventID: key,
      eventName: 'INSERT',
      dynamodb: { Keys: { sessionId: { S: key } }, SequenceNumber: seq },
    });
    mock.on(ListStreamsCommand).resolves({ Streams: [{ StreamArn: arn }] });
    mock.on(DescribeStreamCommand).resolves({ StreamDescription: { Shards: [{ ShardId: 's1' }] } });
    const iteratorRequests: (string | undefined)[] = [];
    mock
      .on(GetShardIteratorCommand)
      .callsFake((input: { ShardIteratorType?: string; SequenceNumber?: string }) => {
        iteratorRequests.push(
          input.SequenceNumber
            ? `${input.ShardIteratorType}:${input.SequenceNumber}`
            : input.ShardIteratorType,
        );
        return { ShardIterator: input.SequenceNumber ? `after-${input.SequenceNumber}` : 'start' };
      });
    let expired = false;
    mock.on(GetRecordsCommand).callsFake((input: { ShardIterator?: string }) => {
      if (input.ShardIterator === 'start') return { Records: [rec('r1', '1')], NextShardIterator: 'next' };
      if (input.ShardIterator === 'next' && !expired) {
        expired = true;
        throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
      }
      if (input.ShardIterator === 'after-1') return { Records: [rec('r2', '2')], NextShardIterator: 'end' };
      return { Records: [], NextShardIterator: input.ShardIterator };
    });
    const { invocations, handler } = recordingHandler();
    const poller = new StreamPoller({
      client: new DynamoDBStreamsClient({ region: 'us-east-1' }),
      tableName: 't',
      handler,
    });
    // Act
    await poller.drain();
    // Assess
    expect(invocations.flat().map(keyOf)).toEqual(['r1', 'r2']);
    expect(iteratorRequests).toEqual(['TRIM_HORIZON', 'AFTER_SEQUENCE_NUMBER:1']);
    mock.restore();
  });
});

describe('stream poller with the template’s FilterCriteria', () => {
  it('never hands a touch to the consumer: inserts, terminal changes and removes only', async () => {
    // Prepare: the filters and batching of LifecycleConsumerFunction's SessionsStream event, as deployed.
    const { invocations, handler } = recordingHandler();
    const mapping = streamEventSourceOf(loadTemplate(), 'LifecycleConsumerFunction', 'SessionsStream');
    expect(mapping.filters.length).toBeGreaterThan(0);
    const poller = await newPoller(handler, { ...mapping, startingPosition: 'LATEST' });
    const status = (sessionId: string, value: string, requestCount: number) =>
      tables.client.send(
        new UpdateItemCommand({
          TableName: tables.names.SessionsTable,
          Key: { sessionId: { S: sessionId } },
          UpdateExpression: 'SET #s = :s, requestCount = :n',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': { S: value }, ':n': { N: String(requestCount) } },
        }),
      );

    // Act: created, refreshed ten times (status stays active), revoked, deleted.
    await put('filtered-1', { status: { S: 'active' }, requestCount: { N: '1' } });
    for (let n = 2; n <= 11; n++) await status('filtered-1', 'active', n);
    await status('filtered-1', 'revoked', 12);
    await tables.client.send(
      new DeleteItemCommand({
        TableName: tables.names.SessionsTable,
        Key: { sessionId: { S: 'filtered-1' } },
      }),
    );
    await poller.drain();

    // Assess
    const delivered = invocations.flat();
    expect(delivered.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(delivered[1]?.dynamodb?.NewImage?.status?.S).toBe('revoked');
    expect(poller.filteredOut).toBe(10);
    // The template has no batching window: a revocation is handed over as soon as it is read.
    expect(mapping.batchingWindowMs).toBe(0);
  });
});
