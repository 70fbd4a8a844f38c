import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../../src/adapters/eventbridge-publisher.js';
import { ManualClock } from '../../../src/domain/clock.js';
import {
  createLifecycleConsumer,
  type LifecycleConsumerDeps,
  oncePerStreamRecord,
  streamIdempotencyConfig,
} from '../../../src/usecases/process-session-changes.js';
import {
  eventOf,
  FakeAwsError,
  fakeLambdaContext,
  InMemoryCacheClient,
  insertOf,
  RecordingPublisher,
  RecordingWorkflows,
  revokeOf,
  sessionFixture,
  sessionIdFor,
  streamEventIdOf,
  streamRecord,
} from '../../support/consumer-fakes.js';

const setup = (overrides: Partial<LifecycleConsumerDeps> = {}) => {
  const workflows = new RecordingWorkflows();
  const publisher = new RecordingPublisher();
  const warnings: string[] = [];
  const consume = createLifecycleConsumer({
    workflows,
    events: publisher,
    clock: new ManualClock('2026-01-01T00:00:00.000Z'),
    log: { warn: (message) => warnings.push(message) },
    ...overrides,
  });
  return { workflows, publisher, consume, warnings };
};

const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }): string[] =>
  response.batchItemFailures.map((f) => f.itemIdentifier);
const seq = (record: DynamoDBRecord): string => record.dynamodb?.SequenceNumber ?? '?';

describe('lifecycle consumer', () => {
  it('starts a lifecycle per INSERT, stops and fans out a revocation, and audits each change once', async () => {
    // Prepare
    const { workflows, publisher, consume } = setup();
    const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
    const b = sessionFixture({ sessionId: sessionIdFor(0xb), user: 'carol' });
    const touch = streamRecord({
      eventName: 'MODIFY',
      sessionId: a.sessionId,
      oldImage: a,
      newImage: { ...a, requestCount: 2, version: 2 },
    });
    // Act
    const response = await consume(eventOf(insertOf(a), insertOf(b), touch, revokeOf(a).record));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(workflows.calls.map((c) => `${c.kind}:${c.name.slice(-2)}`)).toEqual(
      expect.arrayContaining([
        'startLifecycle:0a',
        'startLifecycle:0b',
        'stopLifecycle:0a',
        'startRevocationFanout:0a',
      ]),
    );
    expect(workflows.calls.length).toBe(4);
    // Per session, stream order: a's lifecycle started before it was stopped.
    const ofA = workflows.calls.filter((c) => c.name.endsWith('0a')).map((c) => c.kind);
    expect(ofA).toEqual(['startLifecycle', 'stopLifecycle', 'startRevocationFanout']);
    expect(publisher.summary()).toEqual([
      'SessionStateChanged:000000:null>active',
      'SessionStateChanged:000000:null>active',
      'SessionStateChanged:000000:active>revoked',
    ]);
  });

  it('sends the audit events of the whole batch in one publish, through ≤10-entry PutEvents calls', async () => {
    // Prepare: the real EventBridge adapter over a mocked client.
    const eventBridge = mockClient(EventBridgeClient);
    const calls: PutEventsRequestEntry[][] = [];
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => {
      calls.push(input.Entries ?? []);
      return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: 'x' })) };
    });
    const events = new EventBridgePublisher({
      client: new EventBridgeClient({ region: 'us-east-1' }),
      eventBusName: 'bus',
    });
    const { consume } = setup({ events });
    const records = Array.from({ length: 100 }, (_, i) =>
      insertOf(sessionFixture({ sessionId: sessionIdFor(i) })),
    );
    // Act
    const response = await consume(eventOf(...records));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(calls.map((c) => c.length)).toEqual(Array(10).fill(10));
    // Stream order kept across the calls.
    const ids = calls.flat().map((e) => JSON.parse(e.Detail ?? '{}').streamEventId);
    expect(ids).toEqual(records.map((r) => r.eventID));
    eventBridge.restore();
  });

  it('reports the records whose events the bus refused, and the later records of the same session', async () => {
    // Prepare
    const { publisher, consume } = setup();
    const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
    const b = sessionFixture({ sessionId: sessionIdFor(0xb) });
    const insertA = insertOf(a);
    const insertB = insertOf(b);
    const revokeA = revokeOf(a).record;
    publisher.refuseWhen((e) => streamEventIdOf(e) === insertA.eventID, 'InternalFailure');
    // Act
    const response = await consume(eventOf(insertA, insertB, revokeA));
    // Assess
    expect(failedIds(response)).toEqual([seq(insertA), seq(revokeA)]);
    expect(publisher.accepted.map((e) => e.detail.sessionId)).toContain(b.sessionId);
  });

  it("holds back a session's later events when an earlier one is refused, so the bus never sees them reordered", async () => {
    // Prepare
    const { publisher, consume } = setup();
    const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
    const b = sessionFixture({ sessionId: sessionIdFor(0xb) });
    const insertA = insertOf(a);
    const revokeA = revokeOf(a).record;
    const revokeB = revokeOf(b).record;
    publisher.refuseWhen((e) => streamEventIdOf(e) === insertA.eventID, 'InternalFailure');
    // Act
    const first = await consume(eventOf(insertA, revokeB, revokeA));
    const retry = await consume(eventOf(insertA, revokeA));
    // Assess: a's revocation was not sent until its insert had been accepted.
    expect(failedIds(first)).toEqual([seq(insertA), seq(revokeA)]);
    expect(retry.batchItemFailures).toEqual([]);
    expect(publisher.accepted.map(streamEventIdOf)).toEqual([
      revokeB.eventID,
      insertA.eventID,
      revokeA.eventID,
    ]);
  });

  it('after a workflow call fails (throttled), later records of that session are not run, others are', async () => {
    // Prepare
    const { workflows, consume } = setup();
    const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
    const b = sessionFixture({ sessionId: sessionIdFor(0xb) });
    workflows.failWhen(
      (c) => c.kind === 'startLifecycle' && c.name === a.sessionId,
      new FakeAwsError('ThrottlingException', 'Rate exceeded'),
    );
    const insertA = insertOf(a);
    const revokeA = revokeOf(a).record;
    const insertB = insertOf(b);
    // Act
    const response = await consume(eventOf(insertA, insertB, revokeA));
    // Assess
    expect(failedIds(response)).toEqual([seq(insertA), seq(revokeA)]);
    expect(workflows.calls.map((c) => `${c.kind}:${c.name}`)).toEqual([`startLifecycle:${b.sessionId}`]);
  });

  it('reports a malformed image as a failed record instead of crashing the batch', async () => {
    const { consume, publisher, warnings } = setup();
    const good = insertOf(sessionFixture({ sessionId: sessionIdFor(1) }));
    const bad = streamRecord({
      eventName: 'INSERT',
      sessionId: sessionIdFor(2),
      newImage: { sessionId: sessionIdFor(2) },
    });
    const response = await consume(eventOf(good, bad));
    expect(failedIds(response)).toEqual([seq(bad)]);
    expect(publisher.accepted.length).toBe(1);
    expect(warnings).toContain('stream record failed');
  });

  it('throws when every record failed, as Powertools does, so the event source mapping can bisect', async () => {
    const { consume, workflows } = setup();
    workflows.failWhen(() => true, new FakeAwsError('ServiceUnavailable'), 10);
    await expect(consume(eventOf(insertOf(sessionFixture({ sessionId: sessionIdFor(1) }))))).rejects.toThrow(
      FullBatchFailureError,
    );
  });

  describe('with idempotency on the stream eventID', () => {
    const withIdempotency = () => {
      const config = streamIdempotencyConfig();
      config.registerLambdaContext(fakeLambdaContext());
      const store = new CachePersistenceLayer({ client: new InMemoryCacheClient() });
      return setup({ once: oncePerStreamRecord(store, config) });
    };

    it('publishes each audit event once when the same batch is delivered twice', async () => {
      // Prepare
      const { consume, publisher, workflows } = withIdempotency();
      const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
      const event = eventOf(insertOf(a), revokeOf(a).record);
      // Act
      const first = await consume(event);
      const second = await consume(event);
      // Assess
      expect(first.batchItemFailures).toEqual([]);
      expect(second.batchItemFailures).toEqual([]);
      expect(publisher.summary()).toEqual([
        'SessionStateChanged:000000:null>active',
        'SessionStateChanged:000000:active>revoked',
      ]);
      expect(workflows.calls.length).toBe(3);
    });

    it('a record failed only for ordering is not re-published when the batch is retried', async () => {
      // Prepare: the insert's event is refused once, the revoke's is accepted but must be reported failed.
      const { consume, publisher } = withIdempotency();
      const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
      const insertA = insertOf(a);
      const revokeA = revokeOf(a).record;
      const insertB = insertOf(sessionFixture({ sessionId: sessionIdFor(0xb) }));
      publisher.refuseWhen((e) => streamEventIdOf(e) === insertA.eventID, 'ThrottlingException');
      // Act: Lambda re-delivers from the first failed record on.
      const first = await consume(eventOf(insertA, insertB, revokeA));
      const retry = await consume(eventOf(insertA, insertB, revokeA));
      // Assess
      expect(failedIds(first)).toEqual([seq(insertA), seq(revokeA)]);
      expect(retry.batchItemFailures).toEqual([]);
      const streamIds = publisher.accepted.map(streamEventIdOf);
      expect(streamIds.sort()).toEqual([insertA.eventID, insertB.eventID, revokeA.eventID].sort());
    });
  });
});
