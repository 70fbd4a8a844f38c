/**
 * End to end on this machine, as `npm start` runs it: HTTP → vend → DynamoDB Local → real stream → consumer →
 * workflows in the ASL interpreter → local bus with the template's rules → audit file.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../local/event-bus.js';
import { LOCAL_CALLER_HEADER } from '../../local/http-api.js';
import { InMemoryAccessEnforcer } from '../../local/in-memory-access-enforcer.js';
import { LOCAL_PROFILES, type LocalStack, startLocalStack } from '../../local/stack.js';

const ALICE = 'arn:aws:iam::123456789012:user/alice';
let stack: LocalStack;
const notifications: EventEnvelope[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    // The local profile's 960 s idle window passes in 4 s. Not faster: a sweeper run must take less than a
    // minute of the stack's clock (250 ms here) on a loaded CI machine, or idle expiry falls behind.
    timeScale: 240,
    // "long": the dev role, idle for 7200 s (30 s real), so a slow stream cannot let a session expire mid-test.
    profiles: {
      ...LOCAL_PROFILES,
      long: { ...LOCAL_PROFILES.dev, idleTimeoutSeconds: 7200, maxLifetimeSeconds: 7200 },
    },
    auditLogPath: join(tmpdir(), `sentinel-audit-${process.pid}-${Date.now()}.jsonl`),
    logLevel: 'SILENT',
    batchingWindowMs: 50,
    onNotification: (event) => {
      notifications.push(event);
    },
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

const post = async (path: string, body?: unknown, caller: string | null = ALICE) => {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(caller ? { [LOCAL_CALLER_HEADER]: caller } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Polls until `check` holds (the pipeline is asynchronous by design), failing with what it last saw. */
const eventually = async <T>(
  what: string,
  probe: () => T | Promise<T>,
  check: (value: T) => boolean,
): Promise<T> => {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const typesFor = (sessionId: string) =>
  stack.bus.events
    .filter((e) => (e.detail as { sessionId?: string }).sessionId === sessionId)
    .map((e) => e['detail-type']);

describe('the local stack, end to end', () => {
  it('vends, refreshes and revokes a session; the revoked session stops working and every step is announced once', async () => {
    // Act: create
    const created = await post('/v1/sessions', { profile: 'long' });
    // Assess
    expect(created.status).toBe(201);
    const sessionId = String(created.body.sessionId);
    expect(String((created.body.credentials as Record<string, string>).AccessKeyId)).toMatch(
      /^ASIAOFFLINEFAKE/,
    );
    await eventually(
      'the lifecycle execution',
      () => stack.workflows.executions.get(`SessionLifecycleStateMachine/${sessionId}`)?.status,
      (status) => status === 'RUNNING',
    );

    // Act: refresh
    const refreshed = await post(`/v1/sessions/${sessionId}/credentials`);
    expect(refreshed.status).toBe(200);

    // Act: revoke through the operator API (an admin's conditional write), then use the session again
    const revoked = await post(
      `/v1/sessions/${sessionId}/revoke`,
      { reason: 'test' },
      'arn:aws:iam::123456789012:user/admin',
    );
    expect(revoked.status).toBe(200);
    const again = await post(`/v1/sessions/${sessionId}/revoke`, { reason: 'twice' });
    expect([again.status, again.body.code, again.body.status]).toEqual([
      409,
      'SessionAlreadyTerminal',
      'revoked',
    ]);
    await eventually(
      'SessionRevoked and RevocationNotified',
      () => typesFor(sessionId),
      (types) => types.includes('SessionRevoked') && types.includes('RevocationNotified'),
    );
    const afterRevoke = await post(`/v1/sessions/${sessionId}/credentials`);

    // Assess
    expect(afterRevoke.status).toBe(403);
    expect(afterRevoke.body.code).toBe('SessionRevoked');
    await eventually(
      'the lifecycle execution to be stopped',
      () => stack.workflows.executions.get(`SessionLifecycleStateMachine/${sessionId}`)?.status,
      (status) => status === 'ABORTED',
    );
    await eventually(
      'the fan-out to finish',
      () => stack.workflows.executions.get(`RevocationFanoutStateMachine/revoke-${sessionId}`)?.status,
      (status) => status === 'SUCCEEDED',
    );
    const types = typesFor(sessionId);
    expect(types.filter((t) => t === 'SessionCreated')).toHaveLength(1);
    expect(types.filter((t) => t === 'SessionTouched')).toHaveLength(1);
    expect(types.filter((t) => t === 'SessionRevoked')).toHaveLength(1);
    expect(types.filter((t) => t === 'SessionExpired')).toHaveLength(0);
    expect(
      stack.bus
        .eventsOf<{ sessionId: string; fromStatus: string | null; toStatus: string }>('SessionStateChanged')
        .filter((e) => e.detail.sessionId === sessionId)
        .map((e) => [e.detail.fromStatus, e.detail.toStatus]),
    ).toEqual([
      [null, 'active'],
      ['active', 'revoked'],
    ]);
    const audited = readFileSync(stack.auditLogPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as EventEnvelope)
      .filter((e) => (e.detail as { sessionId?: string }).sessionId === sessionId);
    expect(audited.map((e) => e['detail-type']).sort()).toEqual([...types].sort());
    // Enforcement: the profile's role now denies exactly this session's credentials (by its session tag).
    const enforcer = stack.workflows.accessEnforcer;
    expect(enforcer).toBeInstanceOf(InMemoryAccessEnforcer);
    expect((enforcer as InMemoryAccessEnforcer).denied()).toEqual({
      'arn:aws:iam::123456789012:role/sentinel-local-dev': [sessionId],
    });
    // Revocations are notified by the fan-out, not by the notifications rule.
    expect(notifications.filter((e) => (e.detail as { sessionId?: string }).sessionId === sessionId)).toEqual(
      [],
    );
  });

  it('expires an unused session within a minute through the sweeper and announces SessionExpired once', async () => {
    const created = await post('/v1/sessions', { profile: 'dev' });
    const sessionId = String(created.body.sessionId);
    await eventually(
      'the expiry',
      () => typesFor(sessionId),
      (types) => types.includes('SessionExpired'),
    );
    await stack.workflows.settled();
    const row = await stack.store.get(sessionId);
    expect(row).toMatchObject({ status: 'expired', expiredReason: 'sweeper' });
    // The sweeper runs every minute of the stack's clock: idle expiry is at most that late.
    const lateness = Date.parse(row?.expiredAt ?? '') - Date.parse(row?.expiresAt ?? '');
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThanOrEqual(60_000);
    // Its lifecycle execution was stopped, the cause saying what ended the session.
    expect(stack.workflows.executions.get(`SessionLifecycleStateMachine/${sessionId}`)).toMatchObject({
      status: 'ABORTED',
      cause: 'Session expired (sweeper)',
    });
    expect(typesFor(sessionId).filter((t) => t === 'SessionExpired')).toHaveLength(1);
    // The bus records an event before its targets have all run.
    await eventually(
      'the expiry notification',
      () => notifications.map((e) => (e.detail as { sessionId?: string }).sessionId),
      (ids) => ids.includes(sessionId),
    );
    const late = await post(`/v1/sessions/${sessionId}/credentials`);
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('SessionExpired');
  });

  it('refuses carol under the local policy: 403 AccessDenied, no row, VendDenied in the audit log', async () => {
    const carol = 'arn:aws:iam::123456789012:user/carol';
    const refused = await post('/v1/sessions', { profile: 'dev' }, carol);
    expect(refused).toEqual({
      status: 403,
      body: {
        code: 'AccessDenied',
        message: 'carol\'s access is suspended pending an access review (rule "carol-suspended")',
      },
    });
    const audited = await eventually(
      'VendDenied in the audit file',
      () =>
        readFileSync(stack.auditLogPath, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as EventEnvelope)
          .filter((e) => e['detail-type'] === 'VendDenied'),
      (events) => events.length > 0,
    );
    expect(audited.map((e) => e.detail)).toEqual([
      expect.objectContaining({
        user: 'carol',
        principalArn: carol,
        action: 'create',
        rule: 'carol-suspended',
      }),
    ]);
  });

  it('answers a request without IAM context with 401 and writes nothing', async () => {
    const before = stack.bus.events.length;
    const anonymous = await post('/v1/sessions', { profile: 'dev' }, null);
    expect(anonymous.status).toBe(401);
    expect(stack.bus.events.length).toBe(before);
  });
});
