/**
 * The local stack's Slack and Teams channels end to end: an operator's revoke → stream → consumer → the
 * revocation fan-out's HTTP Tasks → the stack's webhook receiver, each post in the documented format.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CALLER_HEADER } from '../../local/http-api.js';
import { LOCAL_PROFILES, type LocalStack, startLocalStack } from '../../local/stack.js';
import { expectAdaptiveCardMessage, expectSlackBlockKitMessage } from '../support/webhook-formats.js';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    profiles: {
      ...LOCAL_PROFILES,
      long: { ...LOCAL_PROFILES.dev, idleTimeoutSeconds: 7200, maxLifetimeSeconds: 7200 },
    },
    auditLogPath: join(tmpdir(), `sentinel-audit-webhooks-${process.pid}-${Date.now()}.jsonl`),
    logLevel: 'SILENT',
    batchingWindowMs: 50,
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

const post = async (path: string, caller: string, body?: unknown) => {
  const response = await fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_CALLER_HEADER]: caller },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const eventually = async <T>(what: string, probe: () => T, check: (value: T) => boolean): Promise<T> => {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = probe();
    if (check(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('the local stack notifies Slack and Teams of a revocation', () => {
  it('posts a Block Kit message and an Adaptive Card, and records RevocationNotified for each channel', async () => {
    // Prepare
    const created = await post('/v1/sessions', 'arn:aws:iam::123456789012:user/alice', { profile: 'long' });
    expect(created.status).toBe(201);
    const sessionId = String(created.body.sessionId);
    // Act
    const revoked = await post(`/v1/sessions/${sessionId}/revoke`, 'arn:aws:iam::123456789012:user/admin', {
      reason: 'token leaked in a build log',
    });
    expect(revoked.status).toBe(200);
    // Assess
    const notified = await eventually(
      'RevocationNotified for sns, slack and teams',
      () =>
        stack.bus.events
          .filter(
            (e) =>
              e['detail-type'] === 'RevocationNotified' &&
              (e.detail as { sessionId?: string }).sessionId === sessionId,
          )
          .map((e) => e.detail as { channel: string; delivered: boolean })
          .map(({ channel, delivered }) => `${channel}:${delivered}`)
          .sort(),
      (channels) => channels.length === 3,
    );
    expect(notified).toEqual(['slack:true', 'sns:true', 'teams:true']);
    const mentions = (path: string) =>
      stack.webhooks.bodiesAt(path).filter((body) => JSON.stringify(body).includes(sessionId));
    const [slack] = mentions('/slack');
    const [teams] = mentions('/teams');
    expectSlackBlockKitMessage(slack);
    expectAdaptiveCardMessage(teams);
    expect(JSON.stringify(slack)).toContain('token leaked in a build log');
    expect(JSON.stringify(teams)).toContain('token leaked in a build log');
  });
});
