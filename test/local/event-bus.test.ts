import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  type EventEnvelope,
  jsonLinesFileTarget,
  LocalEventBus,
  rulesFromTemplate,
  UnknownRuleError,
} from '../../local/event-bus.js';
import { InvalidEventPatternError } from '../../local/event-pattern.js';
import { ManualClock } from '../../local/manual-clock.js';
import { loadTemplate, parseTemplate, REPO_ROOT } from '../../local/template.js';
import {
  revocationNotified,
  sessionExpired,
  sessionRevoked,
  sessionTouched,
} from '../../src/domain/events.js';
import type { Session } from '../../src/domain/session.js';

const addFormats = addFormatsModule.default;

const at = new Date('2026-03-02T09:52:31.774Z');
const session: Session = {
  sessionId: '3f2a9c4e8b7d4e1fa06c5b2d9e8f7a61',
  user: 'alice',
  principalArn: 'arn:aws:iam::123456789012:user/alice',
  profile: 'dev',
  roleArn: 'arn:aws:iam::123456789012:role/sentinel-dev',
  sourceIdentity: 'sentinel=alice=direct=req-1',
  status: 'active',
  createdAt: '2026-03-02T09:00:00.000Z',
  lastAccessAt: '2026-03-02T09:40:00.000Z',
  expiresAt: '2026-03-02T10:40:00.000Z',
  maxExpiresAt: '2026-03-02T21:00:00.000Z',
  requestCount: 3,
  version: 3,
  ttl: 1_773_000_000,
};
const revoked = sessionRevoked(
  { ...session, revokedAt: at.toISOString(), revokedBy: 'secops-bob', reason: 'lost laptop' },
  at,
);
const touched = sessionTouched(session, at);
const expired = sessionExpired(session, 'workflow', at);

/** The bus wired as the deployed stack is: template.yaml's rules, one recording target per rule. */
const templateBus = () => {
  const bus = new LocalEventBus({
    clock: new ManualClock(at),
    region: 'eu-west-1',
    rules: rulesFromTemplate(loadTemplate()),
  });
  const received: Record<string, EventEnvelope[]> = {};
  for (const rule of bus.ruleNames) {
    received[rule] = [];
    bus.addTarget(rule, (event) => {
      received[rule]?.push(event);
    });
  }
  return { bus, received };
};

describe('LocalEventBus', () => {
  it('wraps each event in the envelope a rule target receives, valid against its schema', async () => {
    // Prepare
    const { bus } = templateBus();
    // Act
    const result = await bus.publish([revoked]);
    // Assess
    expect(result.failed).toEqual([]);
    const [envelope] = bus.events;
    expect(envelope).toMatchObject({
      version: '0',
      'detail-type': 'SessionRevoked',
      source: 'sentinel.sessions',
      account: '000000000000',
      region: 'eu-west-1',
      time: '2026-03-02T09:52:31Z',
      resources: [],
      detail: revoked.detail,
    });
    expect(envelope?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ajv = new Ajv2020({ strict: true });
    addFormats(ajv);
    const schema = JSON.parse(
      readFileSync(join(REPO_ROOT, 'events', 'schemas', 'SessionRevoked.schema.json'), 'utf8'),
    ) as object;
    expect(ajv.validate(schema, envelope), ajv.errorsText()).toBe(true);
  });

  it('delivers each event to the targets of the template rules that match it, and only those', async () => {
    const { bus, received } = templateBus();

    await bus.publish([
      touched,
      revoked,
      expired,
      revocationNotified(session, { channel: 'sns', delivered: true, at }),
    ]);

    expect(received.SessionsAuditRule?.map((e) => e['detail-type'])).toEqual([
      'SessionTouched',
      'SessionRevoked',
      'SessionExpired',
      'RevocationNotified',
    ]);
    // Revocations are notified by the revocation-fanout workflow, not by this rule.
    expect(received.SessionNotificationsRule?.map((e) => e['detail-type'])).toEqual(['SessionExpired']);
    expect(bus.deliveries).toHaveLength(5);
  });

  it('rejects injected entries as a partial PutEvents failure: not kept, not delivered', async () => {
    // Prepare
    const { bus, received } = templateBus();
    bus.injectFailures((event) =>
      event.detailType === 'SessionRevoked' ? 'ThrottlingException' : undefined,
    );
    // Act
    const result = await bus.publish([touched, revoked, expired]);
    // Assess
    expect(result.failed).toEqual([{ event: revoked, errorCode: 'ThrottlingException' }]);
    expect(bus.events.map((e) => e['detail-type'])).toEqual(['SessionTouched', 'SessionExpired']);
    expect(received.SessionNotificationsRule?.map((e) => e['detail-type'])).toEqual(['SessionExpired']);
  });

  it('fails the next N entries, then accepts again (a retry goes through)', async () => {
    const { bus } = templateBus();
    bus.failNextEntries(2);

    const first = await bus.publish([touched, revoked, expired]);
    const retry = await bus.publish(first.failed.map((f) => f.event));

    expect(first.failed.map((f) => [f.event.detailType, f.errorCode])).toEqual([
      ['SessionTouched', 'InternalFailure'],
      ['SessionRevoked', 'InternalFailure'],
    ]);
    expect(retry.failed).toEqual([]);
    expect(bus.events.map((e) => e['detail-type'])).toEqual([
      'SessionExpired',
      'SessionTouched',
      'SessionRevoked',
    ]);
    expect(bus.calls).toEqual([3, 2]);
  });

  it('records a failing target without failing the publish or the other targets', async () => {
    const { bus, received } = templateBus();
    bus.addTarget(
      'SessionNotificationsRule',
      () => {
        throw new Error('webhook down');
      },
      'Webhook',
    );

    const result = await bus.publish([expired]);

    expect(result.failed).toEqual([]);
    expect(received.SessionNotificationsRule).toHaveLength(1);
    expect(bus.deliveryFailures.map((f) => [f.rule, f.targetId, (f.error as Error).message])).toEqual([
      ['SessionNotificationsRule', 'Webhook', 'webhook down'],
    ]);
  });

  it('ignores disabled rules and rules of another bus', async () => {
    const bus = new LocalEventBus({
      rules: [
        { name: 'Disabled', eventPattern: { source: ['sentinel.sessions'] }, state: 'DISABLED' },
        { name: 'Elsewhere', eventPattern: { source: ['sentinel.sessions'] }, eventBusName: 'default' },
        { name: 'Here', eventPattern: '{"source":["sentinel.sessions"]}', eventBusName: 'sentinel-sessions' },
      ],
    });
    await bus.publish([touched]);
    expect(bus.ruleNames).toEqual(['Disabled', 'Here']);
    expect(bus.matchingRules(bus.events[0] as EventEnvelope)).toEqual(['Here']);
  });

  it('refuses a rule EventBridge would refuse and a target for an unknown rule', () => {
    const bus = new LocalEventBus();
    expect(() => bus.addRule({ name: 'Bad', eventPattern: { source: 'sentinel.sessions' } })).toThrow(
      InvalidEventPatternError,
    );
    expect(() => bus.addTarget('Nope', () => undefined)).toThrow(UnknownRuleError);
  });

  it('appends delivered envelopes as JSON lines (the local audit log)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sentinel-bus-')), 'audit.jsonl');
    const { bus } = templateBus();
    bus.addTarget('SessionsAuditRule', jsonLinesFileTarget(path), 'AuditLogGroup');

    await bus.publish([touched, revoked]);

    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EventEnvelope);
    expect(lines.map((l) => l['detail-type'])).toEqual(['SessionTouched', 'SessionRevoked']);
  });
});

describe('rulesFromTemplate', () => {
  it('reads every AWS::Events::Rule with its bus, pattern and target ids', () => {
    const rules = rulesFromTemplate(loadTemplate());
    expect(rules.find((r) => r.name === 'SessionNotificationsRule')).toEqual({
      name: 'SessionNotificationsRule',
      eventBusName: 'sentinel-sessions',
      state: 'ENABLED',
      eventPattern: {
        source: ['sentinel.sessions'],
        'detail-type': ['SessionExpired'],
        'replay-name': [{ exists: false }],
      },
      targetIds: ['NotificationsTopic'],
    });
  });

  it('resolves parameters, pseudo parameters and JSON-text patterns', () => {
    const template = parseTemplate(
      [
        'Parameters:',
        '  BusName: { Type: String, Default: from-default }',
        '  Team: { Type: String, Default: sec }',
        'Resources:',
        '  Bus: { Type: AWS::Events::EventBus, Properties: { Name: !Ref BusName } }',
        '  Rule:',
        '    Type: AWS::Events::Rule',
        '    Properties:',
        '      EventBusName: !Ref Bus',
        '      State: DISABLED',
        '      EventPattern: { detail: { team: [!Ref Team], region: [!Sub "${AWS::Region}"] } }',
        '  TextRule:',
        '    Type: AWS::Events::Rule',
        `    Properties: { EventPattern: '{"source":["x"]}' }`,
        '  Scheduled: { Type: AWS::Events::Rule, Properties: { ScheduleExpression: rate(1 hour) } }',
      ].join('\n'),
    );
    const rules = rulesFromTemplate(template, { parameters: { BusName: 'given' }, region: 'eu-west-1' });
    expect(rules).toEqual([
      {
        name: 'Rule',
        eventBusName: 'given',
        state: 'DISABLED',
        eventPattern: { detail: { team: ['sec'], region: ['eu-west-1'] } },
        targetIds: [],
      },
      {
        name: 'TextRule',
        eventBusName: 'default',
        state: 'ENABLED',
        eventPattern: '{"source":["x"]}',
        targetIds: [],
      },
    ]);
  });
});
