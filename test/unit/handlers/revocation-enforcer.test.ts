/**
 * The revocation enforcer handler end to end on mocked IAM and DynamoDB, its configuration read at init, and
 * two handlers built in one process keeping their own deny-list table and clients. The use case's input
 * contract is tested in test/unit/usecases/enforce-revocation.test.ts.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createObservability } from '../../../src/commons/powertools.js';
import { fakeLambdaContext } from '../../support/consumer-fakes.js';

const fixture = JSON.parse(readFileSync('events/enforcer/revoked-session.json', 'utf8')) as Record<
  string,
  string
>;

describe('revocation enforcer handler', () => {
  const iam = mockClient(IAMClient);
  // The adapter talks to the table through the document client.
  const dynamo = mockClient(DynamoDBDocumentClient);
  const policies: Record<string, string> = {};
  const ENV = {
    AWS_REGION: 'eu-west-1',
    DENY_LIST_TABLE_NAME: 'sentinel-sessions-deny-list-dev',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  /** The module as Lambda loads it: its `handler` is built from `env` at import. */
  const loadModule = async (env: Record<string, string | undefined> = ENV) => {
    vi.resetModules();
    vi.unstubAllEnvs();
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    return import('../../../src/handlers/revocation-enforcer.js');
  };
  const loadHandler = async (env: Record<string, string | undefined> = ENV) =>
    (await loadModule(env)).handler;

  beforeEach(() => {
    iam.reset();
    dynamo.reset();
    // One stored row (conditions always hold: no concurrency here, see iam-access-enforcer.test.ts).
    let row: Record<string, unknown> | undefined;
    dynamo.on(GetCommand).callsFake(() => ({ Item: row }));
    dynamo.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      row = input.Item;
      return {};
    });
    iam.on(PutRolePolicyCommand).callsFake((input: { RoleName: string; PolicyDocument: string }) => {
      policies[input.RoleName] = input.PolicyDocument;
      return {};
    });
  });
  afterAll(() => vi.unstubAllEnvs());

  it('denies the fixture session on the sentinel-prod role', async () => {
    // Prepare
    const handler = await loadHandler();
    // Act
    const result = await handler(fixture, fakeLambdaContext());
    // Assess
    expect(result.alreadyDenied).toBe(false);
    expect(JSON.parse(policies['sentinel-prod'] ?? '{}').Statement[0].Condition).toEqual({
      StringEquals: { 'aws:PrincipalTag/SentinelSessionID': ['7f3a9c2e5b1d4e8fa0c6b2d9e4f1a3c5'] },
    });
  });

  it('rethrows a bad input under its name so the workflow fails loudly', async () => {
    const handler = await loadHandler();
    await expect(handler({ sessionId: 'x' }, fakeLambdaContext())).rejects.toMatchObject({
      name: 'InvalidEnforcementInputError',
    });
  });

  it('fails its cold start naming DENY_LIST_TABLE_NAME when it is missing', async () => {
    await expect(loadHandler({ ...ENV, DENY_LIST_TABLE_NAME: undefined })).rejects.toMatchObject({
      name: 'ConfigurationError',
    });
    await expect(loadHandler({ ...ENV, DENY_LIST_TABLE_NAME: '' })).rejects.toThrow(/DENY_LIST_TABLE_NAME/);
  });

  it('revocationEnforcerConfigFromEnv reads DENY_LIST_TABLE_NAME and fails naming it when blank', async () => {
    const { revocationEnforcerConfigFromEnv } = await loadModule();
    expect(revocationEnforcerConfigFromEnv({ DENY_LIST_TABLE_NAME: 'deny-a' })).toEqual({
      denyListTableName: 'deny-a',
    });
    // By name: each loadModule() re-imports src/, so the class differs from one imported here.
    expect(() => revocationEnforcerConfigFromEnv({ DENY_LIST_TABLE_NAME: '  ' })).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        message: 'environment variable DENY_LIST_TABLE_NAME is required but not set',
      }),
    );
  });

  it('two handlers in one process each use their own deny-list table, clients and metrics', async () => {
    // Prepare: a table per name, so each handler reads back only what it wrote.
    const { createRevocationEnforcerHandler } = await loadModule();
    const tables = new Map<string, Record<string, unknown>>();
    dynamo
      .on(GetCommand)
      .callsFake((input: { TableName: string }) => ({ Item: tables.get(input.TableName) }));
    dynamo.on(PutCommand).callsFake((input: { TableName: string; Item: Record<string, unknown> }) => {
      tables.set(input.TableName, input.Item);
      return {};
    });
    const build = (denyListTableName: string) => {
      const clients = {
        iam: new IAMClient({ region: 'us-east-1' }),
        documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      };
      const observability = createObservability({ serviceName: denyListTableName });
      const addMetric = vi.spyOn(observability.metrics, 'addMetric');
      const handler = createRevocationEnforcerHandler({
        config: { denyListTableName },
        clients,
        observability,
      });
      return { handler, clients, addMetric };
    };
    const a = build('deny-list-a');
    const b = build('deny-list-b');
    // Act: the same revocation through both; each table is new to it.
    const first = await a.handler(fixture, fakeLambdaContext());
    const second = await b.handler(fixture, fakeLambdaContext());
    const again = await a.handler(fixture, fakeLambdaContext());
    // Assess
    expect([first.alreadyDenied, second.alreadyDenied, again.alreadyDenied]).toEqual([false, false, true]);
    expect([...tables.keys()]).toEqual(['deny-list-a', 'deny-list-b']);
    // Which handler's client made each call, by identity.
    const who = (client: unknown): string =>
      Object.values(a.clients).includes(client as never)
        ? 'a'
        : Object.values(b.clients).includes(client as never)
          ? 'b'
          : 'neither';
    const writes = dynamo.commandCalls(PutCommand).map((c) => [who(c.thisValue), c.args[0].input.TableName]);
    expect(writes).toEqual([
      ['a', 'deny-list-a'],
      ['b', 'deny-list-b'],
    ]);
    expect(iam.commandCalls(PutRolePolicyCommand).map((c) => who(c.thisValue))).toEqual(['a', 'b', 'a']);
    expect(a.addMetric.mock.calls.map(([name]) => name)).toEqual([
      'RevocationEnforced',
      'RevocationAlreadyEnforced',
    ]);
    expect(b.addMetric.mock.calls.map(([name]) => name)).toEqual(['RevocationEnforced']);
  });
});
