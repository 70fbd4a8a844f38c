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

/** The session with its hard cap `seconds` from now (whole seconds, as stored), expiring then at the latest. */
const atCap = <S extends { expiresAt: string }>(s: S, seconds: number) => {
  const cap = new Date(Math.floor(Date.now() / 1000) * 1000 + seconds * 1000).toISOString();
  return { ...s, expiresAt: cap < s.expiresAt ? cap : s.expiresAt, maxExpiresAt: cap };
};

describe('LocalWorkflowControl', () => {
  it('runs the revocation fan-out: a notification and RevocationNotified per channel (SessionRevoked comes from the stream)', async () => {
    // Prepare
    const { bus, notifications, workflows, store } = setup();
    await store.create({ ...session(3600), sessionId: 'c'.repeat(32) });
    // The fan-out acts on the row, not on its input: the row must really be revoked.
    await store.revoke('c'.repeat(32), {
      by: 'arn:aws:iam::123456789012:user/secops',
      reason: 'laptop stolen',
      now: new Date(),
    });
    const revokedAt = (await store.get('c'.repeat(32)))?.revokedAt;
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
      `Session ${input.sessionId} of bob (profile prod) was revoked by ${input.revokedBy} at ${revokedAt}: laptop stolen`,
    ]);
  });

  it('records an undelivered notification instead of failing the fan-out', async () => {
    const { bus, workflows, store } = setup();
    await store.create({ ...session(3600), sessionId: 'd'.repeat(32) });
    await store.revoke('d'.repeat(32), { by: 'ops', reason: 'r', now: new Date() });
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

  it('denies exactly the revoked session on its own role, from the revocation until the credential hour and margin have passed', async () => {
    // Prepare: two live sessions on two roles, expiring in 3 h; only the first is revoked
    const clock = { now: () => new Date() };
    const enforcer = new InMemoryAccessEnforcer({ clock });
    const { workflows, store } = setup(1, enforcer);
    const revoked = { ...session(3 * 3600), roleArn: 'arn:aws:iam::123456789012:role/prod' };
    const other = { ...session(3 * 3600), roleArn: 'arn:aws:iam::123456789012:role/dev' };
    const enforcedFrom = Date.now();
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
    const enforcedBy = Date.now();
    // Assess
    expect(workflows.executions.get(`RevocationFanoutStateMachine/revoke-${revoked.sessionId}`)?.status).toBe(
      'SUCCEEDED',
    );
    expect(enforcer.denied()).toEqual({ 'arn:aws:iam::123456789012:role/prod': [revoked.sessionId] });
    expect(enforcer.policyOf('arn:aws:iam::123456789012:role/prod').Statement[0].Condition).toEqual({
      StringEquals: { 'aws:PrincipalTag/SentinelSessionID': [revoked.sessionId] },
    });
    // The enforcer runs on the stack's clock, so the id is kept from the revocation (the fan-out's
    // enforcement time) for the chaining hour plus the 300 s margin, not until an hour past expiresAt.
    // Still denied just before that, pruned after (seen when the next revocation rewrites the list).
    const window = (3600 + 300) * 1000;
    const later = new Date(Date.parse(revoked.expiresAt) + 3_600_000).toISOString();
    clock.now = () => new Date(enforcedFrom + window - 1000);
    await enforcer.denySession({ roleArn: revoked.roleArn, sessionId: 'f'.repeat(32), until: later });
    expect(enforcer.denied()['arn:aws:iam::123456789012:role/prod']).toEqual([
      revoked.sessionId,
      'f'.repeat(32),
    ]);
    clock.now = () => new Date(enforcedBy + window + 1000);
    expect(clock.now().getTime()).toBeLessThan(Date.parse(revoked.expiresAt) + 3_600_000);
    await enforcer.denySession({ roleArn: revoked.roleArn, sessionId: 'f'.repeat(32), until: later });
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
    await store.revoke(s.sessionId, { by: 'secops', reason: 'r', now: new Date() });
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

  it('retries a failed fan-out under revoke-<sessionId>-r<n>, and counts a running or succeeded one as started', async () => {
    // Prepare: an enforcer that fails until told otherwise
    let failing = true;
    const inner = new InMemoryAccessEnforcer();
    const flaky: AccessEnforcer = {
      denySession: async (input) => {
        if (failing) throw new Error('IAM unavailable');
        return inner.denySession(input);
      },
    };
    const { workflows, store } = setup(1, flaky);
    const s = session(3600);
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'r', now: new Date() });
    const input = {
      sessionId: s.sessionId,
      user: 'bob',
      profile: 'prod',
      revokedAt: new Date().toISOString(),
      revokedBy: 'secops',
      reason: 'r',
    };
    const first = `revoke-${s.sessionId}`;
    const statusOf = (name: string) =>
      workflows.executions.get(`RevocationFanoutStateMachine/${name}`)?.status;
    // Act + Assess: the first fails; a re-delivery starts -r1 rather than counting the failed one as started
    expect(await workflows.startRevocationFanout(input)).toMatchObject({
      alreadyStarted: false,
      executionName: first,
    });
    await workflows.settled();
    expect(statusOf(first)).toBe('FAILED');
    expect(await workflows.startRevocationFanout(input)).toEqual({
      alreadyStarted: false,
      executionName: `${first}-r1`,
      failedBefore: [first],
    });
    await workflows.settled();
    expect(statusOf(`${first}-r1`)).toBe('FAILED');
    // Once IAM is back, the next retry enforces, and a further delivery counts it as started
    failing = false;
    expect(await workflows.startRevocationFanout(input)).toMatchObject({ executionName: `${first}-r2` });
    await workflows.settled();
    expect(statusOf(`${first}-r2`)).toBe('SUCCEEDED');
    expect(inner.denied()).toEqual({ [s.roleArn]: [s.sessionId] });
    expect(await workflows.startRevocationFanout(input)).toMatchObject({
      alreadyStarted: true,
      executionName: `${first}-r2`,
    });
  });

  it('reports exhausted retries instead of starting a fifth fan-out', async () => {
    const failing: AccessEnforcer = {
      denySession: async () => {
        throw new Error('IAM unavailable');
      },
    };
    const { workflows, store } = setup(1, failing);
    const s = session(3600);
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'r', now: new Date() });
    const input = {
      sessionId: s.sessionId,
      user: 'bob',
      profile: 'prod',
      revokedAt: new Date().toISOString(),
      revokedBy: 'secops',
      reason: 'r',
    };
    for (let attempt = 0; attempt < 4; attempt++) {
      await workflows.startRevocationFanout(input);
      await workflows.settled();
    }
    const first = `revoke-${s.sessionId}`;
    expect(await workflows.startRevocationFanout(input)).toEqual({
      alreadyStarted: false,
      failedBefore: [first, `${first}-r1`, `${first}-r2`, `${first}-r3`],
      retriesExhausted: true,
    });
    expect([...workflows.executions.keys()].filter((k) => k.startsWith('RevocationFanout'))).toHaveLength(4);
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

  it('expires a session at its hard cap (time-scaled) in 3 transitions, leaving the announcement to the stream', async () => {
    // Prepare: capped 2 s of session time from now, run 20x faster
    const { bus, workflows, store } = setup(20);
    const s = atCap(session(2), 2);
    await store.create(s);
    // Act
    await workflows.startLifecycle(s);
    await workflows.settled();
    // Assess
    expect(await store.get(s.sessionId)).toMatchObject({
      status: 'expired',
      expiredReason: 'workflow',
      expiredAt: s.maxExpiresAt,
    });
    expect(workflows.executions.get(`SessionLifecycleStateMachine/${s.sessionId}`)?.statesEntered).toEqual([
      'WaitUntilMaxLifetime',
      'ExpireAtMaxLifetime',
      'ExpiredAtMaxLifetime',
    ]);
    expect(bus.events).toEqual([]);
  });

  it('is not woken by a touch: it sleeps until maxExpiresAt on its clock, whatever expiresAt becomes', async () => {
    // Prepare: 100x; expiring in 50 s of session time, capped at 100 s (1 s real)
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
    const capAt = new Date(Math.floor(clock.now().getTime() / 1000) * 1000 + 100_000).toISOString();
    const s = {
      ...session(0),
      expiresAt: new Date(Date.parse(capAt) - 50_000).toISOString(),
      maxExpiresAt: capAt,
    };
    await store.create(s);
    // Act: the touch moves expiresAt up to the cap while the execution sleeps
    await workflows.startLifecycle(s);
    await tables.documentClient.send(
      new UpdateCommand({
        TableName: tables.names.SessionsTable,
        Key: { sessionId: s.sessionId },
        UpdateExpression: 'SET expiresAt = :moved ADD version :one',
        ExpressionAttributeValues: { ':moved': capAt, ':one': 1 },
      }),
    );
    await workflows.settled();
    // Assess: expired at the cap, within half a second of real time of it, in the same 3 transitions
    expect(await store.get(s.sessionId)).toMatchObject({ status: 'expired', expiredAt: capAt });
    const record = workflows.executions.get(`SessionLifecycleStateMachine/${s.sessionId}`);
    expect(record?.stoppedAt?.getTime()).toBeGreaterThanOrEqual(Date.parse(capAt));
    expect((record?.stoppedAt?.getTime() ?? 0) - Date.parse(capAt)).toBeLessThan(50_000);
    expect(record?.statesEntered).toHaveLength(3);
  });

  it('stops a running lifecycle execution; stopping a missing one is not an error', async () => {
    const { bus, workflows, store } = setup(1);
    const s = session(3600);
    await store.create(s);
    await workflows.startLifecycle(s);
    const again = await workflows.startLifecycle(s);
    const stopped = await workflows.stopLifecycle(s.sessionId, 'Session revoked by bob');
    const missing = await workflows.stopLifecycle('e'.repeat(32), 'Session revoked by bob');
    await workflows.settled();
    expect(again.alreadyStarted).toBe(true);
    expect(stopped.stopped).toBe(true);
    expect(missing.stopped).toBe(false);
    // What the console shows: aborted while asleep, with the cause that ended it.
    expect(workflows.executions.get(`SessionLifecycleStateMachine/${s.sessionId}`)).toMatchObject({
      status: 'ABORTED',
      cause: 'Session revoked by bob',
      statesEntered: ['WaitUntilMaxLifetime'],
    });
    expect((await store.get(s.sessionId))?.status).toBe('active');
    expect(bus.events).toEqual([]);
  });
});
