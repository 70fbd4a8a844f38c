/**
 * A local stand-in for Lambda's DynamoDB Streams event source mapping: reads the table's real stream on
 * DynamoDB Local (ListStreams / DescribeStream / GetShardIterator / GetRecords, every shard, children only
 * after their parent is drained) and invokes a handler with Lambda-shaped batches.
 *
 * Retries follow the mapping's rules for ReportBatchItemFailures and BisectBatchOnFunctionError:
 *  - a returned `batchItemFailures` re-delivers from the lowest failed sequence number on (the records
 *    before it are checkpointed); an identifier that is not in the batch fails the whole batch;
 *  - a thrown error splits the batch in two (when bisecting) and retries each half, in order;
 *  - after `maxRetryAttempts` retries the remaining records go to `onFailure` and the shard moves on.
 * DynamoDB Local reports TTL deletes as eventName UNKNOWN_TO_SDK_VERSION without userIdentity; they are
 * delivered as AWS sends them: REMOVE with userIdentity {type: Service, principalId: dynamodb.amazonaws.com}.
 * DynamoDB Local stamps ApproximateCreationDateTime to the minute; a record read within that minute is
 * stamped with when it was read instead (at most a poll after its write), to the second, as AWS does.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  AttributeValue as LambdaAttributeValue,
} from 'aws-lambda';
import type { CompiledEventPattern } from './event-pattern.js';
import { localLambdaContext } from './lambda-context.js';

export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined>;

export interface StreamFailure {
  readonly shardId: string;
  readonly streamArn: string;
  /** The records given up on, as they were last delivered. */
  readonly records: readonly DynamoDBRecord[];
  readonly attempts: number;
  readonly reason: 'RetryAttemptsExhausted';
  /** The last thrown error, when the handler threw rather than reported items. */
  readonly error?: unknown;
}

export interface StreamPollerOptions {
  readonly client: DynamoDBStreamsClient;
  readonly tableName: string;
  readonly handler: StreamHandler;
  /** Records per invocation (ESM BatchSize). */
  readonly batchSize?: number;
  /** How long to gather records before invoking with a partial batch (MaximumBatchingWindowInSeconds). */
  readonly batchingWindowMs?: number;
  /** Retries of a failing batch before its records go to onFailure (MaximumRetryAttempts). */
  readonly maxRetryAttempts?: number;
  readonly bisectOnError?: boolean;
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Pause between polls that found nothing. */
  readonly pollIntervalMs?: number;
  /** How often to look for new shards. */
  readonly discoveryIntervalMs?: number;
  /** What the handler's context reports as its remaining time at the start of an invocation. */
  readonly invocationTimeoutMs?: number;
  /** The function name the handler's context reports. */
  readonly functionName?: string;
  readonly region?: string;
  readonly onFailure?: (failure: StreamFailure) => void | Promise<void>;
  /** Errors of the poller itself (not of the handler) in background mode. */
  readonly onError?: (error: unknown) => void;
  /** How the stack's clock reads a wall-clock instant (a time-scaled local stack); default: as it is. */
  readonly localTime?: (wall: Date) => Date;
  /**
   * The event source mapping's FilterCriteria: a record reaches the handler only if it matches one of them
   * (EventBridge's pattern language, on the Lambda-shaped record). Others are dropped before batching, as
   * Lambda drops them. None: every record is delivered.
   */
  readonly filters?: readonly CompiledEventPattern[];
}

export class StreamNotFoundError extends Error {
  override readonly name = 'StreamNotFoundError';
}

const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;
/** What the SDK reports for DynamoDB Local's TTL delete records. */
const DYNAMODB_LOCAL_TTL_EVENT = 'UNKNOWN_TO_SDK_VERSION';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** SDK attribute value → the JSON shape Lambda puts in stream events (binary as base64). */
export const toLambdaAttributeValue = (value: AttributeValue): LambdaAttributeValue => {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.M !== undefined) return { M: mapValues(value.M) };
  throw new Error(`unknown attribute value type: ${Object.keys(value).join(',')}`);
};

const mapValues = (image: Record<string, AttributeValue>): Record<string, LambdaAttributeValue> =>
  Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaAttributeValue(v)]));

const toLambdaImage = (
  image: Record<string, AttributeValue> | undefined,
): Record<string, LambdaAttributeValue> | undefined => (image === undefined ? undefined : mapValues(image));

/** DynamoDB Local's ApproximateCreationDateTime is the minute of the write. */
const LOCAL_STAMP_MS = 60_000;

/**
 * When a record read at `readAt` was written, as well as can be told: within its stamp's minute and no later
 * than its read, so the latest instant that is both. A record read just after its minute ended (a write in
 * the minute's last second, read a moment later) is placed at the minute's end, not its start: on a scaled
 * clock the start would be a minute early times the scale.
 */
export const writtenAt = (stamped: Date, readAt: Date): Date =>
  readAt < stamped ? stamped : new Date(Math.min(readAt.getTime(), stamped.getTime() + LOCAL_STAMP_MS - 1));

/** One record of GetRecords as Lambda delivers it to a function; `createdAt` overrides the record's own stamp. */
export const toLambdaRecord = (
  record: StreamsRecord,
  streamArn: string,
  region: string,
  createdAt?: (stamped: Date) => Date,
): DynamoDBRecord => {
  const stream = record.dynamodb ?? {};
  const rawName: string | undefined = record.eventName;
  const isLocalTtl = rawName === DYNAMODB_LOCAL_TTL_EVENT;
  const eventName = isLocalTtl ? 'REMOVE' : (record.eventName ?? undefined);
  const identity = isLocalTtl
    ? TTL_IDENTITY
    : record.userIdentity
      ? { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId }
      : undefined;
  const keys = toLambdaImage(stream.Keys);
  const newImage = toLambdaImage(stream.NewImage);
  const oldImage = toLambdaImage(stream.OldImage);
  const stamped = stream.ApproximateCreationDateTime;
  const created = stamped && createdAt ? createdAt(stamped) : stamped;
  return {
    eventID: record.eventID,
    eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    // DynamoDB Local says "ddblocal"; Lambda reports the stream's region.
    awsRegion: region,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) } : {}),
      ...(keys ? { Keys: keys } : {}),
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    eventSourceARN: streamArn,
    ...(identity ? { userIdentity: identity } : {}),
  };
};

interface ShardState {
  readonly id: string;
  readonly parentId: string | undefined;
  iterator: string | undefined;
  /** Last sequence number handed to the handler and settled (delivered, or given up on). */
  checkpoint: string | undefined;
  /** Last sequence number read into the buffer: where a fresh iterator resumes. */
  lastRead: string | undefined;
  /** GetRecords returned no next iterator: the shard is closed and fully read. */
  closed: boolean;
  buffer: DynamoDBRecord[];
  bufferedSince: number | undefined;
  isNew: boolean;
}

export class StreamPoller {
  readonly #options: Required<
    Omit<
      StreamPollerOptions,
      'onFailure' | 'onError' | 'localTime' | 'client' | 'handler' | 'tableName' | 'filters'
    >
  > &
    StreamPollerOptions;
  readonly #shards = new Map<string, ShardState>();
  #streamArn: string | undefined;
  #lastDiscovery = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  /** Invocations of the handler so far. */
  invocations = 0;
  /** Records the filters kept from the handler so far. */
  filteredOut = 0;
  /** Records given to onFailure so far. */
  discarded = 0;

  constructor(options: StreamPollerOptions) {
    this.#options = {
      batchSize: 100,
      batchingWindowMs: 0,
      maxRetryAttempts: 3,
      bisectOnError: true,
      startingPosition: 'TRIM_HORIZON',
      pollIntervalMs: 200,
      discoveryIntervalMs: 1000,
      invocationTimeoutMs: 60_000,
      functionName: 'LifecycleConsumerFunction',
      region: 'us-east-1',
      ...options,
    };
    if (this.#options.batchSize < 1 || this.#options.batchSize > 10_000) {
      throw new RangeError(`batchSize must be within 1..10000, got ${this.#options.batchSize}`);
    }
  }

  get streamArn(): string | undefined {
    return this.#streamArn;
  }

  /** Polls in the background until stop(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        try {
          const read = await this.pollOnce();
          if (read === 0) await sleep(this.#options.pollIntervalMs);
        } catch (error) {
          (this.#options.onError ?? ((e) => console.error('stream poller:', e)))(error);
          await sleep(this.#options.pollIntervalMs);
        }
      }
    })();
  }

  /** Stops the background loop after the current poll (and its invocations) finish. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    this.#loop = undefined;
  }

  /**
   * Reads and delivers until every shard is at its current end and nothing is buffered (batching window
   * ignored): what tests call after their writes.
   */
  async drain(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const read = await this.pollOnce({ flush: true });
      if (read === 0 && [...this.#shards.values()].every((s) => s.buffer.length === 0)) return;
      if (Date.now() > deadline) throw new Error('stream poller: drain timed out');
    }
  }

  /** One round over the readable shards; returns how many records were read. */
  async pollOnce(options: { readonly flush?: boolean } = {}): Promise<number> {
    await this.#discover();
    const readable = [...this.#shards.values()].filter((shard) => this.#readable(shard));
    const counts = await Promise.all(readable.map((shard) => this.#pollShard(shard, options.flush ?? false)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async #streamArnOf(): Promise<string> {
    if (this.#streamArn) return this.#streamArn;
    const { Streams } = await this.#options.client.send(
      new ListStreamsCommand({ TableName: this.#options.tableName }),
    );
    const arn = Streams?.[0]?.StreamArn;
    if (!arn) throw new StreamNotFoundError(`table ${this.#options.tableName} has no stream`);
    this.#streamArn = arn;
    return arn;
  }

  async #discover(force = false): Promise<void> {
    const now = Date.now();
    if (!force && this.#shards.size > 0 && now - this.#lastDiscovery < this.#options.discoveryIntervalMs)
      return;
    this.#lastDiscovery = now;
    const streamArn = await this.#streamArnOf();
    const firstDiscovery = this.#shards.size === 0;
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.#options.client.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      for (const shard of StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || this.#shards.has(shard.ShardId)) continue;
        this.#shards.set(shard.ShardId, {
          id: shard.ShardId,
          parentId: shard.ParentShardId,
          iterator: undefined,
          checkpoint: undefined,
          lastRead: undefined,
          closed: false,
          buffer: [],
          bufferedSince: undefined,
          // LATEST applies to the shards open when the mapping starts; shards born later are read whole.
          isNew: !firstDiscovery,
        });
      }
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
  }

  /** A shard is read once its parent (if this stream still has it) is closed and fully delivered. */
  #readable(shard: ShardState): boolean {
    if (shard.closed && shard.buffer.length === 0) return false;
    if (!shard.parentId) return true;
    const parent = this.#shards.get(shard.parentId);
    return !parent || (parent.closed && parent.buffer.length === 0);
  }

  async #iteratorFor(shard: ShardState): Promise<string | undefined> {
    const streamArn = await this.#streamArnOf();
    const latest = this.#options.startingPosition === 'LATEST' && !shard.isNew;
    const { ShardIterator } = await this.#options.client.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.id,
        ...((shard.lastRead ?? shard.checkpoint)
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastRead ?? shard.checkpoint }
          : { ShardIteratorType: latest ? 'LATEST' : 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  }

  async #pollShard(shard: ShardState, flush: boolean): Promise<number> {
    const streamArn = await this.#streamArnOf();
    let read = 0;
    if (!shard.closed) {
      read = await this.#readShard(shard, streamArn);
    }
    const windowOver =
      shard.bufferedSince !== undefined && Date.now() - shard.bufferedSince >= this.#options.batchingWindowMs;
    while (
      shard.buffer.length >= this.#options.batchSize ||
      (shard.buffer.length > 0 && (flush || shard.closed || windowOver))
    ) {
      const batch = shard.buffer.splice(0, this.#options.batchSize);
      await this.#deliver(shard, streamArn, batch, 0);
      const last = batch.at(-1)?.dynamodb?.SequenceNumber;
      if (last) shard.checkpoint = last;
      shard.bufferedSince = shard.buffer.length > 0 ? Date.now() : undefined;
    }
    if (shard.closed && shard.buffer.length === 0) await this.#discover(true);
    return read;
  }

  /** One GetRecords into the shard's buffer; returns how many records it read. */
  async #readShard(shard: ShardState, streamArn: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      shard.iterator ??= await this.#iteratorFor(shard);
      if (!shard.iterator) {
        shard.closed = true;
        return 0;
      }
      try {
        const room = Math.max(1, Math.min(1000, this.#options.batchSize - shard.buffer.length));
        const response = await this.#options.client.send(
          new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: room }),
        );
        const readAt = new Date();
        const localTime = this.#options.localTime ?? ((wall: Date) => wall);
        const records = (response.Records ?? []).map((r) =>
          toLambdaRecord(r, streamArn, this.#options.region, (stamped) =>
            localTime(writtenAt(stamped, readAt)),
          ),
        );
        const filters = this.#options.filters;
        const kept =
          filters === undefined || filters.length === 0
            ? records
            : records.filter((record) => filters.some((filter) => filter.matches(record)));
        this.filteredOut += records.length - kept.length;
        if (kept.length > 0) {
          shard.bufferedSince ??= Date.now();
          shard.buffer.push(...kept);
        }
        shard.lastRead = records.at(-1)?.dynamodb?.SequenceNumber ?? shard.lastRead;
        // Filtered records are done with: with nothing waiting, the checkpoint moves past them.
        if (shard.buffer.length === 0 && shard.lastRead) shard.checkpoint = shard.lastRead;
        shard.iterator = response.NextShardIterator;
        if (!shard.iterator) shard.closed = true;
        return records.length;
      } catch (error) {
        // Iterators expire after 15 minutes: take a new one after the last record read, once.
        if (attempt > 0 || !(error instanceof Error) || error.name !== 'ExpiredIteratorException')
          throw error;
        shard.iterator = undefined;
      }
    }
  }

  /** Invokes until the batch is through or given up on; `retries` already spent on these records. */
  async #deliver(
    shard: ShardState,
    streamArn: string,
    records: readonly DynamoDBRecord[],
    retries: number,
  ): Promise<void> {
    let pending = records;
    let spent = retries;
    while (pending.length > 0) {
      let response: DynamoDBBatchResponse | undefined;
      try {
        this.invocations++;
        response = await this.#options.handler(
          { Records: [...pending] },
          localLambdaContext({
            functionName: this.#options.functionName,
            requestId: randomUUID(),
            timeoutMs: this.#options.invocationTimeoutMs,
          }),
        );
      } catch (error) {
        if (spent >= this.#options.maxRetryAttempts) {
          await this.#giveUp(shard, streamArn, pending, spent, error);
          return;
        }
        if (this.#options.bisectOnError && pending.length > 1) {
          const middle = Math.ceil(pending.length / 2);
          await this.#deliver(shard, streamArn, pending.slice(0, middle), spent + 1);
          await this.#deliver(shard, streamArn, pending.slice(middle), spent + 1);
          return;
        }
        spent++;
        continue;
      }
      const failures = response?.batchItemFailures ?? [];
      if (failures.length === 0) return;
      const positions = failures.map((f) =>
        pending.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier),
      );
      // An identifier that names no record of the batch makes Lambda retry the whole batch.
      const from = positions.some((p) => p < 0) ? 0 : Math.min(...positions);
      if (spent >= this.#options.maxRetryAttempts) {
        await this.#giveUp(shard, streamArn, pending.slice(from), spent);
        return;
      }
      pending = pending.slice(from);
      spent++;
    }
  }

  async #giveUp(
    shard: ShardState,
    streamArn: string,
    records: readonly DynamoDBRecord[],
    attempts: number,
    error?: unknown,
  ): Promise<void> {
    this.discarded += records.length;
    const failure: StreamFailure = {
      shardId: shard.id,
      streamArn,
      records,
      attempts: attempts + 1,
      reason: 'RetryAttemptsExhausted',
      ...(error === undefined ? {} : { error }),
    };
    if (this.#options.onFailure) await this.#options.onFailure(failure);
    else console.error(`stream poller: gave up on ${records.length} record(s) of shard ${shard.id}`);
  }
}

/** Creates a poller and starts it in the background; `stop()` ends it. */
export const startStreamPoller = (options: StreamPollerOptions): StreamPoller => {
  const poller = new StreamPoller(options);
  poller.start();
  return poller;
};
