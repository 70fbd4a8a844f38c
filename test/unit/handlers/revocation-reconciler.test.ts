/**
 * The revocation reconciler handler on mocked DynamoDB and Lambda, its heals answered by the real enforcer
 * handler (on mocked IAM and the same DynamoDB mock), so the invocation's payload and answer are the
 * deployed ones: configuration read at init, one run that heals a revocation missing from its deny list (the
 * policy IAM receives, the metrics counted), an enforcer refusal or error counted per session, and a run that
 * cannot list failing loudly. The comparison and the bounds are tested in
 * test/unit/usecases/reconcile-revocations.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { STSClient } from '@aws-sdk/client-sts';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadTemplate } from '../../../local/template.js';
import { createObservability } from '../../../src/commons/powertools.js';
import type { RevocationEnforcerHandler } from '../../../src/handlers/revocation-enforcer.js';
import { fakeLambdaContext } from '../../support/consumer-fakes.js';
import { answerInvokeWith, invokePayload } from '../../support/lambda-invoke.js';
import { at, CONTRACT_POLICY, makeSession } from '../../support/session-store-contract.js';

const NOW = new Date('2090-07-01T12:00:00.000Z');
const SESSIONS_TABLE = 'sentinel-sessions-dev';
const ENFORCER_ARN =
  'arn:aws:lambda:eu-west-1:123456789012:function:sentinel-sessions-revocation-enforcer-dev';
const ENV = {
  AWS_REGION: 'eu-west-1',
  SESSIONS_TABLE_NAME: SESSIONS_TABLE,
  DENY_LIST_TABLE_NAME: 'sentinel-sessions-deny-list-dev',
  REVOCATION_ENFORCER_FUNCTION_ARN: ENFORCER_ARN,
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};
describe('revocation reconciler handler', () => {
  const iam = mockClient(IAMClient);
  const lambda = mockClient(LambdaClient);
  const dynamo = mockClient(DynamoDBDocumentClient);
  const policies = new Map<string, string>();
  let denyRow: Record<string, unknown> | undefined;
  /** The Sessions rows the enforcer re-reads, by id. */
  let sessionRows: Map<string, Record<string, unknown>>;

  const loadModule = async (env: Record<string, string | undefined> = ENV) => {
    vi.resetModules();
    vi.unstubAllEnvs();
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    return import('../../../src/handlers/revocation-reconciler.js');
  };

  /** A session revoked ten minutes before NOW, as the byEnforcement index (and its row) holds it. */
  const revokedItem = () => {
    const session = makeSession({ now: at(NOW, -1200) });
    const revokedAt = at(NOW, -600).toISOString();
    const item = {
      ...session,
      status: 'revoked',
      revokedAt,
      revokedBy: 'ops',
      revokedReason: 'r',
      enforceShard: 'enforce#0',
      enforceSince: revokedAt,
    };
    sessionRows.set(item.sessionId, item);
    return item;
  };

  /** The enforcer function as Lambda runs it, on the same mocks: it answers the reconciler's Invoke. */
  let enforcer: RevocationEnforcerHandler;
  beforeAll(async () => {
    // Its module builds the deployed handler at import, from the environment it would have.
    for (const [name, value] of Object.entries({
      ...ENV,
      PROFILES: JSON.stringify({
        readonly: {
          roleArn: 'arn:aws:iam::123456789012:role/sentinel-readonly',
          maxDurationSeconds: 3600,
          ...CONTRACT_POLICY,
        },
      }),
      ENFORCER_ACCOUNT_ID: '123456789012',
      ENFORCEMENT_ROLE_NAME: 'sentinel-sessions-enforcer-dev',
    })) {
      vi.stubEnv(name, value);
    }
    const { createRevocationEnforcerHandler } = await import('../../../src/handlers/revocation-enforcer.js');
    enforcer = createRevocationEnforcerHandler({
      config: {
        denyListTableName: 'deny-list',
        sessionsTableName: SESSIONS_TABLE,
        profiles: new Map([
          [
            'readonly',
            {
              name: 'readonly',
              roleArn: 'arn:aws:iam::123456789012:role/sentinel-readonly',
              maxDurationSeconds: 3600,
              policy: CONTRACT_POLICY,
            },
          ],
        ]),
        accountId: '123456789012',
        enforcementRoleName: 'sentinel-sessions-enforcer-dev',
      },
      clients: {
        iam: new IAMClient({ region: 'us-east-1' }),
        sts: new STSClient({ region: 'eu-west-1' }),
        documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      },
      observability: createObservability(),
      clock: { now: () => NOW },
    });
  });

  beforeEach(() => {
    iam.reset();
    lambda.reset();
    dynamo.reset();
    policies.clear();
    denyRow = undefined;
    sessionRows = new Map();
    dynamo
      .on(GetCommand)
      .callsFake((input: { TableName: string; Key: Record<string, string> }) =>
        input.TableName === SESSIONS_TABLE
          ? { Item: sessionRows.get(input.Key.sessionId ?? '') }
          : { Item: denyRow },
      );
    dynamo.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      denyRow = input.Item;
      return {};
    });
    dynamo.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => {
      const values = input.ExpressionAttributeValues;
      denyRow = { ...denyRow, enforcedVersion: values[':version'], mode: values[':mode'] };
      return {};
    });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [], IsTruncated: false });
    iam.on(PutRolePolicyCommand).callsFake((input: { RoleName: string; PolicyDocument: string }) => {
      policies.set(input.RoleName, input.PolicyDocument);
      return {};
    });
    lambda
      .on(InvokeCommand)
      .callsFake(answerInvokeWith(ENFORCER_ARN, (event) => enforcer(event, fakeLambdaContext())));
  });
  afterAll(() => vi.unstubAllEnvs());

  const build = async () => {
    const { createRevocationReconcilerHandler } = await loadModule();
    const observability = createObservability();
    const addMetric = vi.spyOn(observability.metrics, 'addMetric');
    const handler = createRevocationReconcilerHandler({
      config: {
        sessionsTableName: SESSIONS_TABLE,
        denyListTableName: 'deny-list',
        enforcerFunctionArn: ENFORCER_ARN,
        maxHealsPerRun: 10,
        maxSessionsPerRun: 100,
      },
      clients: {
        lambda: new LambdaClient({ region: 'eu-west-1' }),
        documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      },
      observability,
      clock: { now: () => NOW },
    });
    const counted = () =>
      Object.fromEntries(addMetric.mock.calls.map(([name, , value]) => [name, value] as const));
    return { handler, counted };
  };

  it('re-enforces a revocation missing from its deny list and counts what it did', async () => {
    // Prepare: shard 0 of the index holds one revoked session; its role has no deny-list row.
    const item = revokedItem();
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: input.ExpressionAttributeValues[':shard'] === 'enforce#0' ? [item] : [],
    }));
    const { handler, counted } = await build();
    // Act
    const report = await handler({}, fakeLambdaContext());
    // Assess
    expect(report.healed).toEqual([
      expect.objectContaining({ sessionId: item.sessionId, reason: 'not-listed', alreadyDenied: false }),
    ]);
    expect(JSON.parse(policies.get('sentinel-readonly') ?? '{}').Statement[0].Condition).toEqual({
      StringEquals: { 'aws:PrincipalTag/SentinelSessionID': [item.sessionId] },
    });
    expect(counted()).toMatchObject({
      ReconcilerSessionsChecked: 1,
      ReconcilerSessionsHealed: 1,
      ReconcilerHealFailed: 0,
      ReconcilerSessionsDeferred: 0,
    });
    // The index was read for the window only: enforceSince after NOW minus 65 minutes.
    const query = dynamo.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(query).toMatchObject({
      IndexName: 'byEnforcement',
      ScanIndexForward: false,
      ExpressionAttributeValues: { ':since': at(NOW, -3900).toISOString() },
    });
  });

  it('counts a heal the enforcer fails (IAM refuses) as ReconcilerHealFailed and still ends the run', async () => {
    const item = revokedItem();
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: input.ExpressionAttributeValues[':shard'] === 'enforce#0' ? [item] : [],
    }));
    iam.on(PutRolePolicyCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const { handler, counted } = await build();

    const report = await handler({}, fakeLambdaContext());

    expect(report.failed).toEqual([
      expect.objectContaining({
        sessionId: item.sessionId,
        stage: 'heal',
        error: expect.objectContaining({ errorName: 'EnforcerInvocationError' }),
      }),
    ]);
    expect(JSON.stringify(report.failed)).toContain('AccessDenied');
    expect(counted()).toMatchObject({ ReconcilerHealFailed: 1, ReconcilerSessionsHealed: 0 });
  });

  it('counts a session the enforcer refuses (its row is no longer revoked) as failed, writing nothing', async () => {
    // The index still lists it, but the row the enforcer re-reads says active: a hand edit, or a forged index entry.
    const item = revokedItem();
    sessionRows.set(item.sessionId, { ...item, status: 'active' });
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: input.ExpressionAttributeValues[':shard'] === 'enforce#0' ? [item] : [],
    }));
    const { handler, counted } = await build();

    const report = await handler({}, fakeLambdaContext());

    expect(report.failed).toHaveLength(1);
    expect(JSON.stringify(report.failed)).toContain('EnforcementRefusedError');
    expect(policies.size).toBe(0);
    expect(counted()).toMatchObject({ ReconcilerHealFailed: 1 });
  });

  it('counts an enforcer answer that is not a result as a failed heal', async () => {
    const item = revokedItem();
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: input.ExpressionAttributeValues[':shard'] === 'enforce#0' ? [item] : [],
    }));
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: invokePayload('{"ok":true}') });
    const { handler } = await build();

    const report = await handler({}, fakeLambdaContext());

    expect(report.healed).toEqual([]);
    expect(JSON.stringify(report.failed)).toContain('not a result');
  });

  it('fails the run, counted, when the index cannot be read', async () => {
    dynamo.on(QueryCommand).rejects(new Error('ServiceUnavailable'));
    const { handler, counted } = await build();

    await expect(handler({}, fakeLambdaContext())).rejects.toThrow('ServiceUnavailable');
    expect(counted()).toMatchObject({ ReconcilerRunFailed: 1 });
    expect(policies.size).toBe(0);
  });

  it('refuses an input that is not an object, doing nothing', async () => {
    const { handler } = await build();
    await expect(handler('run', fakeLambdaContext())).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('stops starting work when the Lambda has less than its margin left', async () => {
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: input.ExpressionAttributeValues[':shard'] === 'enforce#0' ? [revokedItem()] : [],
    }));
    const { handler } = await build();
    const report = await handler({}, fakeLambdaContext(5_000));
    expect(report).toMatchObject({ checked: 0, stoppedBy: 'deadline' });
    expect(policies.size).toBe(0);
  });

  it('waits for the enforcer longer than template.yaml lets the enforcer run', async () => {
    const { ENFORCER_INVOKE_TIMEOUT_MS } = await loadModule();
    const enforcerTimeout = loadTemplate().Resources.RevocationEnforcerFunction?.Properties?.Timeout;
    expect(ENFORCER_INVOKE_TIMEOUT_MS).toBeGreaterThan(Number(enforcerTimeout) * 1000);
  });

  it('reads its tables and bounds from the environment, failing its cold start naming a missing variable', async () => {
    const { revocationReconcilerConfigFromEnv } = await loadModule();
    expect(revocationReconcilerConfigFromEnv(ENV)).toEqual({
      sessionsTableName: 'sentinel-sessions-dev',
      denyListTableName: 'sentinel-sessions-deny-list-dev',
      enforcerFunctionArn: ENFORCER_ARN,
      maxHealsPerRun: 100,
      maxSessionsPerRun: 5000,
    });
    expect(
      revocationReconcilerConfigFromEnv({
        ...ENV,
        RECONCILER_MAX_HEALS_PER_RUN: '5',
        RECONCILER_MAX_SESSIONS_PER_RUN: '50',
      }),
    ).toMatchObject({ maxHealsPerRun: 5, maxSessionsPerRun: 50 });
    expect(() => revocationReconcilerConfigFromEnv({ ...ENV, RECONCILER_MAX_HEALS_PER_RUN: '0' })).toThrow(
      /RECONCILER_MAX_HEALS_PER_RUN/,
    );
    await expect(loadModule({ ...ENV, DENY_LIST_TABLE_NAME: undefined })).rejects.toThrow(
      /DENY_LIST_TABLE_NAME/,
    );
    await expect(loadModule({ ...ENV, SESSIONS_TABLE_NAME: ' ' })).rejects.toThrow(/SESSIONS_TABLE_NAME/);
    await expect(loadModule({ ...ENV, REVOCATION_ENFORCER_FUNCTION_ARN: undefined })).rejects.toThrow(
      /REVOCATION_ENFORCER_FUNCTION_ARN/,
    );
  });
});
