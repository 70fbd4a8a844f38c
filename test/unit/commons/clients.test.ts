/**
 * The vend fast path publishes with a small budget (src/commons/clients.ts): the real EventBridge client and
 * publisher, configured as the vend handler configures them, against a local endpoint that always fails.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../../src/adapters/eventbridge-publisher.js';
import {
  FAST_PATH_PUBLISH_RETRY,
  FAST_PATH_SDK_CONFIG,
  fastPathPublishBudgetMs,
} from '../../../src/commons/clients.js';
import { sessionCreated } from '../../../src/domain/events.js';
import { parseCallerArn } from '../../../src/domain/identity.js';
import { newSession } from '../../../src/domain/session.js';
import { fixture, PROFILES } from '../../support/vend-api.js';

/** The vend Lambda's timeout (template Globals); the publish budget must leave most of it to the rest. */
const LAMBDA_TIMEOUT_MS = 10_000;

describe('vend fast-path publishing budget', () => {
  let requests = 0;
  let endpoint = '';
  const server = createServer((request, response) => {
    requests += 1;
    request.resume();
    request.on('end', () => {
      response.statusCode = 500;
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      response.end(JSON.stringify({ __type: 'InternalException', message: 'stand-in outage' }));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it('tries PutEvents twice in all during an outage, then reports the event as failed', async () => {
    // Prepare
    const dev = PROFILES.get('dev');
    if (!dev) throw new Error('fixture profile missing');
    const now = new Date('2026-01-15T09:30:00.000Z');
    const session = newSession({
      sessionId: 'f'.repeat(32),
      caller: parseCallerArn(fixture('create').requestContext?.authorizer?.iam?.userArn),
      profile: 'dev',
      roleArn: dev.roleArn,
      sourceIdentity: 'sentinel=alice@example.com=direct=budget',
      policy: dev.policy,
      now,
    });
    const publisher = new EventBridgePublisher({
      client: new EventBridgeClient({
        ...FAST_PATH_SDK_CONFIG,
        region: 'eu-west-1',
        endpoint,
        credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
      }),
      eventBusName: 'sentinel-sessions',
      ...FAST_PATH_PUBLISH_RETRY,
      sleep: async () => undefined,
    });

    // Act
    const result = await publisher.publish([
      sessionCreated(session, now, { rule: 'allow-dev', policyVersion: '1' }),
    ]);

    // Assess: one SDK attempt × two publisher tries (the defaults would have made twelve).
    expect(requests).toBe(2);
    expect(result.failed.map((f) => f.event.detailType)).toEqual(['SessionCreated']);
  });

  it('fits its worst case (every try timing out) in well under the Lambda timeout', () => {
    expect(fastPathPublishBudgetMs()).toBeLessThanOrEqual(LAMBDA_TIMEOUT_MS * 0.35);
  });
});
