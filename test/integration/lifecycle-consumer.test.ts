/**
 * The lifecycle consumer end to end on DynamoDB Local: real session writes → the table's real stream →
 * the local event source mapping (stream poller) → the consumer, with Powertools idempotency on the real
 * StreamIdempotencyTable (the consumer's own), the local bus capturing events and the workflow port recording its calls.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../local/dynamodb-local.js';
import { LocalEventBus } from '../../local/event-bus.js';
import { ManualClock } from '../../local/manual-clock.js';
import { StreamPoller } from '../../local/stream-poller.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import type { Session } from '../../src/domain/session.js';
import { createLifecycleConsumer } from '../../src/handlers/stream/consume.js';
import { oncePerStreamRecord, streamIdempotencyConfig } from '../../src/handlers/stream/idempotency.js';
import {
  FakeAwsError,
  fakeLambdaContext,
  RecordingWorkflows,
  sessionFixture,
} from '../support/consumer-fakes.js';
import { useLocalTables } from '../support/local-tables.js';

const tables = useLocalTables();
let streams: DynamoDBStreamsClient;
beforeAll(() => {
  streams = new DynamoDBStreamsClient(localClientConfig(tables.endpoint));
});
afterAll(() => streams?.destroy());

let counter = 0;
/** Fresh session ids per test, so tests sharing the table never see each other's records. */
const newSession = (user = 'alice'): Session =>
  sessionFixture({
    sessionId: `${Date.now().toString(16)}${(counter++).toString(16)}`.padStart(32, '0'),
    user,
    // 2090: DynamoDB Local's TTL sweeper deletes rows whose ttl is behind the wall clock, mid-test.
    ttl: 3786912000,
  });

interface Detail {
  readonly sessionId: string;
  readonly fromStatus?: string | null;
  readonly toStatus?: string;
  readonly reason?: string;
  readonly streamEventId?: string;
}

const pipeline = async () => {
  const bus = new LocalEventBus();
  const workflows = new RecordingWorkflows();
  const config = streamIdempotencyConfig();
  config.registerLambdaContext(fakeLambdaContext());
  const consume = createLifecycleConsumer({
    workflows,
    events: bus,
    clock: new ManualClock('2026-01-01T00:00:00.000Z'),
    once: oncePerStreamRecord(
      new DynamoDBPersistenceLayer({
        tableName: tables.names.StreamIdempotencyTable,
        awsSdkV3Client: tables.client,
      }),
      config,
    ),
  });
  const delivered: DynamoDBRecord[][] = [];
  const poller = new StreamPoller({
    client: streams,
    tableName: tables.names.SessionsTable,
    startingPosition: 'LATEST',
    maxRetryAttempts: 5,
    handler: async (event, context) => {
      delivered.push(event.Records);
      return consume(event, context);
    },
  });
  await poller.pollOnce(); // iterators at the end of the stream before this test writes
  const store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
  });
  /** The bus's events about `sessions`, as `DetailType from>to` strings in publish order. */
  const eventsOf = (...sessions: Session[]): string[] =>
    bus.events
      .filter((e) => sessions.some((s) => s.sessionId === (e.detail as Detail).sessionId))
      .map((e) => {
        const d = e.detail as Detail;
        const who = sessions.findIndex((s) => s.sessionId === d.sessionId);
        const change =
          e['detail-type'] === 'SessionStateChanged'
            ? ` ${d.fromStatus}>${d.toStatus}`
            : e['detail-type'] === 'SessionExpired'
              ? ` ${d.reason}`
              : '';
        return `${who}:${e['detail-type']}${change}`;
      });
  const callsOf = (session: Session): string[] =>
    workflows.calls.filter((c) => c.name.endsWith(session.sessionId)).map((c) => c.kind);
  return { bus, workflows, consume, poller, store, delivered, eventsOf, callsOf };
};

const at = (iso: string) => new Date(iso);

describe('lifecycle consumer on DynamoDB Local', () => {
  it('starts, stops and fans out workflows, audits every status change once and announces the revocation; touches stay silent', async () => {
    // Prepare
    const { store, poller, eventsOf, callsOf, workflows, bus, delivered } = await pipeline();
    const [a, b] = [newSession(), newSession('carol')];
    // Act
    await store.create(a);
    await store.create(b);
    await store.touch(a.sessionId, { principalArn: a.principalArn, now: at('2026-01-01T00:05:00.000Z') });
    await store.revoke(a.sessionId, {
      by: 'bob',
      reason: 'lost laptop',
      now: at('2026-01-01T00:06:00.000Z'),
    });
    await poller.drain();
    // Assess
    expect(eventsOf(a, b)).toEqual([
      '0:SessionStateChanged null>active',
      '1:SessionStateChanged null>active',
      '0:SessionStateChanged active>revoked',
      '0:SessionRevoked',
    ]);
    const revoked = bus.events.find((e) => e['detail-type'] === 'SessionRevoked');
    expect(revoked?.detail).toMatchObject({
      sessionId: a.sessionId,
      revokedBy: 'bob',
      reason: 'lost laptop',
    });
    expect(callsOf(a)).toEqual(['startLifecycle', 'stopLifecycle', 'startRevocationFanout']);
    expect(callsOf(b)).toEqual(['startLifecycle']);
    const fanout = workflows.calls.find((c) => c.kind === 'startRevocationFanout');
    expect(fanout).toMatchObject({
      name: `revoke-${a.sessionId}`,
      input: { sessionId: a.sessionId, revokedBy: 'bob', reason: 'lost laptop', user: 'alice' },
    });
    // One publish per wave (a's two changes and its announcement make three when they share a batch),
    // never one per record.
    expect(bus.calls.reduce((sum, n) => sum + n, 0)).toBe(4);
    expect(bus.calls.length).toBeLessThanOrEqual(delivered.length * 3);
  });

  it('publishes each audit event once when Lambda delivers the same batch again', async () => {
    // Prepare
    const { store, poller, consume, delivered, eventsOf, callsOf } = await pipeline();
    const a = newSession();
    await store.create(a);
    await store.revoke(a.sessionId, { by: 'bob', reason: 'r', now: at('2026-01-01T00:06:00.000Z') });
    await poller.drain();
    const batch: DynamoDBStreamEvent = { Records: delivered.flat() };
    // Act: the same records again, as after a timeout or a partial failure of a later record.
    const again = await consume(batch, fakeLambdaContext());
    // Assess
    expect(again.batchItemFailures).toEqual([]);
    expect(eventsOf(a)).toEqual([
      '0:SessionStateChanged null>active',
      '0:SessionStateChanged active>revoked',
      '0:SessionRevoked',
    ]);
    expect(callsOf(a)).toEqual(['startLifecycle', 'stopLifecycle', 'startRevocationFanout']);
    // The records are remembered in the consumer's own table; vend's (credentials) is never touched.
    const count = async (table: string) =>
      (await tables.documentClient.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count ?? 0;
    expect(await count(tables.names.StreamIdempotencyTable)).toBeGreaterThanOrEqual(2);
    expect(await count(tables.names.IdempotencyTable)).toBe(0);
  });

  it('retries only what PutEvents refused: every event lands once, each session in order', async () => {
    // Prepare: the bus refuses a's insert event twice (a partial PutEvents failure), then takes it.
    const { store, poller, bus, delivered, eventsOf } = await pipeline();
    const [a, b] = [newSession(), newSession('carol')];
    let refusals = 2;
    bus.injectFailures((event) => {
      const d = event.detail as Detail;
      if (d.sessionId === a.sessionId && d.fromStatus === null && refusals > 0) {
        refusals--;
        return 'InternalFailure';
      }
      return undefined;
    });
    // Act
    await store.create(a);
    await store.create(b);
    await store.revoke(a.sessionId, { by: 'bob', reason: 'r', now: at('2026-01-01T00:06:00.000Z') });
    await poller.drain();
    // Assess
    // a's insert went to the consumer three times: first delivery and two re-deliveries from it on.
    const insertOfA = delivered
      .flat()
      .filter((r) => r.eventName === 'INSERT' && r.dynamodb?.Keys?.sessionId?.S === a.sessionId);
    expect(insertOfA.length).toBe(3);
    expect(eventsOf(a, b)).toEqual([
      '1:SessionStateChanged null>active',
      '0:SessionStateChanged null>active',
      '0:SessionStateChanged active>revoked',
      '0:SessionRevoked',
    ]);
  });

  it('keeps a session in order when StartExecution is throttled: its later records wait for the retry', async () => {
    // Prepare
    const { store, poller, workflows, eventsOf, callsOf } = await pipeline();
    const [a, b] = [newSession(), newSession('carol')];
    workflows.failWhen(
      (call) => call.kind === 'startLifecycle' && call.name === a.sessionId,
      new FakeAwsError('ThrottlingException', 'Rate exceeded'),
    );
    // Act
    await store.create(a);
    await store.create(b);
    await store.revoke(a.sessionId, { by: 'bob', reason: 'r', now: at('2026-01-01T00:06:00.000Z') });
    await poller.drain();
    // Assess: a's revocation did not overtake its lifecycle start, on the workflows or on the bus.
    expect(callsOf(a)).toEqual(['startLifecycle', 'stopLifecycle', 'startRevocationFanout']);
    expect(callsOf(b)).toEqual(['startLifecycle']);
    expect(eventsOf(a, b)).toEqual([
      '1:SessionStateChanged null>active',
      '0:SessionStateChanged null>active',
      '0:SessionStateChanged active>revoked',
      '0:SessionRevoked',
    ]);
  });

  it('announces an expiry from the stream: one SessionExpired per session with the reason the row carries', async () => {
    // Prepare: the workflow expires a on time; b is found late by a refresh (lazy); c is revoked first, so
    // a later expiry attempt loses the conditional write.
    const { store, poller, consume, delivered, eventsOf, callsOf } = await pipeline();
    const [a, b, c] = [newSession(), newSession('carol'), newSession('dave')];
    const late = at('2026-01-01T00:31:00.000Z');
    await Promise.all([store.create(a), store.create(b), store.create(c)]);
    await store.expire(a.sessionId, { reason: 'workflow', now: late });
    await store.expire(b.sessionId, { reason: 'lazy', now: late });
    await store.revoke(c.sessionId, { by: 'bob', reason: 'r', now: at('2026-01-01T00:06:00.000Z') });
    const lost = await store.expire(c.sessionId, { reason: 'workflow', now: late });
    // Act
    await poller.drain();
    const redelivered = await consume({ Records: delivered.flat() }, fakeLambdaContext());
    // Assess
    expect(lost.ok).toBe(false);
    expect(redelivered.batchItemFailures).toEqual([]);
    const terminal = eventsOf(a, b, c).filter((e) => !e.includes('SessionStateChanged'));
    expect(terminal.sort()).toEqual([
      '0:SessionExpired workflow',
      '1:SessionExpired lazy',
      '2:SessionRevoked',
    ]);
    expect(eventsOf(a)).toEqual([
      '0:SessionStateChanged null>active',
      '0:SessionStateChanged active>expired',
      '0:SessionExpired workflow',
    ]);
    expect(callsOf(a)).toEqual(['startLifecycle']);
  });

  it('audits a row deleted by a caller as SessionPurged, with no terminal event', async () => {
    // Prepare
    const { store, poller, eventsOf, bus } = await pipeline();
    const a = newSession();
    await store.create(a);
    // Act: a DeleteItem by hand (no TTL service identity on the record).
    await tables.documentClient.send(
      new DeleteCommand({ TableName: tables.names.SessionsTable, Key: { sessionId: a.sessionId } }),
    );
    await poller.drain();
    // Assess
    expect(eventsOf(a)).toEqual(['0:SessionStateChanged null>active', '0:SessionPurged']);
    const purged = bus.events.find(
      (e) => e['detail-type'] === 'SessionPurged' && (e.detail as Detail).sessionId === a.sessionId,
    );
    expect(purged?.detail).toMatchObject({ finalStatus: 'active' });
  });

  it('audits a TTL purge of a still-active session as SessionPurged, then SessionExpired (ttl) (fixture)', async () => {
    // Prepare
    const { consume, bus } = await pipeline();
    const fixture = JSON.parse(readFileSync('events/streams/ttl-remove.json', 'utf8')) as DynamoDBStreamEvent;
    // Act
    const response = await consume(fixture, fakeLambdaContext());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const sessionId = fixture.Records[0]?.dynamodb?.Keys?.sessionId?.S;
    const mine = bus.events.filter((e) => (e.detail as Detail).sessionId === sessionId);
    expect(mine.map((e) => [e['detail-type'], (e.detail as Detail).reason])).toEqual([
      ['SessionPurged', undefined],
      ['SessionExpired', 'ttl'],
    ]);
  });
});
