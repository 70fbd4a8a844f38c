/**
 * Profile roles in other accounts: the enforcer writes there only through the enforcement role of that account
 * (template-member.yaml), assumed with STS and cached per account until shortly before its credentials expire.
 * STS and IAM are aws-sdk-client-mock fakes; the deny-list table is a map.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import {
  ASSUMED_CREDENTIALS_REFRESH_SECONDS,
  type AssumedCredentials,
  CrossAccountIamClients,
  ENFORCER_SESSION_NAME,
  EnforcementRoleUnavailableError,
} from '../../../src/adapters/cross-account-iam.js';
import { IamAccessEnforcer } from '../../../src/adapters/iam-access-enforcer.js';
import { DENY_POLICY_NAME } from '../../../src/domain/deny-list.js';

const HOME = '123456789012';
const MEMBER = '210987654321';
const OTHER_MEMBER = '333333333333';
const HOME_ROLE = `arn:aws:iam::${HOME}:role/sentinel-prod`;
const MEMBER_ROLE = `arn:aws:iam::${MEMBER}:role/sentinel/member-admin`;
const ROLE_NAME = 'sentinel-sessions-enforcer-dev';
const id = (n: number): string => n.toString(16).padStart(32, 'a');

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const ddb = mockClient(DynamoDBDocumentClient);
const home = new IAMClient({ region: 'us-east-1' });

let clock: ManualClock;
/** Which account each AssumeRole was for, and the credentials each member client was built with. */
let assumed: string[];
let built: Map<IAMClient, AssumedCredentials>;
let issued: number;

const provider = () =>
  new CrossAccountIamClients({
    homeAccountId: HOME,
    home,
    sts: new STSClient({ region: 'eu-west-1' }),
    enforcementRoleName: ROLE_NAME,
    clock,
    clientWith: (credentials) => {
      const client = new IAMClient({ region: 'us-east-1', credentials });
      built.set(client, credentials);
      return client;
    },
  });

beforeEach(() => {
  sts.reset();
  iam.reset();
  ddb.reset();
  clock = new ManualClock('2026-01-01T12:00:00.000Z');
  assumed = [];
  built = new Map();
  issued = 0;
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
    assumed.push(input.RoleArn);
    issued += 1;
    return {
      Credentials: {
        AccessKeyId: `ASIA${issued}`,
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(clock.now().getTime() + 3_600_000),
      },
    };
  });
});

describe('CrossAccountIamClients', () => {
  it('uses the function’s own client for a role of its own account, assuming nothing', async () => {
    expect(await provider().clientFor(HOME_ROLE)).toBe(home);
    expect(assumed).toEqual([]);
  });

  it('assumes the member account’s enforcement role (same partition, fixed name) and caches it per account', async () => {
    const clients = provider();
    const first = await clients.clientFor(MEMBER_ROLE);
    const again = await clients.clientFor(`arn:aws:iam::${MEMBER}:role/other-profile`);
    const other = await clients.clientFor(`arn:aws:iam::${OTHER_MEMBER}:role/x`);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(assumed).toEqual([
      `arn:aws:iam::${MEMBER}:role/${ROLE_NAME}`,
      `arn:aws:iam::${OTHER_MEMBER}:role/${ROLE_NAME}`,
    ]);
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: `arn:aws:iam::${MEMBER}:role/${ROLE_NAME}`,
      RoleSessionName: ENFORCER_SESSION_NAME,
      DurationSeconds: 3600,
    });
    expect(built.get(first)?.accessKeyId).toBe('ASIA1');
    expect(provider().enforcementRoleArnFor(`arn:aws-us-gov:iam::${MEMBER}:role/p`)).toBe(
      `arn:aws-us-gov:iam::${MEMBER}:role/${ROLE_NAME}`,
    );
  });

  it('renews the credentials shortly before they expire, not earlier', async () => {
    const clients = provider();
    const first = await clients.clientFor(MEMBER_ROLE);
    clock.advanceSeconds(3600 - ASSUMED_CREDENTIALS_REFRESH_SECONDS - 1);
    expect(await clients.clientFor(MEMBER_ROLE)).toBe(first);
    clock.advanceSeconds(2);
    const renewed = await clients.clientFor(MEMBER_ROLE);
    expect(renewed).not.toBe(first);
    expect(built.get(renewed)?.accessKeyId).toBe('ASIA2');
  });

  it('shares one AssumeRole between concurrent enforcements in the same account', async () => {
    const clients = provider();
    const [a, b, c] = await Promise.all([
      clients.clientFor(MEMBER_ROLE),
      clients.clientFor(MEMBER_ROLE),
      clients.clientFor(MEMBER_ROLE),
    ]);
    expect(new Set([a, b, c]).size).toBe(1);
    expect(assumed).toHaveLength(1);
  });

  it('reports an account without a trusting enforcement role by name, and tries again next time', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejects(
        Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }),
      );
    const clients = provider();
    await expect(clients.clientFor(MEMBER_ROLE)).rejects.toThrow(EnforcementRoleUnavailableError);
    await expect(clients.clientFor(MEMBER_ROLE)).rejects.toThrow(/template-member\.yaml/);
    // The failure was not cached: once the role exists, the next enforcement gets through.
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAOK',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: new Date('2026-01-01T13:00:00Z'),
      },
    });
    expect(built.get(await clients.clientFor(MEMBER_ROLE))?.accessKeyId).toBe('ASIAOK');
  });

  it('refuses an answer without credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({});
    await expect(provider().clientFor(MEMBER_ROLE)).rejects.toThrow(EnforcementRoleUnavailableError);
  });

  it.each([
    ['an account id that is not 12 digits', { homeAccountId: '1234' }],
    ['a role name with a path', { enforcementRoleName: 'a/b' }],
    ['an empty role name', { enforcementRoleName: '' }],
  ])('refuses %s at construction', (_name, overrides) => {
    expect(
      () =>
        new CrossAccountIamClients({
          homeAccountId: HOME,
          home,
          sts: new STSClient({ region: 'eu-west-1' }),
          enforcementRoleName: ROLE_NAME,
          clock,
          ...overrides,
        }),
    ).toThrow(expect.objectContaining({ name: 'ConfigurationError' }));
  });
});

describe('IamAccessEnforcer across accounts', () => {
  /** Deny-list rows by role ARN. */
  let rows: Map<string, Record<string, unknown>>;

  beforeEach(() => {
    rows = new Map();
    ddb
      .on(GetCommand)
      .callsFake((input: { Key: { roleArn: string } }) => ({ Item: rows.get(input.Key.roleArn) }));
    ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
      rows.set(input.Item.roleArn as string, input.Item);
      return {};
    });
    ddb
      .on(UpdateCommand)
      .callsFake(
        (input: { Key: { roleArn: string }; ExpressionAttributeValues: Record<string, unknown> }) => {
          const row = rows.get(input.Key.roleArn);
          if (row)
            rows.set(input.Key.roleArn, {
              ...row,
              enforcedVersion: input.ExpressionAttributeValues[':version'],
            });
          return {};
        },
      );
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
  });

  const enforcer = () =>
    new IamAccessEnforcer({
      iam: home,
      iamFor: provider(),
      documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      tableName: 'deny-list',
      clock,
    });

  it('puts the deny policy on a member account’s role with that account’s credentials', async () => {
    iam.on(PutRolePolicyCommand).resolves({});
    const outcome = await enforcer().denySession({
      roleArn: MEMBER_ROLE,
      sessionId: id(1),
      until: '2026-01-01T13:05:00.000Z',
    });
    expect(outcome).toMatchObject({ alreadyDenied: false, mode: 'session-tag' });
    const puts = iam.commandCalls(PutRolePolicyCommand);
    expect(puts.map((c) => [c.args[0].input.RoleName, c.args[0].input.PolicyName])).toEqual([
      ['member-admin', DENY_POLICY_NAME],
    ]);
    expect(built.get(puts[0]?.thisValue as IAMClient)?.accessKeyId).toBe('ASIA1');
    // The other inline policies were measured in the member account too.
    expect(iam.commandCalls(ListRolePoliciesCommand).map((c) => c.thisValue === home)).toEqual([false]);
    expect(rows.get(MEMBER_ROLE)).toMatchObject({ version: 1, enforcedVersion: 1 });
  });

  it('writes nothing, not even the deny-list row, when the member account’s role cannot be assumed', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(
      enforcer().denySession({ roleArn: MEMBER_ROLE, sessionId: id(1), until: '2026-01-01T13:05:00.000Z' }),
    ).rejects.toThrow(EnforcementRoleUnavailableError);
    expect(rows.size).toBe(0);
    expect(iam.commandCalls(PutRolePolicyCommand)).toEqual([]);
  });

  it('keeps writing its own account’s roles with its own client', async () => {
    iam.on(PutRolePolicyCommand).resolves({});
    await enforcer().denySession({ roleArn: HOME_ROLE, sessionId: id(2), until: '2026-01-01T13:05:00.000Z' });
    expect(iam.commandCalls(PutRolePolicyCommand).map((c) => c.thisValue === home)).toEqual([true]);
    expect(assumed).toEqual([]);
  });
});
