/**
 * Recording test doubles for the lifecycle consumer's ports, plus builders of Lambda-shaped DynamoDB stream
 * records and an in-memory cache client for Powertools' CachePersistenceLayer (real idempotency logic,
 * no network).
 */
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { ExpiredReason, Session } from '../../src/domain/session.js';
import type {
  DomainEvent,
  EventPublisher,
  LifecycleInput,
  PublishResult,
  RevocationFanoutInput,
  WorkflowControl,
} from '../../src/ports.js';

const sleep = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

export type WorkflowCall =
  | { readonly kind: 'startLifecycle'; readonly name: string; readonly input: object }
  | { readonly kind: 'stopLifecycle'; readonly name: string; readonly cause: string }
  | { readonly kind: 'startRevocationFanout'; readonly name: string; readonly input: object };

/** Named like the SDK's error so code that checks `error.name` treats it as the real one. */
export class FakeAwsError extends Error {
  constructor(name: string, message = name) {
    super(message);
    this.name = name;
  }
}

/**
 * WorkflowControl that records the calls that took effect (in order), keeps Step Functions' naming rules
 * (a second start with the same name is `alreadyStarted`), and fails calls on demand.
 */
export class RecordingWorkflows implements WorkflowControl {
  readonly calls: WorkflowCall[] = [];
  readonly #running = new Set<string>();
  #failures: { match: (call: WorkflowCall) => boolean; error: Error; times: number }[] = [];
  constructor(private readonly latencyMs = 0) {}

  /** The next `times` calls matching `match` throw `error` (e.g. a ThrottlingException). */
  failWhen(match: (call: WorkflowCall) => boolean, error: Error, times = 1): void {
    this.#failures.push({ match, error, times });
  }

  async #call(call: WorkflowCall): Promise<void> {
    await sleep(this.latencyMs);
    const failure = this.#failures.find((f) => f.times > 0 && f.match(call));
    if (failure) {
      failure.times--;
      throw failure.error;
    }
    this.calls.push(call);
  }

  async startLifecycle(input: LifecycleInput): Promise<{ readonly alreadyStarted: boolean }> {
    const name = input.sessionId;
    await this.#call({ kind: 'startLifecycle', name, input });
    const alreadyStarted = this.#running.has(`lifecycle/${name}`);
    this.#running.add(`lifecycle/${name}`);
    return { alreadyStarted };
  }

  async stopLifecycle(sessionId: string, cause: string): Promise<{ readonly stopped: boolean }> {
    await this.#call({ kind: 'stopLifecycle', name: sessionId, cause });
    return { stopped: this.#running.delete(`lifecycle/${sessionId}`) };
  }

  async startRevocationFanout(input: RevocationFanoutInput): Promise<{ readonly alreadyStarted: boolean }> {
    const name = `revoke-${input.sessionId}`;
    await this.#call({ kind: 'startRevocationFanout', name, input });
    const alreadyStarted = this.#running.has(`fanout/${name}`);
    this.#running.add(`fanout/${name}`);
    return { alreadyStarted };
  }
}

/** EventPublisher that keeps what the bus accepted and can refuse chosen events. */
export class RecordingPublisher implements EventPublisher {
  readonly accepted: DomainEvent[] = [];
  /** Size of every publish() call. */
  readonly batches: number[] = [];
  #refuse: { match: (event: DomainEvent) => boolean; errorCode: string; times: number }[] = [];
  constructor(private readonly latencyMs = 0) {}

  /** The next `times` events matching `match` are refused with `errorCode`. */
  refuseWhen(match: (event: DomainEvent) => boolean, errorCode: string, times = 1): void {
    this.#refuse.push({ match, errorCode, times });
  }

  async publish(events: readonly DomainEvent[]): Promise<PublishResult> {
    await sleep(this.latencyMs);
    this.batches.push(events.length);
    const failed: { event: DomainEvent; errorCode: string }[] = [];
    for (const event of events) {
      const refusal = this.#refuse.find((r) => r.times > 0 && r.match(event));
      if (refusal) {
        refusal.times--;
        failed.push({ event, errorCode: refusal.errorCode });
      } else {
        this.accepted.push(event);
      }
    }
    return { failed };
  }

  /** Accepted events as `DetailType:sessionId[:extra]` strings (the whole id, so sessions stay apart). */
  summary(): string[] {
    return this.accepted.map((e) => {
      const d = e.detail as unknown as Record<string, unknown>;
      const extra =
        e.detailType === 'SessionStateChanged'
          ? `:${String(d.fromStatus)}>${String(d.toStatus)}`
          : e.detailType === 'SessionExpired'
            ? `:${String(d.reason)}`
            : '';
      return `${e.detailType}:${String(d.sessionId)}${extra}`;
    });
  }
}

/** The stream eventID an audit event was built from, if it carries one. */
export const streamEventIdOf = (event: DomainEvent): string | undefined =>
  'streamEventId' in event.detail ? event.detail.streamEventId : undefined;

/** A Session with plausible values; override what the test is about. */
export const sessionFixture = (overrides: Partial<Session> & { sessionId: string }): Session => ({
  user: 'alice',
  principalArn: 'arn:aws:iam::123456789012:user/alice',
  profile: 'dev',
  roleArn: 'arn:aws:iam::123456789012:role/dev',
  sourceIdentity: 'sentinel:alice:direct:r1',
  status: 'active',
  createdAt: '2026-01-01T00:00:00.000Z',
  lastAccessAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T00:30:00.000Z',
  maxExpiresAt: '2026-01-01T12:00:00.000Z',
  requestCount: 1,
  version: 1,
  ttl: 1767832200,
  ...overrides,
});

export const sessionIdFor = (n: number): string => n.toString(16).padStart(32, '0');

const image = (session: Session | Record<string, unknown>): Record<string, AttributeValue> =>
  // Same wire shape; the two AttributeValue types only differ in TypeScript.
  marshall(session, { removeUndefinedValues: true }) as Record<string, SdkAttributeValue> as Record<
    string,
    AttributeValue
  >;

let sequence = 1_000_000_000_000_000_000_000n;

/** One Lambda-shaped stream record; `sequence` grows across calls so a batch is in stream order. */
export const streamRecord = (input: {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly sessionId: string;
  readonly newImage?: Session | Record<string, unknown>;
  readonly oldImage?: Session | Record<string, unknown>;
  readonly byTtl?: boolean;
  readonly at?: string;
}): DynamoDBRecord => {
  sequence += 100n;
  return {
    eventID: `ev-${sequence.toString(36)}`,
    eventName: input.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.parse(input.at ?? '2026-01-01T00:00:00.000Z') / 1000),
      Keys: { sessionId: { S: input.sessionId } },
      ...(input.newImage ? { NewImage: image(input.newImage) } : {}),
      ...(input.oldImage ? { OldImage: image(input.oldImage) } : {}),
      SequenceNumber: sequence.toString(),
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000',
    ...(input.byTtl ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } } : {}),
  };
};

export const insertOf = (session: Session): DynamoDBRecord =>
  streamRecord({
    eventName: 'INSERT',
    sessionId: session.sessionId,
    newImage: session,
    at: session.createdAt,
  });

export const revokeOf = (session: Session, by = 'bob'): { record: DynamoDBRecord; revoked: Session } => {
  const revoked: Session = {
    ...session,
    status: 'revoked',
    revokedAt: '2026-01-01T00:10:00.000Z',
    revokedBy: by,
    revokedReason: 'test',
    version: session.version + 1,
  };
  return {
    record: streamRecord({
      eventName: 'MODIFY',
      sessionId: session.sessionId,
      oldImage: session,
      newImage: revoked,
    }),
    revoked,
  };
};

export const expireOf = (
  session: Session,
  reason: ExpiredReason = 'workflow',
): { record: DynamoDBRecord; expired: Session } => {
  const expired: Session = {
    ...session,
    status: 'expired',
    expiredAt: '2026-01-01T00:30:01.000Z',
    expiredReason: reason,
    version: session.version + 1,
  };
  return {
    record: streamRecord({
      eventName: 'MODIFY',
      sessionId: session.sessionId,
      oldImage: session,
      newImage: expired,
      at: '2026-01-01T00:30:01.000Z',
    }),
    expired,
  };
};

/** A REMOVE of the row: by DynamoDB's TTL service, or by a caller (DeleteItem). */
export const removeOf = (session: Session, byTtl: boolean): DynamoDBRecord =>
  streamRecord({ eventName: 'REMOVE', sessionId: session.sessionId, oldImage: session, byTtl });

export const eventOf = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

/** Context enough for Powertools (idempotency reads the remaining time). */
export const fakeLambdaContext = (remainingMs = 60_000) => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'LifecycleConsumerFunction',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:LifecycleConsumerFunction',
  memoryLimitInMB: '512',
  awsRequestId: 'local-request',
  logGroupName: '/aws/lambda/LifecycleConsumerFunction',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => remainingMs,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/**
 * A Valkey/Redis-shaped client in memory (GET, SET with NX/EX, DEL) for Powertools' CachePersistenceLayer,
 * with an optional latency per call to stand in for a network round trip.
 */
export class InMemoryCacheClient {
  readonly #items = new Map<string, { value: string; expiresAt: number }>();
  constructor(private readonly latencyMs = 0) {}

  async get(name: string): Promise<string | null> {
    await sleep(this.latencyMs);
    const item = this.#items.get(name);
    if (!item || item.expiresAt <= Date.now()) return null;
    return item.value;
  }

  async set(name: string | Uint8Array, value: unknown, options?: unknown): Promise<string | null> {
    await sleep(this.latencyMs);
    const key = typeof name === 'string' ? name : Buffer.from(name).toString();
    const { EX, NX } = (options ?? {}) as { EX?: number; NX?: boolean };
    const existing = this.#items.get(key);
    if (NX && existing && existing.expiresAt > Date.now()) return null;
    const expiresAt = EX === undefined ? Number.POSITIVE_INFINITY : Date.now() + EX * 1000;
    this.#items.set(key, { value: String(value), expiresAt });
    return 'OK';
  }

  async del(keys: string[]): Promise<number> {
    await sleep(this.latencyMs);
    return keys.filter((key) => this.#items.delete(key)).length;
  }

  get size(): number {
    return this.#items.size;
  }
}
