/**
 * Both workflows through LocalWorkflowControl: Step Functions' naming rules, stop, and the revocation
 * fan-out's events on a local bus that evaluates the template's rules.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { newSession } from '../../src/domain/session.js';
import { LocalEventBus } from '../../src/local/event-bus.js';
import { LocalWorkflowControl } from '../../src/local/local-workflow-control.js';
import { useLocalTables } from '../support/local-tables.js';

const tables = useLocalTables();

const setup = (timeScale = 1) => {
  const bus = new LocalEventBus();
  const notifications: string[] = [];
  const workflows = new LocalWorkflowControl({
    dynamodb: tables.client,
    sessionsTableName: tables.names.SessionsTable,
    eventBusName: bus.busName,
    bus,
    timeScale,
    snsPublish: async ({ Message }) => {
      notifications.push(Message);
      return { MessageId: `m${notifications.length}` };
    },
  });
  const store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
  });
  return { bus, notifications, workflows, store };
};

let counter = 0;
const session = (expiresInSeconds: number) => {
  const now = new Date();
  const s = newSession({
    sessionId: (++counter).toString(16).padStart(32, 'b'),
    caller: {
      user: 'bob',
      principalArn: 'arn:aws:iam::123456789012:user/bob',
      accountId: '123456789012',
      partition: 'aws',
      principalType: 'iam-user',
      viaIdentityCenter: false,
    },
    profile: 'prod',
    roleArn: 'arn:aws:iam::123456789012:role/prod',
    sourceIdentity: 'sentinel=bob=direct=r',
    policy: { idleTimeoutSeconds: 900, maxLifetimeSeconds: 3600 },
    now,
  });
  return { ...s, expiresAt: new Date(now.getTime() + expiresInSeconds * 1000).toISOString() };
};

describe('LocalWorkflowControl', () => {
  it('runs the revocation fan-out: a notification and RevocationNotified per channel (SessionRevoked comes from the stream)', async () => {
    // Prepare
    const { bus, notifications, workflows } = setup();
    const input = {
      sessionId: 'c'.repeat(32),
      user: 'bob',
      profile: 'prod',
      revokedAt: '2026-11-23T10:00:00.000Z',
      revokedBy: 'arn:aws:iam::123456789012:user/secops',
      reason: 'laptop stolen',
    };
    // Act
    const first = await workflows.startRevocationFanout(input);
    const second = await workflows.startRevocationFanout(input);
    await workflows.settled();
    // Assess
    expect([first.alreadyStarted, second.alreadyStarted]).toEqual([false, true]);
    expect(workflows.executions.get(`RevocationFanoutStateMachine/revoke-${input.sessionId}`)?.status).toBe(
      'SUCCEEDED',
    );
    expect(bus.eventsOf('SessionRevoked')).toEqual([]);
    expect(bus.eventsOf('RevocationNotified').map((e) => e.detail)).toEqual([
      expect.objectContaining({ sessionId: input.sessionId, channel: 'sns', delivered: true }),
    ]);
    expect(notifications).toEqual([
      `Session ${input.sessionId} of bob (profile prod) was revoked by ${input.revokedBy} at ${input.revokedAt}: laptop stolen`,
    ]);
  });

  it('records an undelivered notification instead of failing the fan-out', async () => {
    const { bus, workflows } = setup();
    const failing = new LocalWorkflowControl({
      dynamodb: tables.client,
      sessionsTableName: tables.names.SessionsTable,
      eventBusName: bus.busName,
      bus,
      snsPublish: async () => {
        throw Object.assign(new Error('topic gone'), { name: 'NotFoundException' });
      },
    });
    await failing.startRevocationFanout({
      sessionId: 'd'.repeat(32),
      user: 'bob',
      profile: 'prod',
      revokedAt: '2026-11-23T10:00:00.000Z',
      revokedBy: 'ops',
      reason: 'r',
    });
    await failing.settled();
    expect(workflows.executions.size).toBe(0);
    expect(bus.eventsOf('RevocationNotified').map((e) => e.detail)).toEqual([
      expect.objectContaining({ channel: 'sns', delivered: false }),
    ]);
  });

  it('expires a session on time (time-scaled), leaving the announcement to the stream', async () => {
    // Prepare: due in 2 s of session time, run 20x faster
    const { bus, workflows, store } = setup(20);
    const s = session(2);
    await store.create(s);
    // Act
    await workflows.startLifecycle(s);
    await workflows.settled();
    // Assess
    expect((await store.get(s.sessionId))?.status).toBe('expired');
    expect((await store.get(s.sessionId))?.expiredReason).toBe('workflow');
    expect(bus.events).toEqual([]);
  });

  it('stops a running lifecycle execution; stopping a missing one is not an error', async () => {
    const { bus, workflows, store } = setup(1);
    const s = session(3600);
    await store.create(s);
    await workflows.startLifecycle(s);
    const again = await workflows.startLifecycle(s);
    const stopped = await workflows.stopLifecycle(s.sessionId, 'revoked');
    const missing = await workflows.stopLifecycle('e'.repeat(32), 'revoked');
    await workflows.settled();
    expect(again.alreadyStarted).toBe(true);
    expect(stopped.stopped).toBe(true);
    expect(missing.stopped).toBe(false);
    expect(workflows.executions.get(`SessionLifecycleStateMachine/${s.sessionId}`)?.status).toBe('ABORTED');
    expect((await store.get(s.sessionId))?.status).toBe('active');
    expect(bus.events).toEqual([]);
  });
});
