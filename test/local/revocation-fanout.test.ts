/**
 * The revocation fan-out (statemachines/revocation-fanout.asl.json) in the real ASL interpreter against
 * DynamoDB Local: it acts only on a row that is really revoked (or expired by force), takes every field
 * from that row, and notifies SNS, Slack and Teams (HTTP Tasks posting to a local webhook receiver), a
 * channel's failure never holding up the enforcement.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../local/event-bus.js';
import { InMemoryAccessEnforcer } from '../../local/in-memory-access-enforcer.js';
import { LocalWorkflowControl } from '../../local/local-workflow-control.js';
import { LocalWebhookReceiver } from '../../local/webhook-receiver.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { newSession } from '../../src/domain/session.js';
import type { DomainEvent, EventPublisher, RevocationFanoutInput } from '../../src/ports.js';
import { iamUserCaller } from '../support/callers.js';
import { useLocalTables } from '../support/local-tables.js';
import { expectAdaptiveCardMessage, expectSlackBlockKitMessage } from '../support/webhook-formats.js';

const tables = useLocalTables();
const receiver = new LocalWebhookReceiver();
const ROLE = 'arn:aws:iam::123456789012:role/prod';

beforeAll(async () => {
  await receiver.start();
});
afterAll(async () => {
  await receiver.stop();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.recover('/slack');
  receiver.recover('/teams');
});

const setup = (options: { webhooks?: boolean; bus?: EventPublisher } = {}) => {
  const bus = new LocalEventBus();
  const enforcer = new InMemoryAccessEnforcer();
  const notifications: string[] = [];
  const workflows = new LocalWorkflowControl({
    dynamodb: tables.client,
    sessionsTableName: tables.names.SessionsTable,
    eventBusName: bus.busName,
    bus: options.bus ?? bus,
    accessEnforcer: enforcer,
    snsPublish: async ({ Message }) => {
      notifications.push(Message);
      return { MessageId: `m${notifications.length}` };
    },
    ...(options.webhooks === false
      ? {}
      : { slackWebhookUrl: receiver.urlOf('/slack'), teamsWebhookUrl: receiver.urlOf('/teams') }),
  });
  const store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
  });
  const notified = () =>
    bus
      .eventsOf('RevocationNotified')
      .map((e) => e.detail as unknown as { channel: string; delivered: boolean })
      .map(({ channel, delivered }) => ({ channel, delivered }))
      .sort((a, b) => a.channel.localeCompare(b.channel));
  const fanout = async (input: RevocationFanoutInput) => {
    await workflows.startRevocationFanout(input);
    await workflows.settled();
    return workflows.executions.get(`RevocationFanoutStateMachine/revoke-${input.sessionId}`);
  };
  return { bus, enforcer, notifications, workflows, store, notified, fanout };
};

let counter = 0;
const liveSession = () =>
  newSession({
    sessionId: (++counter).toString(16).padStart(32, 'a'),
    caller: iamUserCaller('bob'),
    profile: 'prod',
    roleArn: ROLE,
    sourceIdentity: 'sentinel=bob=direct=r',
    policy: { idleTimeoutSeconds: 900, maxLifetimeSeconds: 3600 },
    now: new Date(),
  });

/** What the consumer would start for it; a forger can put anything here. */
const inputFor = (
  sessionId: string,
  overrides: Partial<RevocationFanoutInput> = {},
): RevocationFanoutInput => ({
  sessionId,
  user: 'bob',
  profile: 'prod',
  revokedAt: new Date().toISOString(),
  revokedBy: 'secops',
  reason: 'laptop stolen',
  ...overrides,
});

describe('revocation fan-out', () => {
  it('notifies SNS, Slack (Block Kit) and Teams (Adaptive Card) from the row, and enforces the revocation', async () => {
    // Prepare
    const { store, enforcer, notified, notifications, fanout } = setup();
    const s = liveSession();
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'laptop stolen', now: new Date() });
    const revokedAt = (await store.get(s.sessionId))?.revokedAt;
    // Act
    const record = await fanout(inputFor(s.sessionId));
    // Assess
    expect(record?.status).toBe('SUCCEEDED');
    expect(enforcer.denied()).toEqual({ [ROLE]: [s.sessionId] });
    expect(notified()).toEqual([
      { channel: 'slack', delivered: true },
      { channel: 'sns', delivered: true },
      { channel: 'teams', delivered: true },
    ]);
    expect(notifications).toHaveLength(1);
    const [slack] = receiver.bodiesAt('/slack');
    expectSlackBlockKitMessage(slack);
    expect(JSON.stringify(slack)).toContain('laptop stolen');
    expect(JSON.stringify(slack)).toContain(`At: ${revokedAt}`);
    const [teams] = receiver.bodiesAt('/teams');
    expectAdaptiveCardMessage(teams);
    expect(JSON.stringify(teams)).toContain(s.sessionId);
    expect(receiver.received.every((r) => r.headers['content-type']?.startsWith('application/json'))).toBe(
      true,
    );
  });

  it('leaves enforcement done when a webhook fails, RevocationNotified saying that channel failed', async () => {
    // Prepare: Slack answers 500 on every attempt
    receiver.failWith('/slack', 500);
    const { store, enforcer, notified, fanout } = setup();
    const s = liveSession();
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'r', now: new Date() });
    // Act
    const record = await fanout(inputFor(s.sessionId));
    // Assess: retried (Retry on 5xx), then recorded as not delivered; the others and enforcement unaffected
    expect(record?.status).toBe('SUCCEEDED');
    expect(enforcer.denied()).toEqual({ [ROLE]: [s.sessionId] });
    expect(receiver.bodiesAt('/slack').length).toBeGreaterThan(1);
    expect(notified()).toEqual([
      { channel: 'slack', delivered: false },
      { channel: 'sns', delivered: true },
      { channel: 'teams', delivered: true },
    ]);
  });

  it('does not retry a webhook that refuses the request (4xx): one call, recorded as not delivered', async () => {
    receiver.failWith('/teams', 404);
    const { store, notified, fanout } = setup();
    const s = liveSession();
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'r', now: new Date() });
    await fanout(inputFor(s.sessionId));
    expect(receiver.bodiesAt('/teams')).toHaveLength(1);
    expect(notified()).toContainEqual({ channel: 'teams', delivered: false });
  });

  it('completes the enforcement when every RevocationNotified is refused by the bus', async () => {
    // Prepare: a bus that refuses everything
    const refusing: EventPublisher = {
      publish: async (events: readonly DomainEvent[]) => ({
        failed: events.map((event) => ({ event, errorCode: 'AccessDeniedException' })),
      }),
    };
    const { store, enforcer, fanout } = setup({ bus: refusing });
    const s = liveSession();
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'r', now: new Date() });
    // Act
    const record = await fanout(inputFor(s.sessionId));
    // Assess
    expect(record?.status).toBe('SUCCEEDED');
    expect(enforcer.denied()).toEqual({ [ROLE]: [s.sessionId] });
    expect(record?.statesEntered).toContain('OutcomeNotRecorded');
  });

  it('notifies only SNS when the webhook parameters are empty', async () => {
    const { store, notified, fanout } = setup({ webhooks: false });
    const s = liveSession();
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'r', now: new Date() });
    await fanout(inputFor(s.sessionId));
    expect(notified()).toEqual([{ channel: 'sns', delivered: true }]);
    expect(receiver.received).toEqual([]);
  });

  it('notifies no one and writes nothing when started by hand for an active session', async () => {
    // Prepare
    const { store, enforcer, bus, notifications, fanout } = setup();
    const s = liveSession();
    await store.create(s);
    // Act
    const record = await fanout(inputFor(s.sessionId));
    // Assess: a loud failure named for what it found; the row untouched
    expect(record?.status).toBe('FAILED');
    expect(record?.error).toMatch(/SessionNotRevoked/);
    expect(record?.statesEntered.at(-1)).toBe('NotRevoked');
    expect(enforcer.denied()).toEqual({});
    expect(bus.events).toEqual([]);
    expect(notifications).toEqual([]);
    expect(receiver.received).toEqual([]);
    expect(await store.get(s.sessionId)).toEqual(s);
  });

  it('notifies no one and writes nothing for an unknown session, or one that expired on time', async () => {
    const { store, enforcer, bus, fanout } = setup();
    const unknown = await fanout(inputFor('0'.repeat(32)));
    const s = { ...liveSession(), expiresAt: new Date(Date.now() - 1000).toISOString() };
    await store.create(s);
    await store.expire(s.sessionId, { reason: 'sweeper', now: new Date() });
    const onTime = await fanout(inputFor(s.sessionId));
    expect(unknown?.statesEntered.at(-1)).toBe('SessionNotFound');
    expect(onTime?.statesEntered.at(-1)).toBe('NotRevoked');
    expect([unknown?.status, onTime?.status]).toEqual(['FAILED', 'FAILED']);
    expect(enforcer.denied()).toEqual({});
    expect(bus.events).toEqual([]);
    expect(receiver.received).toEqual([]);
  });

  it('announces what the row says, not what the input claims', async () => {
    const { store, notifications, bus, fanout } = setup({ webhooks: false });
    const s = liveSession();
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'laptop stolen', now: new Date() });
    await fanout(
      inputFor(s.sessionId, { user: 'mallory', profile: 'admin', revokedBy: 'nobody', reason: '<!channel>' }),
    );
    expect(notifications).toEqual([
      expect.stringMatching(/of bob \(profile prod\) was revoked by secops at .*: laptop stolen$/),
    ]);
    expect(bus.eventsOf('RevocationNotified').map((e) => e.detail)).toEqual([
      expect.objectContaining({ user: 'bob', profile: 'prod' }),
    ]);
  });

  it('enforces and announces an early forced expiry like a revocation, by expiry:forced', async () => {
    const { store, enforcer, notified, notifications, fanout } = setup({ webhooks: false });
    const s = liveSession();
    await store.create(s);
    await store.expire(s.sessionId, { reason: 'forced', now: new Date(), force: true });
    const expiredAt = (await store.get(s.sessionId))?.expiredAt;
    const record = await fanout(inputFor(s.sessionId));
    expect(record?.status).toBe('SUCCEEDED');
    expect(enforcer.denied()).toEqual({ [ROLE]: [s.sessionId] });
    expect(notified()).toEqual([{ channel: 'sns', delivered: true }]);
    expect(notifications).toEqual([
      `Session ${s.sessionId} of bob (profile prod) was expired by expiry:forced at ${expiredAt}: expired early (forced)`,
    ]);
  });

  it('enforces an expiry of another reason that happened before expiresAt (the consumer enforces those too)', async () => {
    const { store, enforcer, fanout } = setup({ webhooks: false });
    const s = liveSession();
    await store.create(s);
    await store.expire(s.sessionId, { reason: 'lazy', now: new Date(), force: true });
    const record = await fanout(inputFor(s.sessionId));
    expect(record?.status).toBe('SUCCEEDED');
    expect(enforcer.denied()).toEqual({ [ROLE]: [s.sessionId] });
  });

  it.each([
    ['status in capitals', { status: 'REVOKED' }, []],
    ['no revokedBy', {}, ['revokedBy']],
    ['revokedAt as a number', { revokedAt: 1_764_000_000 }, []],
    ['revokedAt without milliseconds', { revokedAt: '2026-11-28T05:00:00Z' }, []],
    ['an extra attribute', { note: 'hand-edited' }, []],
  ] as const)('still enforces and notifies a revoked row with %s', async (_case, changes, removed) => {
    // Prepare: a revoked row, then edited by hand
    const { store, enforcer, notified, fanout } = setup();
    const s = liveSession();
    await store.create(s);
    await store.revoke(s.sessionId, { by: 'secops', reason: 'r', now: new Date() });
    const row = { ...(await store.get(s.sessionId)), ...changes } as Record<string, unknown>;
    for (const name of removed) delete row[name];
    await tables.documentClient.send(new PutCommand({ TableName: tables.names.SessionsTable, Item: row }));
    // Act
    const record = await fanout(inputFor(s.sessionId));
    // Assess
    expect(record?.status).toBe('SUCCEEDED');
    expect(enforcer.denied()).toEqual({ [ROLE]: [s.sessionId] });
    expect(notified()).toEqual([
      { channel: 'slack', delivered: true },
      { channel: 'sns', delivered: true },
      { channel: 'teams', delivered: true },
    ]);
    expectSlackBlockKitMessage(receiver.bodiesAt('/slack')[0]);
    expectAdaptiveCardMessage(receiver.bodiesAt('/teams')[0]);
  });
});
