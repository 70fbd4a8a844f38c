/**
 * On the local stack (real DynamoDB Local stream, the template's stream filter, the consumer, the fan-out in
 * the ASL interpreter): a revoked row written by hand in a malformed shape is still enforced and announced
 * once, and a terminal row turned active again is audited but never started as a new session.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../local/dynamodb-local.js';
import { LOCAL_CALLER_HEADER } from '../../local/http-api.js';
import type { InMemoryAccessEnforcer } from '../../local/in-memory-access-enforcer.js';
import { LOCAL_PROFILES, type LocalStack, startLocalStack } from '../../local/stack.js';

const ALICE = 'arn:aws:iam::123456789012:user/alice';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    timeScale: 60,
    profiles: {
      ...LOCAL_PROFILES,
      long: { ...LOCAL_PROFILES.dev, idleTimeoutSeconds: 7200, maxLifetimeSeconds: 7200 },
    },
    logLevel: 'SILENT',
    batchingWindowMs: 50,
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

const createSession = async (): Promise<string> => {
  const response = await fetch(`${stack.url}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_CALLER_HEADER]: ALICE },
    body: JSON.stringify({ profile: 'long' }),
  });
  expect(response.status).toBe(201);
  return String(((await response.json()) as { sessionId: string }).sessionId);
};

const eventually = async (what: string, check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const typesFor = (sessionId: string): string[] =>
  stack.bus.events
    .filter((e) => (e.detail as { sessionId?: string }).sessionId === sessionId)
    .map((e) => e['detail-type']);

/** Writes the row as a hand edit would: no store rules, no version check. */
const edit = async (
  sessionId: string,
  set: string,
  values: Record<string, { S: string }>,
  remove = '',
): Promise<void> => {
  const client = new DynamoDBClient(localClientConfig(stack.dynamo.endpoint));
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: stack.tables.SessionsTable,
        Key: { sessionId: { S: sessionId } },
        UpdateExpression: `SET ${set}${remove ? ` REMOVE ${remove}` : ''}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
  } finally {
    client.destroy();
  }
};

describe('the consumer on malformed and impossible rows (local stack)', () => {
  it('enforces and announces once a revoked row with status in capitals, revokedAt without milliseconds and no revokedBy', async () => {
    // Prepare
    const sessionId = await createSession();
    await eventually('the lifecycle execution', () =>
      stack.workflows.executions.has(`SessionLifecycleStateMachine/${sessionId}`),
    );
    // Act: revoked now on the stack's clock, written without milliseconds
    const revokedAt = new Date(Math.floor(stack.clock.now().getTime() / 1000) * 1000);
    await edit(sessionId, '#status = :s, revokedAt = :at, note = :n, revokedReason = :r', {
      ':s': { S: 'REVOKED' },
      ':at': { S: revokedAt.toISOString().replace('.000Z', 'Z') },
      ':n': { S: 'hand-edited' },
      ':r': { S: 'by hand' },
    });
    // Assess
    await eventually('SessionRevoked', () => typesFor(sessionId).includes('SessionRevoked'));
    const fanout = stack.workflows.executions.get(`RevocationFanoutStateMachine/revoke-${sessionId}`);
    expect(fanout).toBeDefined();
    await fanout?.done;
    const revoked = stack.bus.events.find(
      (e) =>
        e['detail-type'] === 'SessionRevoked' && (e.detail as { sessionId?: string }).sessionId === sessionId,
    );
    expect(revoked?.detail).toMatchObject({ revokedAt: revokedAt.toISOString(), revokedBy: 'unknown' });
    expect(stack.workflows.executions.get(`SessionLifecycleStateMachine/${sessionId}`)?.status).toBe(
      'ABORTED',
    );
    const enforcer = stack.workflows.accessEnforcer as InMemoryAccessEnforcer;
    expect(Object.values(enforcer.denied()).flat()).toContain(sessionId);
    // Once: a little later, still one announcement
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(typesFor(sessionId).filter((t) => t === 'SessionRevoked')).toHaveLength(1);
  });

  it('audits a revoked row turned active again and starts nothing for it', async () => {
    // Prepare: a properly revoked session
    const sessionId = await createSession();
    await stack.store.revoke(sessionId, { by: 'secops', reason: 'test', now: stack.clock.now() });
    await eventually('SessionRevoked', () => typesFor(sessionId).includes('SessionRevoked'));
    await stack.workflows.settled();
    const executionsBefore = stack.workflows.executions.size;
    // Act
    await edit(sessionId, '#status = :s', { ':s': { S: 'active' } }, 'revokedAt, revokedBy, revokedReason');
    // Assess
    await eventually('the revoked → active audit event', () =>
      stack.bus.events.some(
        (e) =>
          e['detail-type'] === 'SessionStateChanged' &&
          (e.detail as { sessionId?: string; toStatus?: string }).sessionId === sessionId &&
          (e.detail as { toStatus?: string }).toStatus === 'active' &&
          (e.detail as { fromStatus?: string }).fromStatus === 'revoked',
      ),
    );
    expect(stack.workflows.executions.size).toBe(executionsBefore);
    expect(typesFor(sessionId).filter((t) => t === 'SessionRevoked' || t === 'SessionExpired')).toEqual([
      'SessionRevoked',
    ]);
  });
});
