import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { bindTasks, rawDefinitionOf, SUBSTITUTION, substitute } from '../../../local/sfn-binder.js';
import { loadTemplate, REPO_ROOT, resourceOf } from '../../../local/template.js';
import {
  BY_ACTIVE_SHARD_INDEX,
  DEFAULT_ACTIVE_SHARD_COUNT,
} from '../../../src/adapters/dynamodb-session-store.js';

const template = loadTemplate();
const stateMachines = Object.entries(template.Resources)
  .filter(([, resource]) => resource.Type === 'AWS::Serverless::StateMachine')
  .map(([logicalId, resource]) => ({
    logicalId,
    uri: String(resource.Properties?.DefinitionUri),
    substitutions: Object.keys(
      (resource.Properties?.DefinitionSubstitutions as Record<string, unknown>) ?? {},
    ),
  }));

/** Values shaped like what CloudFormation substitutes, so ARN checks see real-looking ARNs. */
const plausible = (name: string): string =>
  name.endsWith('Arn') ? `arn:aws:sns:us-east-1:123456789012:${name}` : `local-${name}`;

describe('state machines in template.yaml', () => {
  it('declares the lifecycle, revocation fan-out and sweeper workflows', () => {
    expect(stateMachines.map((s) => s.logicalId).sort()).toEqual([
      'RevocationFanoutStateMachine',
      'SessionLifecycleStateMachine',
      'SessionSweeperStateMachine',
    ]);
  });

  describe.each(stateMachines)('$logicalId', ({ logicalId, uri, substitutions }) => {
    const raw = rawDefinitionOf(logicalId, template);
    const used = [...new Set([...raw.matchAll(SUBSTITUTION)].map((m) => m[1]))].sort();

    it('loads its definition from statemachines/*.asl.json', () => {
      expect(uri).toMatch(/^statemachines\/[a-z-]+\.asl\.json$/);
      expect(existsSync(join(REPO_ROOT, uri))).toBe(true);
    });

    it('uses every DefinitionSubstitution, and only those', () => {
      expect(used).toEqual([...substitutions].sort());
    });

    it('is valid Amazon States Language in JSONPath (the local interpreter ignores JSONata)', () => {
      const definition = substitute(raw, Object.fromEntries(used.map((n) => [n, plausible(String(n))])));
      const { isValid, errorsText } = aslValidator(definition);
      expect(errorsText(), errorsText()).toBe('');
      expect(isValid).toBe(true);
      expect(raw).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"/);
    });

    it('has a local binding for every Task, so the local stack can run it', () => {
      const definition = substitute(raw, Object.fromEntries(used.map((n) => [n, plausible(String(n))])));
      const services = {
        dynamodb: {} as never,
        putEvents: async () => ({ FailedEntryCount: 0, Entries: [] }),
        snsPublish: async () => ({ MessageId: 'm' }),
      };
      expect(Object.keys(bindTasks(definition, services)).length).toBeGreaterThan(0);
    });
  });

  describe('SessionSweeperStateMachine', () => {
    const props = resourceOf(template, 'SessionSweeperStateMachine').Properties ?? {};
    const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;
    const raw = rawDefinitionOf('SessionSweeperStateMachine', template);

    it('is an Express workflow reading every shard the session store writes, on its index', () => {
      expect(props.Type).toBe('EXPRESS');
      expect(Number(substitutions.ActiveShardCount)).toBe(DEFAULT_ACTIVE_SHARD_COUNT);
      expect([...raw.matchAll(/"IndexName": "([^"]+)"/g)].map((m) => m[1])).toEqual([
        BY_ACTIVE_SHARD_INDEX,
        BY_ACTIVE_SHARD_INDEX,
      ]);
      // A bound per run, so a backlog drains over runs rather than timing out.
      expect(Number(substitutions.SweepPageSize)).toBeGreaterThan(0);
      expect(Number(substitutions.SweepPagesPerShard)).toBeGreaterThan(0);
    });

    it('calls DynamoDB through the SDK integrations only (no Lambda), allowed Query on the index and UpdateItem on the table', () => {
      const resources = [...raw.matchAll(/"Resource": "([^"]+)"/g)].map((m) => m[1]);
      expect([...new Set(resources)].sort()).toEqual([
        'arn:aws:states:::aws-sdk:dynamodb:query',
        'arn:aws:states:::aws-sdk:dynamodb:updateItem',
      ]);
      const statements = (
        props.Policies as { Statement: { Action: unknown; Resource: unknown }[] }[]
      ).flatMap((p) => p.Statement);
      const dynamo = statements.filter((s) => String(s.Action).startsWith('dynamodb:'));
      expect(dynamo).toEqual([
        {
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: { 'Fn::Sub': '${SessionsTable.Arn}/index/byActiveShard' },
        },
        {
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: { 'Fn::GetAtt': ['SessionsTable', 'Arn'] },
        },
      ]);
    });

    it('runs every minute from an EventBridge Scheduler schedule whose own role may start only the sweeper', () => {
      const schedule =
        resourceOf(template, 'SessionSweeperSchedule', 'AWS::Scheduler::Schedule').Properties ?? {};
      expect(schedule.ScheduleExpression).toBe('rate(1 minute)');
      expect(schedule.Target).toMatchObject({
        Arn: { Ref: 'SessionSweeperStateMachine' },
        RoleArn: { 'Fn::GetAtt': ['SessionSweeperScheduleRole', 'Arn'] },
      });
      const role = resourceOf(template, 'SessionSweeperScheduleRole', 'AWS::IAM::Role').Properties ?? {};
      expect(JSON.stringify(role.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
      const grants = (role.Policies as { PolicyDocument: { Statement: unknown[] } }[]).flatMap(
        (p) => p.PolicyDocument.Statement,
      );
      expect(grants).toEqual([
        { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: 'SessionSweeperStateMachine' } },
      ]);
    });
  });

  describe('RevocationFanoutStateMachine', () => {
    const props = resourceOf(template, 'RevocationFanoutStateMachine').Properties ?? {};
    const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;
    const definition = JSON.parse(rawDefinitionOf('RevocationFanoutStateMachine', template)) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    const { States } = definition;
    type Block = { States: Record<string, Record<string, unknown>> };
    const fanOut = States.FanOut as { Branches: Block[] };
    const [notifyBranch, enforceBranch] = fanOut.Branches as [Block, Block];
    const channelMap = notifyBranch.States.NotifyEachChannel as { ItemProcessor: Block; Catch?: unknown[] };
    const perChannel = channelMap.ItemProcessor.States;
    const choiceTargets = (state: Record<string, unknown>): string[] => [
      ...((state.Choices as { Next: string }[]) ?? []).map((c) => c.Next),
      ...(typeof state.Default === 'string' ? [state.Default] : []),
    ];

    it('re-reads the session row before anything else, and goes on only for a revoked or force-expired row', () => {
      expect(definition.StartAt).toBe('ListChannels');
      expect(States.ListChannels?.Next).toBe('ReadSession');
      expect(States.ReadSession).toMatchObject({
        Resource: 'arn:aws:states:::dynamodb:getItem',
        Parameters: { ConsistentRead: true },
        Next: 'IsReallyRevoked',
      });
      const check = States.IsReallyRevoked ?? {};
      expect(check.Default).toBe('NotRevoked');
      expect(choiceTargets(check).sort()).toEqual(
        [
          'EarlyExpiryAsRevocation',
          'ExpiredByHand',
          'NotRevoked',
          'NotRevoked',
          'RevokedAtUnknown',
          'FanOut',
          'SessionNotFound',
        ].sort(),
      );
      // The refusals are Fail states: loud (the failed-fan-out alarm), and nothing after them.
      expect(States.NotRevoked).toMatchObject({ Type: 'Fail', Error: 'SessionNotRevoked' });
      expect(States.SessionNotFound).toMatchObject({ Type: 'Fail', Error: 'SessionNotFound' });
      expect(States.SessionNotRead?.Type).toBe('Fail');
    });

    it('takes what it announces and enforces from the row, never from the execution input', () => {
      expect(fanOut).toMatchObject({ Parameters: { 'sessionId.$': '$.read.Item.sessionId.S' } });
      expect((channelMap as Record<string, unknown>).ItemSelector).toEqual({
        'channel.$': '$$.Map.Item.Value',
        'session.$': 'States.JsonMerge($.rowDefaults, $.read.Item, false)',
      });
      expect(
        (enforceBranch.States.DenyRevokedSession?.Parameters as { Payload?: unknown } | undefined)?.Payload,
      ).toEqual({
        'sessionId.$': '$.sessionId',
        'roleArn.$': '$.read.Item.roleArn.S',
        'expiresAt.$': '$.read.Item.expiresAt.S',
      });
    });

    it('lists SNS, Slack and Teams; a webhook with an empty URL is skipped', () => {
      expect(((States.ListChannels?.Result ?? []) as { name: string }[]).map((c) => c.name)).toEqual([
        'sns',
        'slack',
        'teams',
      ]);
      expect(perChannel.SelectChannel?.Choices).toContainEqual({
        Variable: '$.channel.target',
        StringEquals: '',
        Next: 'ChannelOff',
      });
      expect(substitutions).toMatchObject({
        SlackWebhookUrl: { Ref: 'SlackWebhookUrl' },
        TeamsWebhookUrl: { Ref: 'TeamsWebhookUrl' },
        WebhookConnectionArn: {
          'Fn::If': ['HasWebhook', { 'Fn::GetAtt': ['WebhookConnection', 'Arn'] }, ''],
        },
      });
    });

    it.each(['NotifySlack', 'NotifyTeams'])(
      '%s is an HTTP Task POSTing through the connection, with its own Retry and Catch',
      (name) => {
        const task = perChannel[name] ?? {};
        expect(task).toMatchObject({
          Type: 'Task',
          Resource: 'arn:aws:states:::http:invoke',
          Parameters: {
            'ApiEndpoint.$': '$.channel.target',
            Method: 'POST',
            Authentication: { 'ConnectionArn.$': '$.channel.connectionArn' },
            Headers: { 'Content-Type': 'application/json' },
          },
          Next: 'RecordDelivered',
        });
        const retried = (task.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
        expect(retried).toEqual(
          expect.arrayContaining([
            'States.Http.Socket',
            'States.Http.StatusCode.500',
            'States.Http.StatusCode.429',
          ]),
        );
        // A 4xx other than 429 is the webhook refusing the request: retrying would not change the answer.
        expect(retried.filter((e) => /StatusCode\.4(?!29)/.test(e))).toEqual([]);
        expect(task.Catch).toEqual([
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordNotDelivered' },
        ]);
      },
    );

    it('keeps in its output how the enforcer denied the session (mode), and retries its throttling', () => {
      const deny = enforceBranch.States.DenyRevokedSession as {
        ResultSelector: Record<string, string>;
        Retry: { ErrorEquals: string[] }[];
      };
      // Only fields every EnforcementResult has: a JsonPath to an absent field fails the task.
      expect(deny.ResultSelector).toEqual({
        'alreadyDenied.$': '$.Payload.alreadyDenied',
        'deniedUntil.$': '$.Payload.deniedUntil',
        'mode.$': '$.Payload.mode',
      });
      const retried = deny.Retry.flatMap((r) => r.ErrorEquals);
      expect(retried).toEqual(
        expect.arrayContaining([
          'DenyListContentionError',
          'Throttling',
          'ThrottlingException',
          'ProvisionedThroughputExceededException',
        ]),
      );
    });

    it('never lets a channel, or a refused RevocationNotified, fail the enforcement branch', () => {
      for (const name of ['RecordDelivered', 'RecordNotDelivered']) {
        expect(perChannel[name]?.Catch).toEqual([
          { ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: 'OutcomeNotRecorded' },
        ]);
      }
      expect(channelMap.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: 'NotificationsIncomplete' },
      ]);
    });

    it('switches each webhook on by its own parameter (empty = off), NoEcho, in the one Conditions block', () => {
      const text = readFileSync(join(REPO_ROOT, 'template.yaml'), 'utf8');
      expect(text.match(/^Conditions:/gm)).toHaveLength(1);
      for (const name of ['SlackWebhookUrl', 'TeamsWebhookUrl']) {
        expect(template.Parameters?.[name]).toMatchObject({ Type: 'String', Default: '', NoEcho: true });
      }
      expect(template.Conditions).toMatchObject({
        HasSlackWebhook: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'SlackWebhookUrl' }, ''] }] },
        HasTeamsWebhook: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'TeamsWebhookUrl' }, ''] }] },
        HasWebhook: { 'Fn::Or': [{ Condition: 'HasSlackWebhook' }, { Condition: 'HasTeamsWebhook' }] },
      });
      expect(resourceOf(template, 'WebhookConnection', 'AWS::Events::Connection').Condition).toBe(
        'HasWebhook',
      );
      const slackPattern = new RegExp(String(template.Parameters?.SlackWebhookUrl?.AllowedPattern));
      expect(slackPattern.test('')).toBe(true);
      expect(slackPattern.test('https://hooks.slack.com/services/T000/B000/XXXX')).toBe(true);
      expect(slackPattern.test('http://hooks.slack.com/services/T000/B000/XXXX')).toBe(false);
      expect(slackPattern.test('https://evil.example/hooks.slack.com/x')).toBe(false);
    });

    it("may POST only to the configured webhook URLs, read only its connection and that connection's secret", () => {
      const statements = (props.Policies as { Statement: unknown[] }[]).flatMap((p) => p.Statement);
      const conditional = statements
        .filter(
          (s): s is { 'Fn::If': [string, Record<string, unknown>, unknown] } =>
            typeof s === 'object' && s !== null && 'Fn::If' in s,
        )
        .map((s) => s['Fn::If']);
      expect(conditional.map(([condition]) => condition)).toEqual(['HasWebhook', 'HasWebhook', 'HasWebhook']);
      expect(conditional.map(([, statement]) => statement)).toEqual([
        {
          Effect: 'Allow',
          Action: 'states:InvokeHTTPEndpoint',
          Resource: {
            'Fn::Sub':
              'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:sentinel-sessions-revocation-fanout-${Stage}',
          },
          Condition: {
            StringEquals: {
              'states:HTTPMethod': 'POST',
              'states:HTTPEndpoint': [
                { 'Fn::If': ['HasSlackWebhook', { Ref: 'SlackWebhookUrl' }, { Ref: 'AWS::NoValue' }] },
                { 'Fn::If': ['HasTeamsWebhook', { Ref: 'TeamsWebhookUrl' }, { Ref: 'AWS::NoValue' }] },
              ],
            },
          },
        },
        {
          Effect: 'Allow',
          Action: 'events:RetrieveConnectionCredentials',
          Resource: { 'Fn::GetAtt': ['WebhookConnection', 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: { 'Fn::GetAtt': ['WebhookConnection', 'SecretArn'] },
        },
      ]);
      // The state machine's name in that ARN is the one it really gets.
      expect(props.Name).toEqual({ 'Fn::Sub': 'sentinel-sessions-revocation-fanout-${Stage}' });
    });
  });

  it('refuses a definition whose placeholder has no value', () => {
    expect(() => substitute('{"a":"${Missing}"}', {})).toThrow(/Missing/);
  });
});
