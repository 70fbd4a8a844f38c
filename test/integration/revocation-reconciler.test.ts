/**
 * The revocation reconciler on DynamoDB Local: the Sessions table (its byEnforcement index) and the deny-list
 * table both from template.yaml, the real session store, deny-list reader and IAM enforcer, with IAM mocked
 * (aws-sdk-client-mock) as a role that keeps the policies it is given. Each test runs in its own month of 2091,
 * later than the one before, so earlier tests' revocations are out of its window.
 */
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../local/manual-clock.js';
import { loadTemplate, tableDefinition } from '../../local/template.js';
import { DynamoDbSessionStore, enforceShardOf } from '../../src/adapters/dynamodb-session-store.js';
import { IamAccessEnforcer } from '../../src/adapters/iam-access-enforcer.js';
import { createObservability } from '../../src/commons/powertools.js';
import { DENY_POLICY_NAME, SESSION_TAG_KEY } from '../../src/domain/deny-list.js';
import type { Session } from '../../src/domain/session.js';
import {
  createRevocationEnforcer,
  createVerifiedRevocationEnforcer,
} from '../../src/usecases/enforce-revocation.js';
import { fakeLambdaContext } from '../support/consumer-fakes.js';
import { answerInvokeWith } from '../support/lambda-invoke.js';
import { useLocalTables } from '../support/local-tables.js';
import { at, CONTRACT_POLICY, makeSession } from '../support/session-store-contract.js';

type HandlerModule = typeof import('../../src/handlers/revocation-reconciler.js');

const tables = useLocalTables();
let createRevocationReconcilerHandler: HandlerModule['createRevocationReconcilerHandler'];
let denyListTable: string;
const iam = mockClient(IAMClient);
const lambda = mockClient(LambdaClient);
const ENFORCER_ARN =
  'arn:aws:lambda:us-east-1:123456789012:function:sentinel-sessions-revocation-enforcer-test';
/** Role name → the deny policy IAM holds. */
const policies = new Map<string, string>();

beforeAll(async () => {
  // The module builds its deployed `handler` from the environment at import; these tests build their own.
  vi.stubEnv('SESSIONS_TABLE_NAME', 'unused');
  vi.stubEnv('DENY_LIST_TABLE_NAME', 'unused');
  vi.stubEnv('REVOCATION_ENFORCER_FUNCTION_ARN', 'unused');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  ({ createRevocationReconcilerHandler } = await import('../../src/handlers/revocation-reconciler.js'));
  denyListTable = `${tables.names.SessionsTable}-deny-list`;
  await tables.client.send(
    new CreateTableCommand(tableDefinition(loadTemplate(), 'DenyListTable', denyListTable).create),
  );
  for (;;) {
    const { Table } = await tables.client.send(new DescribeTableCommand({ TableName: denyListTable }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(() => vi.unstubAllEnvs());

beforeEach(() => {
  iam.reset();
  lambda.reset();
  policies.clear();
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [], IsTruncated: false });
  iam
    .on(PutRolePolicyCommand)
    .callsFake((input: { RoleName: string; PolicyName: string; PolicyDocument: string }) => {
      if (input.PolicyName === DENY_POLICY_NAME) policies.set(input.RoleName, input.PolicyDocument);
      return {};
    });
});

let month = 0;
/** A world at the start of the next month of 2091: the store, the fan-out's enforcer and the reconciler. */
const world = (options: { readonly maxHealsPerRun?: number } = {}) => {
  month++;
  const clock = new ManualClock(new Date(Date.UTC(2091, month, 1, 12)));
  const store = new DynamoDbSessionStore({
    documentClient: tables.documentClient,
    tableName: tables.names.SessionsTable,
  });
  const iamEnforcer = new IamAccessEnforcer({
    iam: new IAMClient({ region: 'us-east-1' }),
    documentClient: tables.documentClient,
    tableName: denyListTable,
    clock,
  });
  const fanOut = createRevocationEnforcer({ enforcer: iamEnforcer, clock });
  // The enforcer function the reconciler invokes: it re-reads each row, as deployed.
  const roleOfMonth = `sentinel-r${month}`;
  const deployedEnforcer = createVerifiedRevocationEnforcer({
    enforcer: iamEnforcer,
    sessions: store,
    profiles: [roleOfMonth, 'forced'].map((role) => ({
      name: 'readonly',
      roleArn: `arn:aws:iam::123456789012:role/${role}`,
      policy: CONTRACT_POLICY,
    })),
    clock,
  });
  lambda.on(InvokeCommand).callsFake(answerInvokeWith(ENFORCER_ARN, deployedEnforcer));
  const handler = createRevocationReconcilerHandler({
    config: {
      sessionsTableName: tables.names.SessionsTable,
      denyListTableName: denyListTable,
      enforcerFunctionArn: ENFORCER_ARN,
      maxHealsPerRun: options.maxHealsPerRun ?? 100,
      maxSessionsPerRun: 5000,
    },
    clients: { lambda: new LambdaClient({ region: 'us-east-1' }), documentClient: tables.documentClient },
    observability: createObservability({ serviceName: 'reconciler-test' }),
    clock,
  });
  /** A session on `role`, created 10 minutes ago and revoked 2 minutes ago (past the fan-out's grace); no fan-out ran. */
  const revoke = async (role = roleOfMonth): Promise<Session> => {
    const session = {
      ...makeSession({ now: at(clock.now(), -600) }),
      roleArn: `arn:aws:iam::123456789012:role/${role}`,
    };
    await store.create(session);
    const now = at(clock.now(), -120);
    const result = await store.revoke(session.sessionId, { by: 'ops', reason: 'r', now });
    if (!result.ok) throw new Error('fixture');
    return result.value;
  };
  const run = () => handler({}, fakeLambdaContext());
  return { clock, store, fanOut, run, revoke };
};

const roleNameOf = (session: Session): string => session.roleArn.replace(/^.*:role\//, '');
/** The ids the role's deny policy in IAM lists. */
const deniedIds = (session: Session): string[] => {
  const document = policies.get(roleNameOf(session));
  if (document === undefined) return [];
  const statement = (
    JSON.parse(document) as { Statement: { Condition: { StringEquals?: Record<string, string[]> } }[] }
  ).Statement.find((s) => s.Condition.StringEquals);
  return statement?.Condition.StringEquals?.[`aws:PrincipalTag/${SESSION_TAG_KEY}`] ?? [];
};
const denyRow = async (session: Session) =>
  (
    await tables.documentClient.send(
      new GetCommand({ TableName: denyListTable, Key: { roleArn: session.roleArn }, ConsistentRead: true }),
    )
  ).Item;

describe('revocation reconciler on DynamoDB Local', () => {
  it('writes the revocation onto the byEnforcement index in the revoking write', async () => {
    const w = world();
    const session = await w.revoke();
    const { Item } = await tables.documentClient.send(
      new GetCommand({
        TableName: tables.names.SessionsTable,
        Key: { sessionId: session.sessionId },
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({
      enforceShard: enforceShardOf(session.sessionId, 8),
      enforceSince: session.revokedAt,
    });
    expect(Item).not.toHaveProperty('activeShard');
    // A row created already revoked (an import, a restore) lands on the index too.
    const imported = makeSession({ now: at(w.clock.now(), -600) });
    const revokedAt = at(w.clock.now(), -300).toISOString();
    await w.store.create({ ...imported, status: 'revoked', revokedAt, revokedBy: 'ops', revokedReason: 'r' });
    const listed = await w.store.listEnforceable(at(w.clock.now(), -3900), { limit: 100 });
    expect(listed.items.map((s) => s.sessionId)).toEqual([session.sessionId, imported.sessionId]);
  });

  it('enforces on its next pass a revocation whose fan-out failed (nothing on the deny list)', async () => {
    // Prepare
    const w = world();
    const session = await w.revoke();
    w.clock.advanceSeconds(300);
    expect(await denyRow(session)).toBeUndefined();
    // Act
    const report = await w.run();
    // Assess
    expect(report.healed.map((h) => h.sessionId)).toEqual([session.sessionId]);
    expect(deniedIds(session)).toEqual([session.sessionId]);
    const row = await denyRow(session);
    expect(row?.enforcedVersion).toBe(row?.version);
    expect(Date.parse(String(row?.entries?.[session.sessionId]))).toBeGreaterThanOrEqual(
      Date.parse(session.revokedAt ?? '') + 3900_000,
    );
    // The pass after finds it denied and writes nothing.
    const again = await w.run();
    expect(again).toMatchObject({ checked: 1, denied: 1, healed: [], failed: [] });
    expect((await denyRow(session))?.version).toBe(row?.version);
  });

  it('leaves a session the fan-out already denied untouched', async () => {
    const w = world();
    const session = await w.revoke();
    await w.fanOut({ sessionId: session.sessionId, roleArn: session.roleArn, expiresAt: session.expiresAt });
    const before = await denyRow(session);
    const policy = policies.get(roleNameOf(session));
    w.clock.advanceSeconds(300);

    const report = await w.run();

    expect(report).toMatchObject({ checked: 1, denied: 1, healed: [], failed: [] });
    expect(await denyRow(session)).toEqual(before);
    expect(policies.get(roleNameOf(session))).toBe(policy);
  });

  it('ignores a session revoked more than the credential maximum plus the margin ago', async () => {
    const w = world();
    const session = await w.revoke();
    // Revoked 3,901 s ago: 1 s past the credential maximum plus the margin.
    w.clock.advanceSeconds(3600 + 300 - 120 + 1);

    const report = await w.run();

    expect(report).toMatchObject({ checked: 0, healed: [] });
    expect(await denyRow(session)).toBeUndefined();
  });

  it('drains a backlog larger than one run’s bound over several runs', async () => {
    const w = world({ maxHealsPerRun: 2 });
    const sessions: Session[] = [];
    for (let i = 0; i < 5; i++) {
      sessions.push(await w.revoke());
      w.clock.advanceSeconds(5);
    }

    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(await w.run());

    expect(runs.map((r) => r.healed.length)).toEqual([2, 2, 1, 0]);
    expect(runs.map((r) => r.deferred)).toEqual([3, 1, 0, 0]);
    const first = sessions[0];
    if (!first) throw new Error('fixture');
    expect(deniedIds(first).sort()).toEqual(sessions.map((s) => s.sessionId).sort());
  });

  it('re-enforces a forced expiry like a revocation', async () => {
    const w = world();
    const session = {
      ...makeSession({ now: at(w.clock.now(), -600) }),
      roleArn: 'arn:aws:iam::123456789012:role/forced',
    };
    await w.store.create(session);
    await w.store.expire(session.sessionId, { reason: 'forced', now: at(w.clock.now(), -120), force: true });

    const report = await w.run();

    expect(report.healed.map((h) => h.sessionId)).toEqual([session.sessionId]);
    expect(deniedIds(session)).toEqual([session.sessionId]);
  });
});
