/**
 * The revocation enforcer handler end to end on mocked IAM and DynamoDB, its configuration read at init, and
 * two handlers built in one process keeping their own deny-list table and clients. The use case's input
 * contract is tested in test/unit/usecases/enforce-revocation.test.ts.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createObservability } from '../../../src/commons/powertools.js';
import { fakeLambdaContext } from '../../support/consumer-fakes.js';

const fixture = JSON.parse(readFileSync('events/enforcer/revoked-session.json', 'utf8')) as Record<
  string,
  string
>;

const SESSIONS_TABLE = 'sentinel-sessions-dev';
const PROFILES = {
  prod: {
    roleArn: fixture.roleArn,
    maxDurationSeconds: 3600,
    idleTimeoutSeconds: 3600,
    maxLifetimeSeconds: 43_200,
  },
  // A profile role in a member account: written through its enforcement role.
  member: {
    roleArn: 'arn:aws:iam::210987654321:role/sentinel-member',
    maxDurationSeconds: 3600,
    idleTimeoutSeconds: 3600,
    maxLifetimeSeconds: 43_200,
  },
};
const minutes = (base: Date, n: number): string => new Date(base.getTime() + n * 60_000).toISOString();
/**
 * The Sessions row behind the fixture, around `base` (the enforcer's now: the deployed handler runs on the
 * wall clock): created 30 minutes before, revoked a minute before, expiring 30 minutes after.
 */
const sessionRow = (
  overrides: Record<string, unknown> = {},
  base: Date = new Date(),
): Record<string, unknown> => ({
  sessionId: fixture.sessionId,
  user: 'alice',
  principalArn: 'arn:aws:iam::123456789012:role/alice',
  profile: 'prod',
  roleArn: fixture.roleArn,
  sourceIdentity: 'alice',
  status: 'revoked',
  createdAt: minutes(base, -30),
  lastAccessAt: minutes(base, -30),
  expiresAt: minutes(base, 30),
  maxExpiresAt: minutes(base, 60),
  requestCount: 1,
  version: 2,
  revokedAt: minutes(base, -1),
  revokedBy: 'arn:aws:iam::123456789012:role/operator',
  revokedReason: 'laptop lost',
  ttl: 3_786_000_000,
  ...overrides,
});

describe('revocation enforcer handler', () => {
  const iam = mockClient(IAMClient);
  const sts = mockClient(STSClient);
  // The adapter talks to the table through the document client.
  const dynamo = mockClient(DynamoDBDocumentClient);
  const policies: Record<string, string> = {};
  const ENV = {
    AWS_REGION: 'eu-west-1',
    DENY_LIST_TABLE_NAME: 'sentinel-sessions-deny-list-dev',
    SESSIONS_TABLE_NAME: SESSIONS_TABLE,
    PROFILES: JSON.stringify(PROFILES),
    ENFORCER_ACCOUNT_ID: '123456789012',
    ENFORCEMENT_ROLE_NAME: 'sentinel-sessions-enforcer-dev',
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

  /** The Sessions table's rows, by session id. */
  let sessions: Map<string, Record<string, unknown>>;
  /** Deny-list rows written (conditions always hold: no concurrency here, see iam-access-enforcer.test.ts). */
  let denyRows: Map<string, Record<string, unknown>>;
  beforeEach(() => {
    iam.reset();
    dynamo.reset();
    sts.reset();
    for (const key of Object.keys(policies)) delete policies[key];
    sessions = new Map([[fixture.sessionId as string, sessionRow()]]);
    denyRows = new Map();
    dynamo
      .on(GetCommand)
      .callsFake((input: { TableName: string; Key: Record<string, string> }) =>
        input.TableName === SESSIONS_TABLE
          ? { Item: sessions.get(input.Key.sessionId ?? '') }
          : { Item: denyRows.get(input.Key.roleArn ?? '') },
      );
    dynamo.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      denyRows.set(input.Item.roleArn as string, input.Item);
      return {};
    });
    iam.on(PutRolePolicyCommand).callsFake((input: { RoleName: string; PolicyDocument: string }) => {
      policies[input.RoleName] = input.PolicyDocument;
      return {};
    });
  });
  afterAll(() => vi.unstubAllEnvs());
  const config = () => ({
    denyListTableName: 'deny',
    sessionsTableName: SESSIONS_TABLE,
    profiles: new Map([
      [
        'prod',
        {
          name: 'prod',
          roleArn: fixture.roleArn as string,
          maxDurationSeconds: 3600,
          policy: { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 43_200 },
        },
      ],
    ]),
    accountId: '123456789012',
    enforcementRoleName: 'sentinel-sessions-enforcer-dev',
  });
  const clients = () => ({
    iam: new IAMClient({ region: 'us-east-1' }),
    sts: new STSClient({ region: 'eu-west-1' }),
    documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
  });

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

  it('refuses a forged input (a session that is still active), writing nothing, counted and logged', async () => {
    sessions.set(
      fixture.sessionId as string,
      sessionRow({ status: 'active', revokedAt: undefined, revokedBy: undefined, revokedReason: undefined }),
    );
    const { createRevocationEnforcerHandler } = await loadModule();
    const observability = createObservability({ serviceName: 'refusal' });
    const addMetric = vi.spyOn(observability.metrics, 'addMetric');
    const logged = vi.spyOn(observability.logger, 'error');
    const handler = createRevocationEnforcerHandler({
      config: { ...config(), denyListTableName: 'deny' },
      clients: clients(),
      observability,
      clock: { now: () => new Date('2090-01-01T12:00:30.000Z') },
    });
    await expect(handler(fixture, fakeLambdaContext())).rejects.toMatchObject({
      name: 'EnforcementRefusedError',
      reason: 'not-enforceable',
    });
    expect(denyRows.size).toBe(0);
    expect(policies).toEqual({});
    expect(addMetric.mock.calls.map(([name]) => name)).toEqual(['RevocationEnforcementRefused']);
    expect(logged.mock.calls[0]?.[1]).toMatchObject({ reason: 'not-enforceable', input: fixture });
  });

  it('writes the deny on a member account’s profile role with that account’s enforcement role', async () => {
    const memberRole = PROFILES.member.roleArn;
    sessions.set(fixture.sessionId as string, sessionRow({ roleArn: memberRole, profile: 'member' }));
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAMEMBER',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date('2999-01-01T00:00:00.000Z'),
      },
    });
    const handler = await loadHandler();
    await handler({ ...fixture, roleArn: memberRole }, fakeLambdaContext());
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([
      'arn:aws:iam::210987654321:role/sentinel-sessions-enforcer-dev',
    ]);
    // The policy went out with the assumed credentials, not the function's own.
    const put = iam.commandCalls(PutRolePolicyCommand);
    expect(put.map((c) => c.args[0].input.RoleName)).toEqual(['sentinel-member']);
    const client = put[0]?.thisValue as IAMClient | undefined;
    expect(await client?.config.credentials()).toMatchObject({ accessKeyId: 'ASIAMEMBER' });
  });

  it.each([
    ['SESSIONS_TABLE_NAME', undefined, /SESSIONS_TABLE_NAME/],
    ['PROFILES', '{"prod": {}}', /PROFILES/],
    ['ENFORCER_ACCOUNT_ID', '12345', /ENFORCER_ACCOUNT_ID/],
    ['ENFORCEMENT_ROLE_NAME', 'role/with/slashes', /ENFORCEMENT_ROLE_NAME/],
  ])('fails its cold start naming %s when it is missing or invalid', async (name, value, message) => {
    await expect(loadHandler({ ...ENV, [name]: value })).rejects.toThrow(message);
  });

  it('fails its cold start naming DENY_LIST_TABLE_NAME when it is missing', async () => {
    await expect(loadHandler({ ...ENV, DENY_LIST_TABLE_NAME: undefined })).rejects.toMatchObject({
      name: 'ConfigurationError',
    });
    await expect(loadHandler({ ...ENV, DENY_LIST_TABLE_NAME: '' })).rejects.toThrow(/DENY_LIST_TABLE_NAME/);
  });

  it('revocationEnforcerConfigFromEnv reads DENY_LIST_TABLE_NAME and fails naming it when blank', async () => {
    const { revocationEnforcerConfigFromEnv } = await loadModule();
    expect(revocationEnforcerConfigFromEnv({ ...ENV, DENY_LIST_TABLE_NAME: 'deny-a' })).toMatchObject({
      denyListTableName: 'deny-a',
      sessionsTableName: SESSIONS_TABLE,
      accountId: '123456789012',
      enforcementRoleName: 'sentinel-sessions-enforcer-dev',
    });
    // By name: each loadModule() re-imports src/, so the class differs from one imported here.
    expect(() => revocationEnforcerConfigFromEnv({ ...ENV, DENY_LIST_TABLE_NAME: '  ' })).toThrow(
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
      .callsFake((input: { TableName: string }) =>
        input.TableName === SESSIONS_TABLE
          ? { Item: sessionRow({}, new Date('2090-01-01T12:00:00.000Z')) }
          : { Item: tables.get(input.TableName) },
      );
    dynamo.on(PutCommand).callsFake((input: { TableName: string; Item: Record<string, unknown> }) => {
      tables.set(input.TableName, input.Item);
      return {};
    });
    // Marking a version enforced once IAM accepted its policy.
    dynamo
      .on(UpdateCommand)
      .callsFake((input: { TableName: string; ExpressionAttributeValues: { ':version': number } }) => {
        const row = tables.get(input.TableName);
        if (row)
          tables.set(input.TableName, {
            ...row,
            enforcedVersion: input.ExpressionAttributeValues[':version'],
          });
        return {};
      });
    const build = (denyListTableName: string) => {
      const clients = {
        iam: new IAMClient({ region: 'us-east-1' }),
        sts: new STSClient({ region: 'eu-west-1' }),
        documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      };
      const observability = createObservability({ serviceName: denyListTableName });
      const addMetric = vi.spyOn(observability.metrics, 'addMetric');
      const handler = createRevocationEnforcerHandler({
        config: { ...config(), denyListTableName },
        clients,
        observability,
        // Fixed, so a repeat asks for the same `until` (a later clock would extend the entry, a write).
        clock: { now: () => new Date('2090-01-01T12:00:00.000Z') },
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
