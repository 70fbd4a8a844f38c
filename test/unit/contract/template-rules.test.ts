import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rulesFromTemplate } from '../../../local/event-bus.js';
import { compileEventPattern } from '../../../local/event-pattern.js';
import { loadTemplate, REPO_ROOT, resourceOf } from '../../../local/template.js';
import { DETAIL_TYPES, type DetailType } from '../../../src/domain/events.js';

const sampleOf = (type: DetailType): Record<string, unknown> =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'events', 'bus', `${type}.json`), 'utf8')) as Record<
    string,
    unknown
  >;

const template = loadTemplate();
const rules = rulesFromTemplate(template);
const propsOf = (logicalId: string, type?: string): Record<string, unknown> =>
  resourceOf(template, logicalId, type).Properties ?? {};
const targetsOf = (rule: string): Record<string, unknown>[] =>
  (propsOf(rule, 'AWS::Events::Rule').Targets as Record<string, unknown>[] | undefined) ?? [];
const ruleNamed = (name: string) => {
  const rule = rules.find((r) => r.name === name);
  if (!rule) throw new Error(`template.yaml has no rule ${name}`);
  return rule;
};

/**
 * What each rule in template.yaml is for: the detail-types it must match. Every other sample must not match.
 * A rule added to the template without an entry here fails the first test.
 */
const intent: Record<string, { readonly matches: readonly DetailType[]; readonly replays: boolean }> = {
  // Every detail-type, VendDenied included: denials are what auditors ask for first.
  SessionsAuditRule: { matches: DETAIL_TYPES, replays: true },
  // Revocations are notified by the revocation-fanout workflow; routing them here too would notify twice.
  SessionNotificationsRule: { matches: ['SessionExpired'], replays: false },
};

describe('EventBridge rules in template.yaml', () => {
  it('declares the intent of every rule', () => {
    expect(rules.map((r) => r.name).sort()).toEqual(Object.keys(intent).sort());
  });

  it('puts every rule on the sessions bus, enabled', () => {
    for (const rule of rules) {
      expect(rule.eventBusName, rule.name).toBe('sentinel-sessions');
      expect(rule.state, rule.name).toBe('ENABLED');
    }
  });

  const table = Object.entries(intent).flatMap(([rule, { matches }]) =>
    DETAIL_TYPES.map((type) => ({ rule, type, expected: matches.includes(type) })),
  );

  it.each(table)('$rule on the $type sample → $expected', ({ rule, type, expected }) => {
    // Prepare
    const pattern = compileEventPattern(ruleNamed(rule).eventPattern);
    // Act
    const matched = pattern.matches(sampleOf(type));
    // Assess
    expect(matched).toBe(expected);
  });

  it.each(Object.keys(intent))('%s ignores the same events from another source', (rule) => {
    const pattern = compileEventPattern(ruleNamed(rule).eventPattern);
    for (const type of DETAIL_TYPES) {
      expect(pattern.matches({ ...sampleOf(type), source: 'someone.else' })).toBe(false);
    }
  });

  it.each(Object.entries(intent))('%s and archive replays', (rule, { matches, replays }) => {
    // A replayed event carries replay-name; notifications must not page anyone a second time.
    const pattern = compileEventPattern(ruleNamed(rule).eventPattern);
    for (const type of matches) {
      expect(pattern.matches({ ...sampleOf(type), 'replay-name': 'incident-2026-03-02' })).toBe(replays);
    }
  });

  it('archives every sentinel.sessions event and nothing else', () => {
    const archive = propsOf('SessionsEventArchive', 'AWS::Events::Archive');
    const pattern = compileEventPattern(archive.EventPattern);
    for (const type of DETAIL_TYPES) expect(pattern.matches(sampleOf(type)), type).toBe(true);
    expect(pattern.matches({ ...sampleOf('SessionCreated'), source: 'aws.events' })).toBe(false);
    expect(archive.SourceArn).toEqual({ 'Fn::GetAtt': ['SessionsBus', 'Arn'] });
    expect(archive.RetentionDays).toEqual({ Ref: 'EventArchiveRetentionDays' });
  });

  it('gives every rule target retries and a dead-letter queue', () => {
    for (const name of Object.keys(intent)) {
      const targets = targetsOf(name);
      expect(targets.length, name).toBeGreaterThan(0);
      for (const target of targets) {
        expect(target.DeadLetterConfig, name).toEqual({
          Arn: { 'Fn::GetAtt': ['SessionEventsDeadLetterQueue', 'Arn'] },
        });
        expect(target.RetryPolicy, name).toBeDefined();
      }
    }
  });

  it('sends the audit rule to a /aws/events/ log group with the stack retention', () => {
    const target = targetsOf('SessionsAuditRule')[0];
    expect(target?.Arn).toEqual({ 'Fn::GetAtt': ['SessionsAuditLogGroup', 'Arn'] });
    const group = propsOf('SessionsAuditLogGroup', 'AWS::Logs::LogGroup');
    expect(group.LogGroupName).toEqual({ 'Fn::Sub': '/aws/events/sentinel-sessions-audit-${Stage}' });
    expect(group.RetentionInDays).toEqual({ Ref: 'LogRetentionDays' });
    const policy = propsOf('SessionsAuditLogGroupPolicy', 'AWS::Logs::ResourcePolicy');
    const [document, vars] = (policy.PolicyDocument as { 'Fn::Sub': [string, Record<string, unknown>] })[
      'Fn::Sub'
    ];
    const statement = (JSON.parse(document) as { Statement: Record<string, unknown>[] }).Statement[0];
    expect(statement?.Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(statement?.Principal).toEqual({
      Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'],
    });
    expect(vars.RuleArn).toEqual({ 'Fn::GetAtt': ['SessionsAuditRule', 'Arn'] });
  });

  it('sends notifications to a KMS-encrypted topic that only this rule may publish to from EventBridge', () => {
    const target = targetsOf('SessionNotificationsRule')[0];
    expect(target?.Arn).toEqual({ Ref: 'SessionNotificationsTopic' });
    const topic = propsOf('SessionNotificationsTopic', 'AWS::SNS::Topic');
    expect(topic.KmsMasterKeyId).toEqual({ Ref: 'SessionNotificationsKey' });
    const policy = propsOf('SessionNotificationsTopicPolicy', 'AWS::SNS::TopicPolicy');
    const [statement] = (policy.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statement).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['SessionNotificationsRule', 'Arn'] } } },
    });
  });

  it('lets EventBridge use the topic key only for the notifications rule', () => {
    const key = propsOf('SessionNotificationsKey', 'AWS::KMS::Key');
    const statements = (key.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    const events = statements.find((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'));
    const rule = propsOf('SessionNotificationsRule');
    // The key policy spells the rule ARN out (a GetAtt would make a cycle); it must name the same rule.
    const ruleName = (rule.Name as { 'Fn::Sub': string })['Fn::Sub'];
    expect(JSON.stringify(events?.Condition)).toContain(`rule/\${EventBusName}/${ruleName}`);
    expect(events?.Action).toEqual(['kms:GenerateDataKey*', 'kms:Decrypt']);
  });

  it('outputs the notifications topic and the audit log group', () => {
    expect(template.Outputs?.SessionNotificationsTopicArn?.Value).toEqual({
      Ref: 'SessionNotificationsTopic',
    });
    expect(template.Outputs?.SessionsAuditLogGroupName?.Value).toEqual({ Ref: 'SessionsAuditLogGroup' });
  });
});
