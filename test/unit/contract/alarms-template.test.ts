/**
 * Nothing fails silently and only the pipeline speaks for the pipeline, as template.yaml declares it: the
 * alarms that must page someone, and the bus policy that denies everyone else sentinel.sessions events.
 */
import { describe, expect, it } from 'vitest';
import { loadTemplate, type TemplateResource } from '../../../local/template.js';

const template = loadTemplate();
const resources = Object.entries(template.Resources);
const props = (r: TemplateResource | undefined): Record<string, unknown> => r?.Properties ?? {};

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action ?? '']);
const grantsPutEvents = (statements: readonly Statement[]): boolean =>
  statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      actions(s).includes('events:PutEvents') &&
      JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': ['SessionsBus', 'Arn'] }),
  );

/** Every role the template lets publish on the bus, as `!GetAtt <Role>.Arn` (SAM names a state machine's role `<Id>Role`). */
const publishers = (): string[] =>
  resources
    .flatMap(([id, r]) => {
      if (r.Type === 'AWS::IAM::Role') {
        const policies = (props(r).Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
        return grantsPutEvents(policies.flatMap((p) => p.PolicyDocument.Statement)) ? [id] : [];
      }
      if (r.Type === 'AWS::Serverless::StateMachine') {
        const policies = (props(r).Policies ?? []) as { Statement?: Statement[] }[];
        return grantsPutEvents(policies.flatMap((p) => p.Statement ?? [])) ? [`${id}Role`] : [];
      }
      return [];
    })
    .sort();

describe('the sessions bus policy', () => {
  it('denies sentinel.sessions events to every principal but the roles the template lets publish', () => {
    const policy = props(template.Resources.SessionsBusPolicy);
    expect(policy.EventBusName).toEqual({ Ref: 'SessionsBus' });
    const statement = policy.Statement as {
      Effect: string;
      Principal: string;
      Action: string;
      Condition: Record<string, Record<string, unknown>>;
    };
    expect(statement).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 'events:PutEvents' });
    expect(statement.Condition['ForAnyValue:StringEquals']).toEqual({ 'events:source': 'sentinel.sessions' });
    const allowed = (
      (statement.Condition.ArnNotEquals?.['aws:PrincipalArn'] ?? []) as { 'Fn::GetAtt': string[] }[]
    )
      .map((arn) => arn['Fn::GetAtt'][0])
      .sort();
    expect(publishers()).toHaveLength(3);
    expect(allowed).toEqual(publishers());
  });
});

describe('alarms', () => {
  const alarms = resources.filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  const watched = alarms.map(([, r]) => {
    const p = props(r);
    const dimension = (p.Dimensions as { Value: unknown }[])[0]?.Value;
    return `${p.Namespace}/${p.MetricName} ${JSON.stringify(dimension)}`;
  });

  it.each([
    ['failed fan-out executions', 'AWS/States/ExecutionsFailed {"Ref":"RevocationFanoutStateMachine"}'],
    ['timed-out fan-out executions', 'AWS/States/ExecutionsTimedOut {"Ref":"RevocationFanoutStateMachine"}'],
    ['enforcer errors', 'AWS/Lambda/Errors {"Ref":"RevocationEnforcerFunction"}'],
    [
      'consumer failure-destination depth',
      'AWS/SQS/ApproximateNumberOfMessagesVisible {"Fn::GetAtt":["LifecycleConsumerFailureQueue","QueueName"]}',
    ],
    ['consumer iterator age', 'AWS/Lambda/IteratorAge {"Ref":"LifecycleConsumerFunction"}'],
    [
      'undeliverable session events',
      'AWS/SQS/ApproximateNumberOfMessagesVisible {"Fn::GetAtt":["SessionEventsDeadLetterQueue","QueueName"]}',
    ],
  ])('watch %s', (_what, metric) => {
    expect(watched).toContain(metric);
  });

  it('each notify the alarm topic when they fire and when they clear, and missing data is no alarm', () => {
    for (const [id, alarm] of alarms) {
      const p = props(alarm);
      expect(p.AlarmActions, id).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(p.OKActions, id).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(p.TreatMissingData, id).toBe('notBreaching');
    }
    expect(props(template.Resources.AlarmEmailSubscription)).toMatchObject({
      TopicArn: { Ref: 'AlarmTopic' },
      Protocol: 'email',
      Endpoint: { Ref: 'AlarmEmail' },
    });
    expect(template.Resources.AlarmEmailSubscription?.Condition).toBe('HasAlarmEmail');
  });
});
