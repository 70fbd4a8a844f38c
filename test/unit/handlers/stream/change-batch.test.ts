import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../local/manual-clock.js';
import { EventBridgePublisher } from '../../../../src/adapters/eventbridge-publisher.js';
import {
  createLifecycleConsumer,
  type LifecycleConsumerDeps,
} from '../../../../src/handlers/stream/consume.js';
import { oncePerStreamRecord, streamIdempotencyConfig } from '../../../../src/handlers/stream/idempotency.js';
import {
  eventOf,
  expireOf,
  FakeAwsError,
  fakeLambdaContext,
  InMemoryCacheClient,
  insertOf,
  RecordingPublisher,
  RecordingWorkflows,
  removeOf,
  revokeOf,
  sessionFixture,
  sessionIdFor,
  streamEventIdOf,
  streamRecord,
} from '../../../support/consumer-fakes.js';

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
  it('starts a lifecycle per INSERT, stops and fans out a revocation, audits each change once and announces the revocation', async () => {
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
      `SessionStateChanged:${a.sessionId}:null>active`,
      `SessionStateChanged:${b.sessionId}:null>active`,
      `SessionStateChanged:${a.sessionId}:active>revoked`,
      `SessionRevoked:${a.sessionId}`,
    ]);
    expect(publisher.accepted.at(-1)?.detail).toEqual({
      schemaVersion: '1',
      sessionId: a.sessionId,
      user: 'alice',
      profile: 'dev',
      occurredAt: '2026-01-01T00:10:00.000Z',
      revokedAt: '2026-01-01T00:10:00.000Z',
      revokedBy: 'bob',
      reason: 'test',
    });
  });

  it.each(['workflow', 'sweeper', 'lazy', 'forced'] as const)(
    'announces active → expired (%s) as SessionExpired after its audit event, stopping the lifecycle unless it expired it',
    async (reason) => {
      // Prepare
      const { workflows, publisher, consume } = setup();
      const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
      // Act
      const response = await consume(eventOf(expireOf(a, reason).record));
      // Assess
      expect(response.batchItemFailures).toEqual([]);
      const stop = { kind: 'stopLifecycle', name: a.sessionId, cause: `Session expired (${reason})` };
      // Only the operator's forced expiry is early (the others happen at or after expiresAt): enforced too.
      const fanout = {
        kind: 'startRevocationFanout',
        name: `revoke-${a.sessionId}`,
        input: expect.objectContaining({ revokedBy: 'expiry:forced', revokedAt: '2026-01-01T00:30:01.000Z' }),
      };
      expect(workflows.calls).toEqual(
        reason === 'workflow' ? [] : reason === 'forced' ? [stop, fanout] : [stop],
      );
      expect(publisher.summary()).toEqual([
        `SessionStateChanged:${a.sessionId}:active>expired`,
        `SessionExpired:${a.sessionId}:${reason}`,
      ]);
      expect(publisher.accepted[1]?.detail).toMatchObject({
        occurredAt: '2026-01-01T00:30:01.000Z',
        expiresAt: a.expiresAt,
        reason,
      });
    },
  );

  it('keeps the TTL safety net: a purged active row is SessionPurged, then SessionExpired (ttl)', async () => {
    const { publisher, consume, warnings } = setup();
    const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
    const response = await consume(eventOf(removeOf(a, true)));
    expect(response.batchItemFailures).toEqual([]);
    expect(publisher.summary()).toEqual([
      `SessionPurged:${a.sessionId}`,
      `SessionExpired:${a.sessionId}:ttl`,
    ]);
    expect(warnings).toEqual([]);
  });

  it('audits a row deleted by a caller as SessionPurged with its final status, warns, and announces nothing', async () => {
    // Prepare
    const { publisher, consume, warnings } = setup();
    const active = sessionFixture({ sessionId: sessionIdFor(0xa) });
    const revoked = revokeOf(sessionFixture({ sessionId: sessionIdFor(0xb) })).revoked;
    // Act
    const response = await consume(eventOf(removeOf(active, false), removeOf(revoked, false)));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(
      publisher.accepted.map((e) => [e.detailType, 'finalStatus' in e.detail && e.detail.finalStatus]),
    ).toEqual([
      ['SessionPurged', 'active'],
      ['SessionPurged', 'revoked'],
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(/^active session row deleted by a caller, not by TTL/),
      expect.stringMatching(/^session row \(revoked\) deleted by a caller, not by TTL/),
    ]);
  });

  it('does not send a terminal event whose audit event was refused; the retry sends both, the terminal once', async () => {
    // Prepare
    const { publisher, consume } = setup();
    const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
    const revokeA = revokeOf(a).record;
    const b = sessionFixture({ sessionId: sessionIdFor(0xb) });
    const insertB = insertOf(b);
    publisher.refuseWhen((e) => streamEventIdOf(e) === revokeA.eventID, 'InternalFailure');
    // Act
    const first = await consume(eventOf(revokeA, insertB));
    const retry = await consume(eventOf(revokeA));
    // Assess: b's insert went out in the first batch, a's revocation only with the retry.
    expect(failedIds(first)).toEqual([seq(revokeA)]);
    expect(retry.batchItemFailures).toEqual([]);
    expect(publisher.summary()).toEqual([
      `SessionStateChanged:${b.sessionId}:null>active`,
      `SessionStateChanged:${a.sessionId}:active>revoked`,
      `SessionRevoked:${a.sessionId}`,
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
    expect(
      publisher.accepted.map((e) => `${e.detailType}:${streamEventIdOf(e) ?? e.detail.sessionId}`),
    ).toEqual([
      `SessionStateChanged:${revokeB.eventID}`,
      `SessionRevoked:${b.sessionId}`,
      `SessionStateChanged:${insertA.eventID}`,
      `SessionStateChanged:${revokeA.eventID}`,
      `SessionRevoked:${a.sessionId}`,
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
        `SessionStateChanged:${a.sessionId}:null>active`,
        `SessionStateChanged:${a.sessionId}:active>revoked`,
        `SessionRevoked:${a.sessionId}`,
      ]);
      expect(workflows.calls.length).toBe(3);
    });

    it('announces a revocation once when its record is delivered again, alone or in a later batch', async () => {
      // Prepare
      const { consume, publisher } = withIdempotency();
      const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
      const b = sessionFixture({ sessionId: sessionIdFor(0xb) });
      const revokeA = revokeOf(a).record;
      // Act
      await consume(eventOf(revokeA));
      await consume(eventOf(revokeA));
      const later = await consume(eventOf(revokeA, revokeOf(b).record));
      // Assess
      expect(later.batchItemFailures).toEqual([]);
      expect(
        publisher.accepted.filter((e) => e.detailType === 'SessionRevoked').map((e) => e.detail.sessionId),
      ).toEqual([a.sessionId, b.sessionId]);
    });

    it('announces once when the terminal event was refused and the record retried', async () => {
      // Prepare: the bus takes the audit event but refuses SessionRevoked once.
      const { consume, publisher } = withIdempotency();
      const a = sessionFixture({ sessionId: sessionIdFor(0xa) });
      const revokeA = revokeOf(a).record;
      const insertB = insertOf(sessionFixture({ sessionId: sessionIdFor(0xb) }));
      publisher.refuseWhen((e) => e.detailType === 'SessionRevoked', 'ThrottlingException');
      // Act
      const first = await consume(eventOf(revokeA, insertB));
      const retry = await consume(eventOf(revokeA));
      const again = await consume(eventOf(revokeA));
      // Assess: the audit event is at least once (deduplicated on streamEventId), the announcement once.
      expect(failedIds(first)).toEqual([seq(revokeA)]);
      expect(retry.batchItemFailures).toEqual([]);
      expect(again.batchItemFailures).toEqual([]);
      expect(publisher.summary().filter((s) => s.startsWith('SessionRevoked'))).toEqual([
        `SessionRevoked:${a.sessionId}`,
      ]);
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
      const streamIds = publisher.accepted.flatMap((e) => streamEventIdOf(e) ?? []);
      expect(streamIds.sort()).toEqual([insertA.eventID, insertB.eventID, revokeA.eventID].sort());
      expect(publisher.summary().filter((e) => e.startsWith('SessionRevoked'))).toEqual([
        `SessionRevoked:${a.sessionId}`,
      ]);
    });
  });
});
