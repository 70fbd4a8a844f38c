/**
 * Both workflows through LocalWorkflowControl: Step Functions' naming rules, stop, and the revocation
 * fan-out's events on a local bus that evaluates the template's rules.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../local/event-bus.js';
import { InMemoryAccessEnforcer } from '../../local/in-memory-access-enforcer.js';
import { LocalWorkflowControl } from '../../local/local-workflow-control.js';
import { ScaledClock } from '../../local/scaled-clock.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { newSession } from '../../src/domain/session.js';
import type { AccessEnforcer } from '../../src/ports.js';
import { iamUserCaller } from '../support/callers.js';
import { useLocalTables } from '../support/local-tables.js';

const tables = useLocalTables();

const setup = (timeScale = 1, accessEnforcer: AccessEnforcer = new InMemoryAccessEnforcer()) => {
  const bus = new LocalEventBus();
  const notifications: string[] = [];
  const workflows = new LocalWorkflowControl({
    dynamodb: tables.client,
    sessionsTableName: tables.names.SessionsTable,
    eventBusName: bus.busName,
    bus,
    timeScale,
    accessEnforcer,
    snsPublish: async ({ Message }) => {
      notifications.push(Message);
      return { MessageId: `m${notifications.length}` };
    },
  });
  const store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
  });
  return { bus, notifications, workflows, store, accessEnforcer };
};

let counter = 0;
const session = (expiresInSeconds: number) => {
  const now = new Date();
  const s = newSession({
    sessionId: (++counter).toString(16).padStart(32, 'b'),
    caller: iamUserCaller('bob'),
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
    const { bus, notifications, workflows, store } = setup();
    await store.create({ ...session(3600), sessionId: 'c'.repeat(32) });
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

  it('denies exactly the revoked session on its own role until an hour after its expiry', async () => {
    // Prepare: two live sessions on two roles; only the first is revoked
    const clock = { now: () => new Date() };
    const enforcer = new InMemoryAccessEnforcer({ clock });
    const { workflows, store } = setup(1, enforcer);
    const revoked = { ...session(3600), roleArn: 'arn:aws:iam::123456789012:role/prod' };
    const other = { ...session(3600), roleArn: 'arn:aws:iam::123456789012:role/dev' };
    await store.create(revoked);
    await store.create(other);
    await store.revoke(revoked.sessionId, { by: 'secops', reason: 'laptop stolen', now: new Date() });
    // Act
    await workflows.startRevocationFanout({
      sessionId: revoked.sessionId,
      user: 'bob',
      profile: 'prod',
      revokedAt: new Date().toISOString(),
      revokedBy: 'secops',
      reason: 'laptop stolen',
    });
    await workflows.settled();
    // Assess
    expect(workflows.executions.get(`RevocationFanoutStateMachine/revoke-${revoked.sessionId}`)?.status).toBe(
      'SUCCEEDED',
    );
    expect(enforcer.denied()).toEqual({ 'arn:aws:iam::123456789012:role/prod': [revoked.sessionId] });
    expect(enforcer.policyOf('arn:aws:iam::123456789012:role/prod').Statement[0].Condition).toEqual({
      StringEquals: { 'aws:PrincipalTag/SentinelSessionID': [revoked.sessionId] },
    });
    // Still denied just before expiresAt + 1 h, pruned after (seen when the next revocation rewrites it).
    const oneHourAfter = new Date(revoked.expiresAt).getTime() + 3_600_000;
    clock.now = () => new Date(oneHourAfter - 1000);
    await enforcer.denySession({
      roleArn: revoked.roleArn,
      sessionId: 'f'.repeat(32),
      until: new Date(oneHourAfter + 60_000).toISOString(),
    });
    expect(enforcer.denied()['arn:aws:iam::123456789012:role/prod']).toEqual([
      revoked.sessionId,
      'f'.repeat(32),
    ]);
    clock.now = () => new Date(oneHourAfter + 1000);
    await enforcer.denySession({
      roleArn: revoked.roleArn,
      sessionId: 'f'.repeat(32),
      until: new Date(oneHourAfter + 60_000).toISOString(),
    });
    expect(enforcer.denied()['arn:aws:iam::123456789012:role/prod']).toEqual(['f'.repeat(32)]);
  });

  it("fails the fan-out loudly, under the enforcer's error, when enforcement fails (notifications still go out)", async () => {
    // Prepare
    class DenyListFullError extends Error {
      override readonly name = 'DenyListFullError';
    }
    const failing: AccessEnforcer = {
      denySession: async () => {
        throw new DenyListFullError('no room on role prod');
      },
    };
    const { bus, workflows, store } = setup(1, failing);
    const s = session(3600);
    await store.create(s);
    // Act
    await workflows.startRevocationFanout({
      sessionId: s.sessionId,
      user: 'bob',
      profile: 'prod',
      revokedAt: new Date().toISOString(),
      revokedBy: 'secops',
      reason: 'r',
    });
    await workflows.settled();
    // Assess
    const record = workflows.executions.get(`RevocationFanoutStateMachine/revoke-${s.sessionId}`);
    expect(record?.status).toBe('FAILED');
    expect(record?.error).toMatch(/no room on role prod/);
    expect(bus.eventsOf('RevocationNotified').map((e) => e.detail)).toEqual([
      expect.objectContaining({ sessionId: s.sessionId, delivered: true }),
    ]);
  });

  it('fails the fan-out when the revoked session has no row to enforce from', async () => {
    const { workflows, accessEnforcer } = setup();
    await workflows.startRevocationFanout({
      sessionId: '9'.repeat(32),
      user: 'bob',
      profile: 'prod',
      revokedAt: new Date().toISOString(),
      revokedBy: 'secops',
      reason: 'r',
    });
    await workflows.settled();
    const record = workflows.executions.get(`RevocationFanoutStateMachine/revoke-${'9'.repeat(32)}`);
    expect(record?.status).toBe('FAILED');
    expect(record?.error).toMatch(/SessionNotFound|not found/);
    expect((accessEnforcer as InMemoryAccessEnforcer).denied()).toEqual({});
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

  it('after a touch, sleeps again until the new expiry on its clock, not for the first wait once more', async () => {
    // Prepare: 100x; due in 100 s of session time (1 s real), then moved 10 s later (0.1 s real)
    const clock = new ScaledClock(100);
    const bus = new LocalEventBus();
    const workflows = new LocalWorkflowControl({
      dynamodb: tables.client,
      sessionsTableName: tables.names.SessionsTable,
      eventBusName: bus.busName,
      bus,
      clock,
    });
    const store = new DynamoDbSessionStore({
      documentClient: tables.documentClient,
      tableName: tables.names.SessionsTable,
    });
    const s = { ...session(0), expiresAt: new Date(clock.now().getTime() + 100_000).toISOString() };
    const moved = new Date(Date.parse(s.expiresAt) + 10_000).toISOString();
    await store.create(s);
    // Act
    await workflows.startLifecycle(s);
    await tables.documentClient.send(
      new UpdateCommand({
        TableName: tables.names.SessionsTable,
        Key: { sessionId: s.sessionId },
        UpdateExpression: 'SET expiresAt = :moved',
        ExpressionAttributeValues: { ':moved': moved },
      }),
    );
    await workflows.settled();
    // Assess: expired at the moved expiry, within half a second of real time of it (the first wait again
    // would have taken it to 90 s of session time past it)
    expect(await store.get(s.sessionId)).toMatchObject({ status: 'expired', expiredAt: moved });
    const stoppedAt = workflows.executions.get(`SessionLifecycleStateMachine/${s.sessionId}`)?.stoppedAt;
    expect(stoppedAt?.getTime()).toBeGreaterThanOrEqual(Date.parse(moved));
    expect((stoppedAt?.getTime() ?? 0) - Date.parse(moved)).toBeLessThan(50_000);
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
