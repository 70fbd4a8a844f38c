/**
 * The session-lifecycle ASL, run by the real interpreter against DynamoDB Local: the Wait is time-scaled,
 * every DynamoDB call and conditional failure is real. Its state transitions are counted as Step Functions
 * bills them (each state entered), and must not depend on how often the session is refreshed. The last
 * part runs the whole expiry path: the table's stream → the consumer → the lifecycle execution and the
 * sweeper, in both PerSessionExecutions settings.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../local/dynamodb-local.js';
import { LocalEventBus } from '../../local/event-bus.js';
import { LocalWorkflowControl } from '../../local/local-workflow-control.js';
import { rawDefinitionOf, runLocalStateMachine, substitute } from '../../local/sfn-binder.js';
import { StreamPoller } from '../../local/stream-poller.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { newSession, type Session } from '../../src/domain/session.js';
import type { PerSessionExecutionsMode } from '../../src/domain/workflows.js';
import { createLifecycleConsumer } from '../../src/handlers/stream/consume.js';
import { iamUserCaller } from '../support/callers.js';
import { useLocalTables } from '../support/local-tables.js';
import { ManualStackClock } from '../support/manual-stack-clock.js';

const tables = useLocalTables();
let streams: DynamoDBStreamsClient;
beforeAll(() => {
  streams = new DynamoDBStreamsClient(localClientConfig(tables.endpoint));
});
afterAll(() => streams?.destroy());

const caller = iamUserCaller('alice');
const MAX_LIFETIME_SECONDS = 36_000;
const policy = { idleTimeoutSeconds: 3600, maxLifetimeSeconds: MAX_LIFETIME_SECONDS };
let counter = 0;
// In the future: DynamoDB Local really runs TTL deletes, and a row whose ttl has passed would vanish mid-test.
const base = new Date(Math.ceil(Date.now() / 86_400_000 + 1) * 86_400_000);
const secondsAfter = (at: Date | string, seconds: number) =>
  new Date(new Date(at).getTime() + seconds * 1000);
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
const storeOf = () =>
  new DynamoDbSessionStore({ documentClient: tables.documentClient, tableName: tables.names.SessionsTable });

const rowOf = async (sessionId: string) =>
  (
    await tables.documentClient.send(
      new GetCommand({ TableName: tables.names.SessionsTable, Key: { sessionId }, ConsistentRead: true }),
    )
  ).Item;

/**
 * `n` refreshes spread over the session's life, each before the previous expiry and extending the session
 * by its idle window (capped at maxExpiresAt).
 */
const refresh = async (session: Session, n: number): Promise<void> => {
  const store = storeOf();
  const spacing = Math.min(Math.floor(MAX_LIFETIME_SECONDS / (n + 1)), policy.idleTimeoutSeconds - 600);
  for (let k = 1; k <= n; k++) {
    const now = secondsAfter(session.createdAt, k * spacing);
    const wanted = secondsAfter(now, policy.idleTimeoutSeconds).toISOString();
    const touched = await store.touch(session.sessionId, {
      principalArn: session.principalArn,
      now,
      extendTo: wanted < session.maxExpiresAt ? wanted : session.maxExpiresAt,
    });
    expect(touched.ok).toBe(true);
  }
};

/**
 * Runs one lifecycle execution while `during` runs: the execution's first DynamoDB call (after its Wait)
 * is held until `during` has finished, so the refreshes really happen while it sleeps. The execution has
 * no EventBridge binding: it announces nothing itself, and a Task that tried would fail it.
 */
const runLifecycle = async (session: Session, during: () => Promise<void> = async () => {}) => {
  let release: () => void = () => {};
  const asleep = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held = {
    send: async (command: never) => {
      await asleep;
      return tables.client.send(command);
    },
  } as unknown as DynamoDBClient;
  const execution = runLocalStateMachine({
    definition: substitute(rawDefinitionOf('SessionLifecycleStateMachine'), {
      SessionsTableName: tables.names.SessionsTable,
    }),
    executionInput: {
      sessionId: session.sessionId,
      maxExpiresAt: session.maxExpiresAt,
      user: session.user,
      profile: session.profile,
    },
    services: { dynamodb: held },
    waitMs: () => 0,
    retryMs: 0,
  });
  await during();
  release();
  await execution.result;
  return { row: await rowOf(session.sessionId), states: execution.statesEntered };
};

describe('session-lifecycle workflow (real ASL interpreter, DynamoDB Local)', () => {
  it.each([0, 1, 10, 100])(
    'takes the same 3 transitions with %i refreshes, and expires the session at its hard cap',
    async (refreshes) => {
      // Prepare
      const session = freshSession(base);
      await storeOf().create(session);
      // Act
      const { row, states } = await runLifecycle(session, () => refresh(session, refreshes));
      // Assess
      expect(states).toEqual(['WaitUntilMaxLifetime', 'ExpireAtMaxLifetime', 'ExpiredAtMaxLifetime']);
      expect(row).toMatchObject({
        status: 'expired',
        expiredReason: 'workflow',
        expiredAt: session.maxExpiresAt,
        version: refreshes + 2,
      });
      expect(row).not.toHaveProperty('activeShard');
    },
  );

  it.each([
    [
      'revoked',
      (s: DynamoDbSessionStore, id: string) => s.revoke(id, { by: 'ops', reason: 'test', now: base }),
    ],
    [
      'expired',
      (s: DynamoDbSessionStore, id: string) =>
        s.expire(id, { reason: 'sweeper', now: secondsAfter(base, 3600) }),
    ],
  ])('leaves a session already %s alone, in 3 transitions, if nobody stopped it', async (status, finish) => {
    // Prepare
    const session = freshSession(base);
    const store = storeOf();
    await store.create(session);
    await finish(store, session.sessionId);
    // Act
    const { row, states } = await runLifecycle(session);
    // Assess
    expect(states).toEqual(['WaitUntilMaxLifetime', 'ExpireAtMaxLifetime', 'AlreadyEnded']);
    expect(row?.status).toBe(status);
    expect(row?.version).toBe(2);
  });

  it('ends quietly when the row is gone (purged by TTL)', async () => {
    const session = freshSession(base);
    const { row, states } = await runLifecycle(session);
    expect(row).toBeUndefined();
    expect(states.at(-1)).toBe('AlreadyEnded');
  });
});

/** The stream → consumer → workflows path on a hand-moved clock, as the local stack wires it. */
const pipeline = async (perSessionExecutions: PerSessionExecutionsMode) => {
  const clock = new ManualStackClock(base);
  const bus = new LocalEventBus();
  const workflows = new LocalWorkflowControl({
    dynamodb: tables.client,
    sessionsTableName: tables.names.SessionsTable,
    eventBusName: bus.busName,
    bus,
    clock,
    snsPublish: async () => ({ MessageId: 'm' }),
  });
  const consume = createLifecycleConsumer({ workflows, events: bus, clock, perSessionExecutions });
  const poller = new StreamPoller({
    client: streams,
    tableName: tables.names.SessionsTable,
    startingPosition: 'LATEST',
    handler: (event, context) => consume(event, context),
  });
  await poller.pollOnce(); // iterators at the end of the stream before this test writes
  const lifecycleOf = (session: Session) =>
    workflows.executions.get(`SessionLifecycleStateMachine/${session.sessionId}`);
  const announced = (session: Session) =>
    bus.events
      .filter((e) => (e.detail as { sessionId?: string }).sessionId === session.sessionId)
      .filter((e) => e['detail-type'] === 'SessionExpired' || e['detail-type'] === 'SessionRevoked')
      .map((e) => `${e['detail-type']}:${(e.detail as { reason?: string }).reason ?? ''}`);
  return { clock, bus, workflows, poller, store: storeOf(), lifecycleOf, announced };
};

describe('expiry end to end: stream → consumer → lifecycle execution and sweeper', () => {
  it('a session revoked mid-life: its execution is stopped asleep after 1 transition, the cause naming who', async () => {
    // Prepare
    const { store, poller, workflows, lifecycleOf, announced } = await pipeline('enabled');
    const session = freshSession(base);
    await store.create(session);
    await poller.drain();
    expect(lifecycleOf(session)?.status).toBe('RUNNING');
    // Act
    await store.revoke(session.sessionId, { by: 'bob', reason: 'lost laptop', now: secondsAfter(base, 600) });
    await poller.drain();
    await workflows.settled();
    // Assess
    expect(lifecycleOf(session)).toMatchObject({
      status: 'ABORTED',
      cause: 'Session revoked by bob',
      statesEntered: ['WaitUntilMaxLifetime'],
    });
    expect(workflows.executions.get(`RevocationFanoutStateMachine/revoke-${session.sessionId}`)?.status).toBe(
      'SUCCEEDED',
    );
    expect(announced(session)).toEqual(['SessionRevoked:lost laptop']);
  });

  it('a session left idle: the sweeper expires it within a minute, the consumer stops its execution and announces it once', async () => {
    // Prepare
    const { clock, store, poller, workflows, lifecycleOf, announced } = await pipeline('enabled');
    const session = freshSession(base);
    await store.create(session);
    await poller.drain();
    // Act: the sweeper's runs a minute apart, the first just before the expiry
    clock.set(secondsAfter(session.expiresAt, -1));
    await workflows.runSweeper();
    clock.advanceSeconds(60);
    await workflows.runSweeper();
    await poller.drain();
    await workflows.settled();
    // Assess
    const row = await storeOf().get(session.sessionId);
    expect(row).toMatchObject({ status: 'expired', expiredReason: 'sweeper' });
    const lateness = Date.parse(row?.expiredAt ?? '') - Date.parse(session.expiresAt);
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThanOrEqual(60_000);
    expect(lifecycleOf(session)).toMatchObject({
      status: 'ABORTED',
      cause: 'Session expired (sweeper)',
      statesEntered: ['WaitUntilMaxLifetime'],
    });
    expect(announced(session)).toEqual(['SessionExpired:sweeper']);
  });

  it('with PerSessionExecutions disabled: no lifecycle execution; the sweeper expires, revocation still fans out', async () => {
    // Prepare
    const { clock, store, poller, workflows, lifecycleOf, announced } = await pipeline('disabled');
    const [idle, revoked] = [freshSession(base), freshSession(base)];
    await store.create(idle);
    await store.create(revoked);
    await poller.drain();
    // Act
    await store.revoke(revoked.sessionId, { by: 'bob', reason: 'r', now: secondsAfter(base, 60) });
    clock.set(secondsAfter(idle.expiresAt, 30));
    await workflows.runSweeper();
    await poller.drain();
    await workflows.settled();
    // Assess
    expect(lifecycleOf(idle)).toBeUndefined();
    expect(lifecycleOf(revoked)).toBeUndefined();
    expect(workflows.executions.get(`RevocationFanoutStateMachine/revoke-${revoked.sessionId}`)?.status).toBe(
      'SUCCEEDED',
    );
    expect(announced(idle)).toEqual(['SessionExpired:sweeper']);
    expect(announced(revoked)).toEqual(['SessionRevoked:r']);
  });
});
