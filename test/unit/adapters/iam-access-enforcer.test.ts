/**
 * IamAccessEnforcer against aws-sdk-client-mock fakes that keep state: a deny-list table that honours the
 * conditional version, and IAM roles whose inline policy is whatever was put last. Tests assert the
 * resulting policy documents, including when another revocation of the same role writes concurrently.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetRolePolicyCommand,
  IAMClient,
  LimitExceededException,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import {
  DenyListContentionError,
  IamAccessEnforcer,
  roleNameOf,
} from '../../../src/adapters/iam-access-enforcer.js';
import {
  DENY_POLICY_NAME,
  DenyListFullError,
  IAM_ROLE_INLINE_POLICY_MAX_CHARS,
} from '../../../src/domain/deny-list.js';
import { InvalidInputError } from '../../../src/domain/errors.js';

const ROLE = 'arn:aws:iam::123456789012:role/sentinel/prod-admin';
const TABLE = 'deny-list';
const id = (n: number): string => n.toString(16).padStart(32, 'a');
const clock = new ManualClock('2026-01-01T12:00:00.000Z');
const at = (hours: number): string => new Date(clock.now().getTime() + hours * 3_600_000).toISOString();

const ddb = mockClient(DynamoDBDocumentClient);
const iam = mockClient(IAMClient);
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const iamClient = new IAMClient({ region: 'us-east-1' });

type Row = {
  roleArn: string;
  version: number;
  entries: Record<string, string>;
  enforcedVersion?: number;
  mode?: string;
  tokenIssuedBefore?: string;
};
let rows: Map<string, Row>;
let policies: Map<string, string>;
/** The role's other inline policies (name → document), sharing IAM's quota with the deny policy. */
let otherPolicies: Map<string, string>;
const sizeOf = (document: string): number => document.replace(/\s/g, '').length;
/** Runs once just before the next conditional put lands (a concurrent writer's window). */
let beforeNextPut: (() => void) | undefined;
/** Runs once just after the next PutRolePolicy lands. */
let afterNextPolicyPut: (() => void) | undefined;

/** What another revocation does to the table: its own conditional write, bumping the version. */
const concurrentlyRecord = (sessionId: string, until: string): void => {
  const row = rows.get(ROLE);
  rows.set(ROLE, {
    roleArn: ROLE,
    version: (row?.version ?? 0) + 1,
    entries: { ...row?.entries, [sessionId]: until },
  });
};

const deniedIds = (roleName: string): string[] => {
  const document = policies.get(roleName);
  if (!document) return [];
  const parsed = JSON.parse(document) as {
    Statement: { Effect: string; Condition: { StringEquals?: Record<string, string[]> } }[];
  };
  return parsed.Statement.flatMap((s) =>
    s.Effect === 'Deny' ? (s.Condition.StringEquals?.['aws:PrincipalTag/SentinelSessionID'] ?? []) : [],
  );
};

beforeEach(() => {
  ddb.reset();
  iam.reset();
  rows = new Map();
  policies = new Map();
  otherPolicies = new Map();
  beforeNextPut = undefined;
  afterNextPolicyPut = undefined;
  ddb.on(GetCommand).callsFake((input: { Key: { roleArn: string } }) => {
    const row = rows.get(input.Key.roleArn);
    return { Item: row ? structuredClone(row) : undefined };
  });
  ddb
    .on(PutCommand)
    .callsFake(
      (input: {
        Item: Row;
        ConditionExpression: string;
        ExpressionAttributeValues?: { ':expected': number };
      }) => {
        const hook = beforeNextPut;
        beforeNextPut = undefined;
        hook?.();
        const existing = rows.get(input.Item.roleArn);
        const holds =
          input.ConditionExpression === 'attribute_not_exists(roleArn)'
            ? existing === undefined
            : existing?.version === input.ExpressionAttributeValues?.[':expected'];
        if (!holds) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        }
        rows.set(input.Item.roleArn, structuredClone(input.Item));
        return {};
      },
    );
  ddb
    .on(UpdateCommand)
    .callsFake(
      (input: {
        Key: { roleArn: string };
        UpdateExpression: string;
        ExpressionAttributeValues: { ':version': number; ':mode': string; ':cut'?: string };
      }) => {
        const existing = rows.get(input.Key.roleArn);
        if (existing?.version !== input.ExpressionAttributeValues[':version']) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        }
        const { tokenIssuedBefore: _dropped, ...rest } = existing;
        const cut = input.ExpressionAttributeValues[':cut'];
        rows.set(input.Key.roleArn, {
          ...rest,
          enforcedVersion: input.ExpressionAttributeValues[':version'],
          mode: input.ExpressionAttributeValues[':mode'],
          ...(cut === undefined ? {} : { tokenIssuedBefore: cut }),
        });
        return {};
      },
    );
  iam.on(ListRolePoliciesCommand).callsFake((input: { RoleName: string }) => ({
    PolicyNames: [...otherPolicies.keys(), ...(policies.has(input.RoleName) ? [DENY_POLICY_NAME] : [])],
    IsTruncated: false,
  }));
  iam.on(GetRolePolicyCommand).callsFake((input: { PolicyName: string }) => ({
    PolicyDocument: encodeURIComponent(otherPolicies.get(input.PolicyName) ?? ''),
  }));
  iam
    .on(PutRolePolicyCommand)
    .callsFake((input: { RoleName: string; PolicyName: string; PolicyDocument: string }) => {
      if (input.PolicyName !== DENY_POLICY_NAME) throw new Error(`unexpected policy ${input.PolicyName}`);
      // IAM's quota: every inline policy of the role together, whitespace not counted.
      const others = [...otherPolicies.values()].reduce((total, d) => total + sizeOf(d), 0);
      if (others + sizeOf(input.PolicyDocument) > IAM_ROLE_INLINE_POLICY_MAX_CHARS) {
        throw new LimitExceededException({
          message: 'Maximum policy size of 10240 bytes exceeded',
          $metadata: {},
        });
      }
      policies.set(input.RoleName, input.PolicyDocument);
      const hook = afterNextPolicyPut;
      afterNextPolicyPut = undefined;
      hook?.();
      return {};
    });
});

const enforcer = (options: { maxPolicyChars?: number; maxAttempts?: number } = {}) =>
  new IamAccessEnforcer({ iam: iamClient, documentClient, tableName: TABLE, clock, ...options });

describe('error names', () => {
  it('are literal, so they survive minification (revocation-fanout retries DenyListContentionError by name)', () => {
    expect(new DenyListContentionError('x').name).toBe('DenyListContentionError');
    expect(new DenyListFullError('x').name).toBe('DenyListFullError');
  });
});

describe('roleNameOf', () => {
  it.each([
    ['arn:aws:iam::123456789012:role/prod', 'prod'],
    [ROLE, 'prod-admin'],
    ['arn:aws-us-gov:iam::123456789012:role/a/b/c.d@e', 'c.d@e'],
  ])('%s → %s', (arn, name) => expect(roleNameOf(arn)).toBe(name));

  it.each([
    'arn:aws:iam::123456789012:user/bob',
    'arn:aws:sts::123456789012:assumed-role/r/s',
    'prod',
    // The one role-ARN parser (domain/arn): partitions this system knows, IAM's name charset.
    'arn:aws-moon:iam::123456789012:role/prod',
    'arn:aws:iam::123456789012:role/prod:admin',
  ])('refuses %s', (arn) => {
    expect(() => roleNameOf(arn)).toThrow(InvalidInputError);
    expect(() => roleNameOf(arn)).toThrow(`not an IAM role ARN: ${arn}`);
  });
});

describe('IamAccessEnforcer', () => {
  it('puts a policy on the role that denies everything to the revoked session', async () => {
    // Act
    const result = await enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    // Assess
    expect(result).toEqual({ alreadyDenied: false, mode: 'session-tag' });
    expect(JSON.parse(policies.get('prod-admin') ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyRevokedSentinelSessions',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalTag/SentinelSessionID': [id(1)] } },
        },
      ],
    });
    // Recorded as denied (enforcedVersion) only once IAM accepted the policy of that version.
    expect(rows.get(ROLE)).toMatchObject({
      version: 1,
      entries: { [id(1)]: at(2) },
      enforcedVersion: 1,
      mode: 'session-tag',
    });
  });

  it('adds to the ids already denied and prunes those past their until', async () => {
    // Prepare
    rows.set(ROLE, { roleArn: ROLE, version: 4, entries: { [id(2)]: at(1), [id(3)]: at(-1) } });
    // Act
    await enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    // Assess
    expect(deniedIds('prod-admin')).toEqual([id(1), id(2)]);
    expect(rows.get(ROLE)).toMatchObject({ version: 5, entries: { [id(1)]: at(2), [id(2)]: at(1) } });
  });

  it('is idempotent: a repeat after an unfinished attempt re-puts the policy; only then is it already denied', async () => {
    // Prepare: the row was written but the policy put never happened (e.g. the Lambda timed out)
    rows.set(ROLE, { roleArn: ROLE, version: 1, entries: { [id(1)]: at(2) } });
    // Act
    const retry = await enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    const repeat = await enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    // Assess: IAM had not accepted it before the retry, so it was not "already denied" then.
    expect(retry).toEqual({ alreadyDenied: false, mode: 'session-tag' });
    expect(repeat).toEqual({ alreadyDenied: true, mode: 'session-tag' });
    expect(deniedIds('prod-admin')).toEqual([id(1)]);
    expect(rows.get(ROLE)).toMatchObject({ version: 1, enforcedVersion: 1 });
  });

  it('does not record a version as enforced when IAM refused its policy', async () => {
    iam.on(PutRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'no role', $metadata: {} }));
    await expect(enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) })).rejects.toThrow();
    expect(rows.get(ROLE)).toMatchObject({ version: 1, entries: { [id(1)]: at(2) } });
    expect(rows.get(ROLE)?.enforcedVersion).toBe(0);
  });

  it('loses no id when another revocation records first (conditional write lost, merged on retry)', async () => {
    // Prepare: between our read and our write, session 2 of the same role is recorded
    beforeNextPut = () => concurrentlyRecord(id(2), at(3));
    // Act
    await enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    // Assess
    expect(deniedIds('prod-admin')).toEqual([id(1), id(2)]);
    expect(rows.get(ROLE)).toMatchObject({ version: 2, entries: { [id(1)]: at(2), [id(2)]: at(3) } });
  });

  it('re-puts the latest list when another revocation recorded one while our stale policy was put', async () => {
    // Prepare: right after our PutRolePolicy lands, the other writer records session 2 (its own policy put
    // happened earlier and rendered only its view; ours would otherwise be the last one standing)
    afterNextPolicyPut = () => concurrentlyRecord(id(2), at(3));
    // Act
    await enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    // Assess
    expect(deniedIds('prod-admin')).toEqual([id(1), id(2)]);
  });

  it('converges when many revocations of one role run at once', async () => {
    // Act
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) =>
        enforcer().denySession({ roleArn: ROLE, sessionId: id(n), until: at(n) }),
      ),
    );
    // Assess
    expect(results.every((r) => !r.alreadyDenied)).toBe(true);
    expect(deniedIds('prod-admin')).toEqual([1, 2, 3, 4, 5, 6].map(id));
  });

  it('fails with a named error when the row keeps changing under it', async () => {
    // Prepare: every write loses
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    // Act / Assess
    await expect(
      enforcer({ maxAttempts: 3 }).denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) }),
    ).rejects.toThrow(DenyListContentionError);
    expect(policies.size).toBe(0);
  });

  it('never refuses: past the budget the oldest ids go under a token-issue-time cut, and the mode is reported', async () => {
    // Prepare: two live ids; a budget with room for about two
    rows.set(ROLE, { roleArn: ROLE, version: 1, entries: { [id(2)]: at(0.5), [id(3)]: at(0.6) } });
    // Act
    const result = await enforcer({ maxPolicyChars: 260 }).denySession({
      roleArn: ROLE,
      sessionId: id(1),
      until: at(2),
    });
    // Assess: nothing dropped from the list; the policy fits and covers all three.
    expect(result).toMatchObject({ alreadyDenied: false, mode: 'token-issue-time' });
    expect(result.tokenIssuedBefore).toBeDefined();
    expect(Object.keys(rows.get(ROLE)?.entries ?? {}).sort()).toEqual([id(1), id(2), id(3)].sort());
    expect(sizeOf(policies.get('prod-admin') ?? '')).toBeLessThanOrEqual(260);
    expect(rows.get(ROLE)).toMatchObject({
      mode: 'token-issue-time',
      tokenIssuedBefore: result.tokenIssuedBefore,
    });
  });

  it('measures the role’s other inline policies and leaves them room', async () => {
    // Prepare: another inline policy of 10,000 characters leaves 240 for ours
    otherPolicies.set(
      'team-policy',
      JSON.stringify({ Version: '2012-10-17', Sid: 'x'.repeat(9960) }).padEnd(10_000, ' '),
    );
    rows.set(ROLE, { roleArn: ROLE, version: 1, entries: { [id(2)]: at(0.5), [id(3)]: at(0.6) } });
    // Act
    const result = await enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    // Assess
    expect(result.mode).toBe('token-issue-time');
    expect(
      sizeOf(policies.get('prod-admin') ?? '') + sizeOf(otherPolicies.get('team-policy') ?? ''),
    ).toBeLessThanOrEqual(IAM_ROLE_INLINE_POLICY_MAX_CHARS);
  });

  it('shrinks its budget and tries again when IAM refuses the size after all (another policy grew meanwhile)', async () => {
    // Prepare: the other policy grows right after it was measured
    rows.set(ROLE, { roleArn: ROLE, version: 1, entries: { [id(2)]: at(0.5), [id(3)]: at(0.6) } });
    iam.on(GetRolePolicyCommand).callsFakeOnce(() => ({ PolicyDocument: encodeURIComponent('{}') }));
    otherPolicies.set('team-policy', `{"Sid":"${'y'.repeat(9990)}"}`);
    // Act
    const result = await enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    // Assess
    expect(result.mode).toBe('token-issue-time');
    expect(rows.get(ROLE)?.enforcedVersion).toBe(2);
  });

  it('names a full list when IAM refuses the size (other inline policies share the quota)', async () => {
    iam
      .on(PutRolePolicyCommand)
      .rejects(
        new LimitExceededException({ message: 'Maximum policy size of 10240 bytes exceeded', $metadata: {} }),
      );
    const refused = enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) });
    await expect(refused).rejects.toThrow(DenyListFullError);
    // IAM's own reason is kept in the message.
    await expect(refused).rejects.toThrow(
      `IAM refused the deny list of ${ROLE} (1 sessions) as too large: Maximum policy size of 10240 bytes exceeded`,
    );
  });

  it('lets other IAM errors through under their own name (a missing role is not retried away)', async () => {
    iam
      .on(PutRolePolicyCommand)
      .rejects(new NoSuchEntityException({ message: 'The role cannot be found', $metadata: {} }));
    await expect(
      enforcer().denySession({ roleArn: ROLE, sessionId: id(1), until: at(2) }),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('refuses a role ARN it cannot name before touching anything', async () => {
    await expect(
      enforcer().denySession({ roleArn: 'arn:aws:iam::123456789012:user/x', sessionId: id(1), until: at(2) }),
    ).rejects.toThrow(InvalidInputError);
    expect(rows.size + policies.size).toBe(0);
  });
});
