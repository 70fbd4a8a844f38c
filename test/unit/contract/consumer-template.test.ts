import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadTemplate,
  REPO_ROOT,
  streamEventSourceOf,
  type TemplateResource,
} from '../../../local/template.js';

const template = loadTemplate();
const resource = (id: string): TemplateResource => {
  const found = template.Resources[id];
  if (!found) throw new Error(`template.yaml has no ${id}`);
  return found;
};
const props = (id: string): Record<string, unknown> => resource(id).Properties ?? {};

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
const statements = (): Statement[] => {
  const policies = props('LifecycleConsumerRole').Policies as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
};
const grantFor = (action: string): Statement[] =>
  statements().filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));

describe('LifecycleConsumerFunction in template.yaml', () => {
  it('reads the Sessions stream with partial batch responses, bisecting, bounded retries and a failure queue', () => {
    // Prepare
    const events = props('LifecycleConsumerFunction').Events as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    // Act
    const stream = Object.values(events).find((e) => e.Type === 'DynamoDB');
    // Assess
    expect(stream?.Properties).toMatchObject({
      Stream: { 'Fn::GetAtt': ['SessionsTable', 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': ['LifecycleConsumerFailureQueue', 'Arn'] } },
      },
    });
    expect(stream?.Properties.BatchSize).toBeGreaterThanOrEqual(10);
    expect(stream?.Properties.MaximumBatchingWindowInSeconds).toBeGreaterThanOrEqual(0);
    expect(stream?.Properties.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(resource('LifecycleConsumerFailureQueue').Type).toBe('AWS::SQS::Queue');
  });

  it('is configured with the workflows, the bus and the idempotency table', () => {
    const variables = (
      props('LifecycleConsumerFunction').Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(variables).toEqual({
      LIFECYCLE_STATE_MACHINE_ARN: { Ref: 'SessionLifecycleStateMachine' },
      REVOCATION_FANOUT_STATE_MACHINE_ARN: { Ref: 'RevocationFanoutStateMachine' },
      EVENT_BUS_NAME: { Ref: 'SessionsBus' },
      IDEMPOTENCY_TABLE_NAME: { Ref: 'StreamIdempotencyTable' },
      PER_SESSION_EXECUTIONS: { Ref: 'PerSessionExecutions' },
    });
  });

  it('starts only the two workflows and stops only lifecycle executions', () => {
    expect(grantFor('states:StartExecution').map((s) => s.Resource)).toEqual([
      [{ Ref: 'SessionLifecycleStateMachine' }, { Ref: 'RevocationFanoutStateMachine' }],
    ]);
    expect(grantFor('states:StopExecution').map((s) => s.Resource)).toEqual([
      {
        'Fn::Sub':
          'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${SessionLifecycleStateMachine.Name}:*',
      },
    ]);
  });

  it('publishes to its bus, reads its stream, keeps idempotency records and logs only where it must', () => {
    expect(grantFor('events:PutEvents').map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': ['SessionsBus', 'Arn'] },
    ]);
    expect(grantFor('dynamodb:GetRecords').map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': ['SessionsTable', 'StreamArn'] },
    ]);
    expect(grantFor('dynamodb:PutItem').map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': ['StreamIdempotencyTable', 'Arn'] },
    ]);
    expect(grantFor('sqs:SendMessage').map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': ['LifecycleConsumerFailureQueue', 'Arn'] },
    ]);
    expect(grantFor('logs:PutLogEvents').map((s) => s.Resource)).toEqual([
      { 'Fn::GetAtt': ['LifecycleConsumerLogGroup', 'Arn'] },
    ]);
    // "*" only for the actions AWS offers no resource scoping for.
    const wildcards = statements()
      .filter((s) => s.Resource === '*')
      .flatMap((s) => s.Action);
    expect(wildcards.sort()).toEqual([
      'dynamodb:ListStreams',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it("keeps its idempotency records in its own table, shaped like IdempotencyTable, and cannot reach vend's", () => {
    // Prepare
    const { TableName: ownName, ...own } = props('StreamIdempotencyTable');
    const { TableName: vendName, ...vend } = props('IdempotencyTable');
    // Act
    const policyText = JSON.stringify(props('LifecycleConsumerRole').Policies);
    // Assess
    expect(resource('StreamIdempotencyTable').Type).toBe('AWS::DynamoDB::Table');
    expect(own).toEqual(vend);
    expect(own).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(ownName).not.toEqual(vendName);
    expect(policyText).toContain('StreamIdempotencyTable');
    expect(policyText).not.toMatch(/"IdempotencyTable"/);
  });
});

describe('the SessionsStream FilterCriteria, against the real stream records in events/streams', () => {
  const mapping = streamEventSourceOf(template, 'LifecycleConsumerFunction', 'SessionsStream');
  const recordsOf = (name: string): unknown[] =>
    (
      JSON.parse(readFileSync(join(REPO_ROOT, 'events', 'streams', `${name}.json`), 'utf8')) as {
        Records: unknown[];
      }
    ).Records;
  const delivered = (record: unknown) => mapping.filters.some((filter) => filter.matches(record));

  it.each(['insert', 'revoke', 'expire', 'delete', 'ttl-remove'])('delivers %s.json', (name) => {
    const records = recordsOf(name);
    expect(records.length).toBeGreaterThan(0);
    expect(records.every(delivered)).toBe(true);
  });

  it('drops touch.json: a refresh never invokes the consumer', () => {
    expect(recordsOf('touch').some(delivered)).toBe(false);
  });

  it('delivers a revocation whose status is not in canonical form, so the consumer still enforces it', () => {
    const [revoke] = recordsOf('revoke') as { dynamodb: { NewImage: Record<string, unknown> } }[];
    if (!revoke) throw new Error('revoke.json has no record');
    for (const status of ['REVOKED', 'Revoked', 'Expired', 'disabled']) {
      const odd = {
        ...revoke,
        dynamodb: { ...revoke.dynamodb, NewImage: { ...revoke.dynamodb.NewImage, status: { S: status } } },
      };
      expect(delivered(odd)).toBe(true);
    }
  });

  it('lets the consumer describe fan-out executions (a failed one is retried), and nothing else', () => {
    const grants = grantFor('states:DescribeExecution');
    expect(grants).toHaveLength(1);
    expect(JSON.stringify(grants[0]?.Resource)).toMatch(
      /execution:\$\{RevocationFanoutStateMachine\.Name\}:\*/,
    );
  });

  it("alarms on TerminalToActive and on exhausted fan-out retries (the consumer's Powertools metrics)", () => {
    for (const [id, metric] of [
      ['TerminalToActiveAlarm', 'TerminalToActive'],
      ['RevocationFanoutRetriesExhaustedAlarm', 'RevocationFanoutRetriesExhausted'],
    ] as const) {
      expect(resource(id).Type).toBe('AWS::CloudWatch::Alarm');
      expect(props(id)).toMatchObject({
        Namespace: 'SentinelSessions',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'sentinel-sessions' }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
    }
  });

  it('delivers a terminal → active change, so the consumer can flag it', () => {
    const [revoke] = recordsOf('revoke') as { dynamodb: { OldImage: unknown; NewImage: unknown } }[];
    if (!revoke) throw new Error('revoke.json has no record');
    const reversed = {
      ...revoke,
      dynamodb: {
        ...revoke.dynamodb,
        OldImage: revoke.dynamodb.NewImage,
        NewImage: revoke.dynamodb.OldImage,
      },
    };
    expect(delivered(reversed)).toBe(true);
  });
});
