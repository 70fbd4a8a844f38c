/**
 * A deny-list table and an IAM that keep state, for the IAM enforcer at volume (tests and the revocation
 * bench): conditional writes as DynamoDB does them, and a role whose inline policies share IAM's 10,240
 * character quota (whitespace not counted), refused with LimitExceeded beyond it. Plus a policy evaluator:
 * does the role's deny policy stop a credential carrying a session tag, issued at a given instant?
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetRolePolicyCommand,
  type IAMClient,
  LimitExceededException,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ManualClock } from '../../local/manual-clock.js';
import { IamAccessEnforcer } from '../../src/adapters/iam-access-enforcer.js';
import {
  DENY_POLICY_NAME,
  IAM_ROLE_INLINE_POLICY_MAX_CHARS,
  SESSION_TAG_KEY,
} from '../../src/domain/deny-list.js';
import { createRevocationEnforcer, type EnforcementResult } from '../../src/usecases/enforce-revocation.js';

const sizeOf = (document: string): number => document.replace(/\s/g, '').length;
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

type Item = Record<string, unknown>;

export interface DenyListWorld {
  readonly clock: ManualClock;
  readonly enforcer: IamAccessEnforcer;
  /** The role's inline policies by name (the deny policy and the others). */
  readonly policies: Map<string, string>;
  readonly rows: Map<string, Item>;
  /** The largest total of the role's inline policies IAM ever accepted. */
  readonly maxInlineChars: () => number;
  /** The largest deny policy IAM ever accepted. */
  readonly maxDenyPolicyChars: () => number;
  /** Whether the deny policy now stops a credential tagged `sessionId`, issued at `issuedAt`. */
  denies(sessionId: string, issuedAt: Date): boolean;
}

/** One role (`roleName`) with another inline policy of `otherPolicyChars` characters. */
export const denyListWorld = (options: {
  readonly roleName: string;
  readonly otherPolicyChars: number;
  readonly start: Date;
}): DenyListWorld => {
  const clock = new ManualClock(options.start);
  const rows = new Map<string, Item>();
  const policies = new Map<string, string>();
  if (options.otherPolicyChars > 0) {
    const filler = 'x'.repeat(Math.max(0, options.otherPolicyChars - 60));
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: filler.slice(0, 1) || 'S',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${filler}`,
        },
      ],
    });
    policies.set('team-permissions', document);
  }
  let maxInline = 0;
  let maxDeny = 0;

  const dynamo = {
    send: async (command: unknown): Promise<unknown> => {
      if (command instanceof GetCommand) {
        const row = rows.get(String(command.input.Key?.roleArn));
        return { Item: row ? structuredClone(row) : undefined };
      }
      if (command instanceof PutCommand) {
        const item = command.input.Item as Item;
        const existing = rows.get(String(item.roleArn));
        const holds =
          command.input.ConditionExpression === 'attribute_not_exists(roleArn)'
            ? existing === undefined
            : existing?.version === command.input.ExpressionAttributeValues?.[':expected'];
        if (!holds) throw conditionFailed();
        rows.set(String(item.roleArn), structuredClone(item));
        return {};
      }
      if (command instanceof UpdateCommand) {
        const key = String(command.input.Key?.roleArn);
        const values = command.input.ExpressionAttributeValues ?? {};
        const existing = rows.get(key);
        if (!existing || existing.version !== values[':version']) throw conditionFailed();
        const { tokenIssuedBefore: _replaced, ...rest } = existing;
        rows.set(key, {
          ...rest,
          enforcedVersion: values[':version'],
          mode: values[':mode'],
          ...(values[':cut'] === undefined ? {} : { tokenIssuedBefore: values[':cut'] }),
        });
        return {};
      }
      throw new Error(`unexpected DynamoDB command ${String(command)}`);
    },
  };

  const iam = {
    send: async (command: unknown): Promise<unknown> => {
      if (command instanceof ListRolePoliciesCommand)
        return { PolicyNames: [...policies.keys()], IsTruncated: false };
      if (command instanceof GetRolePolicyCommand) {
        return { PolicyDocument: encodeURIComponent(policies.get(String(command.input.PolicyName)) ?? '') };
      }
      if (command instanceof PutRolePolicyCommand) {
        const name = String(command.input.PolicyName);
        const document = String(command.input.PolicyDocument);
        const others = [...policies]
          .filter(([n]) => n !== name)
          .reduce((total, [, d]) => total + sizeOf(d), 0);
        if (others + sizeOf(document) > IAM_ROLE_INLINE_POLICY_MAX_CHARS) {
          throw new LimitExceededException({
            message: 'Maximum policy size of 10240 bytes exceeded',
            $metadata: {},
          });
        }
        policies.set(name, document);
        maxInline = Math.max(maxInline, others + sizeOf(document));
        maxDeny = Math.max(maxDeny, sizeOf(document));
        return {};
      }
      throw new Error(`unexpected IAM command ${String(command)}`);
    },
  };

  const enforcer = new IamAccessEnforcer({
    iam: iam as unknown as IAMClient,
    documentClient: dynamo as unknown as DynamoDBDocumentClient,
    tableName: 'deny-list',
    clock,
  });

  return {
    clock,
    enforcer,
    policies,
    rows,
    maxInlineChars: () => maxInline,
    maxDenyPolicyChars: () => maxDeny,
    denies: (sessionId, issuedAt) => {
      const document = policies.get(DENY_POLICY_NAME);
      if (document === undefined) return false;
      const statements = (
        JSON.parse(document) as {
          Statement: { Effect: string; Condition: Record<string, Record<string, unknown>> }[];
        }
      ).Statement;
      return statements.some((statement) => {
        if (statement.Effect !== 'Deny') return false;
        const listed = statement.Condition.StringEquals?.[`aws:PrincipalTag/${SESSION_TAG_KEY}`];
        if (Array.isArray(listed) && listed.includes(sessionId)) return true;
        const cut = statement.Condition.DateLessThan?.['aws:TokenIssueTime'];
        return typeof cut === 'string' && issuedAt.getTime() < Date.parse(cut);
      });
    },
  };
};

export interface VolumeRun {
  readonly results: readonly EnforcementResult[];
  /** Revocations whose session the role's policy denied right after its enforcement, and still at the end. */
  readonly enforced: number;
  readonly enforcedAtEnd: number;
  readonly world: DenyListWorld;
  /** Session ids in revocation order, with the instant each was revoked. */
  readonly revoked: readonly { readonly sessionId: string; readonly revokedAt: Date }[];
}

export const VOLUME_ROLE_ARN = 'arn:aws:iam::123456789012:role/sentinel-prod';

/**
 * `count` revocations on one role, `spacingSeconds` apart (all live: within the hour), each enforced through
 * the use case as the fan-out does, with the session's credential issued just before its revocation.
 */
export const runRevocationVolume = async (options: {
  readonly count: number;
  readonly otherPolicyChars: number;
  readonly spacingSeconds: number;
  readonly start?: Date;
}): Promise<VolumeRun> => {
  const world = denyListWorld({
    roleName: 'sentinel-prod',
    otherPolicyChars: options.otherPolicyChars,
    start: options.start ?? new Date('2026-03-01T12:00:00.000Z'),
  });
  const enforce = createRevocationEnforcer({ enforcer: world.enforcer, clock: world.clock });
  const revoked: { sessionId: string; revokedAt: Date }[] = [];
  const results: EnforcementResult[] = [];
  let enforced = 0;
  for (let n = 0; n < options.count; n++) {
    world.clock.advanceSeconds(options.spacingSeconds);
    const sessionId = (0x5e55_0000 + n).toString(16).padStart(32, '0');
    const revokedAt = world.clock.now();
    revoked.push({ sessionId, revokedAt });
    const expiresAt = new Date(revokedAt.getTime() + 8 * 3_600_000).toISOString();
    results.push(
      await enforce({ sessionId, roleArn: VOLUME_ROLE_ARN, expiresAt, revokedAt: revokedAt.toISOString() }),
    );
    if (world.denies(sessionId, new Date(revokedAt.getTime() - 1))) enforced++;
  }
  const enforcedAtEnd = revoked.filter((r) =>
    world.denies(r.sessionId, new Date(r.revokedAt.getTime() - 1)),
  ).length;
  return { results, enforced, enforcedAtEnd, world, revoked };
};
