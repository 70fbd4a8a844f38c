/**
 * template.yaml for the revocation reconciler: the sparse index it reads, the function and its least-privilege
 * role, the schedule that runs it every 5 minutes (with a role that may invoke it and nothing else), and the
 * alarms on its failures, all agreeing with the code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTemplate, type TemplateResource } from '../../../local/template.js';
import { BY_ENFORCEMENT_INDEX } from '../../../src/adapters/dynamodb-session-store.js';

const template = loadTemplate();
const resource = (id: string): TemplateResource => {
  const found = template.Resources[id];
  if (!found) throw new Error(`template.yaml has no ${id}`);
  return found;
};
const propsOf = (id: string): Record<string, unknown> => resource(id).Properties ?? {};
type Statement = { Sid?: string; Effect?: string; Action?: unknown; Resource?: unknown; Condition?: unknown };
const statementsOf = (roleId: string): Statement[] =>
  (propsOf(roleId).Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
    (p) => p.PolicyDocument.Statement,
  );
const actions = (statement: Statement): string[] => ([] as string[]).concat(statement.Action as string);
const globalVariables =
  (template.Globals?.Function?.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables ?? {};

describe('the Sessions table’s byEnforcement index', () => {
  it('is keyed by enforceShard and enforceSince, with every attribute the session parser needs', () => {
    const indexes = propsOf('SessionsTable').GlobalSecondaryIndexes as {
      IndexName: string;
      KeySchema: { AttributeName: string; KeyType: string }[];
      Projection: { ProjectionType: string };
    }[];
    const index = indexes.find((i) => i.IndexName === BY_ENFORCEMENT_INDEX);
    expect(index?.KeySchema).toEqual([
      { AttributeName: 'enforceShard', KeyType: 'HASH' },
      { AttributeName: 'enforceSince', KeyType: 'RANGE' },
    ]);
    expect(index?.Projection).toEqual({ ProjectionType: 'ALL' });
    expect(propsOf('SessionsTable').AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'enforceShard', AttributeType: 'S' },
        { AttributeName: 'enforceSince', AttributeType: 'S' },
      ]),
    );
  });
});

describe('RevocationReconcilerFunction', () => {
  const fn = propsOf('RevocationReconcilerFunction');

  it('runs the reconciler handler with the deny-list table (and the Sessions table from Globals)', () => {
    expect(fn.Handler).toBe('revocation-reconciler.handler');
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toEqual({
      DENY_LIST_TABLE_NAME: { Ref: 'DenyListTable' },
      REVOCATION_ENFORCER_FUNCTION_ARN: { 'Fn::GetAtt': ['RevocationEnforcerFunction', 'Arn'] },
      RECONCILER_MAX_HEALS_PER_RUN: '100',
      RECONCILER_MAX_SESSIONS_PER_RUN: '5000',
    });
    expect(globalVariables.SESSIONS_TABLE_NAME).toEqual({ Ref: 'SessionsTable' });
  });

  it('ends well within the schedule’s 5 minutes, so runs never overlap, and a failed run is not retried', () => {
    // The handler stops starting heals 40 s before its end (RECONCILER_STOP_MARGIN_MS).
    expect(Number(fn.Timeout)).toBeGreaterThanOrEqual(60);
    expect(Number(fn.Timeout)).toBeLessThan(300);
    expect(fn.EventInvokeConfig).toEqual({ MaximumRetryAttempts: 0 });
  });

  it('may query only the byEnforcement index, read deny-list rows and invoke the enforcer: it writes nothing', () => {
    const data = statementsOf('RevocationReconcilerRole').filter(
      (s) => !/^(logs|xray):/.test(actions(s)[0] ?? ''),
    );
    expect(data.map((s) => ({ Action: s.Action, Resource: s.Resource }))).toEqual([
      {
        Action: 'dynamodb:Query',
        Resource: { 'Fn::Sub': `\${SessionsTable.Arn}/index/${BY_ENFORCEMENT_INDEX}` },
      },
      { Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': ['DenyListTable', 'Arn'] } },
      {
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': ['RevocationEnforcerFunction', 'Arn'] },
      },
    ]);
    // The enforcer stays the one principal that writes IAM (and that member accounts trust).
    expect(
      statementsOf('RevocationReconcilerRole')
        .flatMap(actions)
        .some((a) => a.startsWith('iam:')),
    ).toBe(false);
  });

  it('logs to its own log group', () => {
    expect((fn.LoggingConfig as { LogGroup: unknown }).LogGroup).toEqual({
      Ref: 'RevocationReconcilerLogGroup',
    });
  });
});

describe('RevocationReconcilerSchedule', () => {
  const schedule = propsOf('RevocationReconcilerSchedule');

  it('invokes the reconciler every 5 minutes with {} through its own role', () => {
    expect(resource('RevocationReconcilerSchedule').Type).toBe('AWS::Scheduler::Schedule');
    expect(schedule).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': ['RevocationReconcilerFunction', 'Arn'] },
        RoleArn: { 'Fn::GetAtt': ['RevocationReconcilerScheduleRole', 'Arn'] },
        Input: '{}',
      },
    });
  });

  it('has a role trusted by this account’s Scheduler that may invoke the reconciler and nothing else', () => {
    const trust = (
      propsOf('RevocationReconcilerScheduleRole').AssumeRolePolicyDocument as { Statement: Statement[] }
    ).Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(statementsOf('RevocationReconcilerScheduleRole')).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': ['RevocationReconcilerFunction', 'Arn'] },
      },
    ]);
  });
});

describe('the reconciler’s alarms', () => {
  it('watch its Errors', () => {
    expect(propsOf('RevocationReconcilerErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RevocationReconcilerFunction' } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('watch ReconcilerHealFailed where Powertools publishes it, a metric the handler counts', () => {
    expect(propsOf('RevocationReconcilerHealFailedAlarm')).toMatchObject({
      Namespace: globalVariables.POWERTOOLS_METRICS_NAMESPACE,
      MetricName: 'ReconcilerHealFailed',
      Dimensions: [{ Name: 'service', Value: globalVariables.POWERTOOLS_SERVICE_NAME }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(readFileSync('src/handlers/revocation-reconciler.ts', 'utf8')).toContain(
      "count('ReconcilerHealFailed'",
    );
  });
});
