/**
 * AccessEnforcer on IAM: the revoked ids of a profile role live in the inline policy SentinelRevokedSessions
 * on that role (rendered by src/domain/deny-list.ts).
 *
 * Why the list is kept in DynamoDB and the policy only rendered from it: IAM has no conditional write, and
 * its reads are eventually consistent, so a read-modify-write of the policy by two concurrent revocations
 * (GetRolePolicy → PutRolePolicy) can silently drop one id, and re-reading the policy to check cannot be
 * trusted either. The deny-list row (one per role) is updated with a conditional version instead; after
 * each PutRolePolicy the row's version is read again (strongly consistent) and, if another revocation
 * recorded a newer list meanwhile, that list is rendered and put too. So the last policy put always
 * renders the latest list: every revocation ends up in the policy, whatever the interleaving.
 */
import { type IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { parseRoleArn } from '../domain/arn.js';
import type { Clock } from '../domain/clock.js';
import {
  DENY_POLICY_NAME,
  type DenyEntry,
  DenyListFullError,
  IAM_ROLE_INLINE_POLICY_MAX_CHARS,
  nextDenyList,
  renderDenyPolicy,
} from '../domain/deny-list.js';
import { describeError, InvalidInputError, isNamed } from '../domain/errors.js';
import type { AccessEnforcer } from '../ports.js';

/** Concurrent revocations kept changing the list for longer than the attempts allowed. */
export class DenyListContentionError extends Error {
  override readonly name = 'DenyListContentionError';
}

/** The stored deny-list row is not one this adapter wrote (no usable version): refuse to overwrite it. */
export class DenyListRowInvalidError extends Error {
  override readonly name = 'DenyListRowInvalidError';
}

export interface IamAccessEnforcerOptions {
  readonly iam: IAMClient;
  readonly documentClient: DynamoDBDocumentClient;
  /** Deny-list table: partition key `roleArn`. */
  readonly tableName: string;
  readonly clock: Clock;
  /** Budget for this policy; lower it when the role has other inline policies (they share IAM's quota). */
  readonly maxPolicyChars?: number;
  /** Attempts for the conditional write and for publishing the latest list. */
  readonly maxAttempts?: number;
}

interface DenyListRow {
  /** 0 = no row yet. */
  readonly version: number;
  readonly entries: readonly DenyEntry[];
}

/** PutRolePolicy takes the role's name, not its ARN. */
export const roleNameOf = (roleArn: string): string => {
  const parsed = parseRoleArn(roleArn);
  if (!parsed) throw new InvalidInputError(`not an IAM role ARN: ${roleArn}`);
  return parsed.roleName;
};

/** The stored map sessionId → until, read defensively: a malformed entry is ignored, not trusted. */
const entriesOf = (value: unknown): DenyEntry[] =>
  typeof value === 'object' && value !== null
    ? Object.entries(value).flatMap(([sessionId, until]) =>
        typeof until === 'string' ? [{ sessionId, until }] : [],
      )
    : [];

export class IamAccessEnforcer implements AccessEnforcer {
  readonly #options: IamAccessEnforcerOptions;
  readonly #maxAttempts: number;

  constructor(options: IamAccessEnforcerOptions) {
    this.#options = options;
    this.#maxAttempts = options.maxAttempts ?? 8;
  }

  async denySession(input: {
    readonly roleArn: string;
    readonly sessionId: string;
    readonly until: string;
  }): Promise<{ readonly alreadyDenied: boolean }> {
    const roleName = roleNameOf(input.roleArn);
    const recorded = await this.#record(input);
    // Always publish, even when the id was already recorded: an earlier attempt may have stopped between
    // the row and the policy (timeout, IAM error), and the workflow's retry must finish the job.
    await this.#publish(input.roleArn, roleName, recorded.row);
    return { alreadyDenied: recorded.alreadyDenied };
  }

  /** Adds the entry to the role's row with a conditional write, re-reading and retrying on a lost race. */
  async #record(input: {
    readonly roleArn: string;
    readonly sessionId: string;
    readonly until: string;
  }): Promise<{ readonly row: DenyListRow; readonly alreadyDenied: boolean }> {
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const row = await this.#read(input.roleArn);
      const next = nextDenyList(
        row.entries,
        { sessionId: input.sessionId, until: input.until },
        {
          now: this.#options.clock.now(),
          maxChars: this.#options.maxPolicyChars ?? IAM_ROLE_INLINE_POLICY_MAX_CHARS,
        },
      );
      if (next.unchanged) return { row, alreadyDenied: next.alreadyDenied };
      const version = row.version + 1;
      try {
        await this.#options.documentClient.send(
          new PutCommand({
            TableName: this.#options.tableName,
            Item: {
              roleArn: input.roleArn,
              version,
              entries: Object.fromEntries(next.entries.map((e) => [e.sessionId, e.until])),
              updatedAt: this.#options.clock.now().toISOString(),
            },
            ConditionExpression: row.version === 0 ? 'attribute_not_exists(roleArn)' : '#version = :expected',
            ...(row.version === 0
              ? {}
              : {
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':expected': row.version },
                }),
          }),
        );
        return { row: { version, entries: next.entries }, alreadyDenied: next.alreadyDenied };
      } catch (error) {
        // Another revocation of the same role wrote first: read its list and merge again.
        if (!isNamed(error, 'ConditionalCheckFailedException')) throw error;
      }
    }
    throw new DenyListContentionError(
      `the deny list of ${input.roleArn} changed on every one of ${this.#maxAttempts} attempts`,
    );
  }

  /** Puts the policy rendered from `row`, then again from any newer row recorded meanwhile. */
  async #publish(roleArn: string, roleName: string, row: DenyListRow): Promise<void> {
    let current = row;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      try {
        await this.#options.iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: DENY_POLICY_NAME,
            PolicyDocument: JSON.stringify(renderDenyPolicy(current.entries)),
          }),
        );
      } catch (error) {
        // The role's other inline policies leave less room than the budget this enforcer was given.
        if (isNamed(error, 'LimitExceededException', 'LimitExceeded')) {
          throw new DenyListFullError(
            `IAM refused the deny list of ${roleArn} (${current.entries.length} sessions) as too large: ${
              describeError(error).errorMessage ?? ''
            }`,
            { cause: error },
          );
        }
        throw error;
      }
      const latest = await this.#read(roleArn);
      if (latest.version === current.version) return;
      current = latest;
    }
    throw new DenyListContentionError(
      `the deny list of ${roleArn} kept changing while its policy was being put (${this.#maxAttempts} attempts)`,
    );
  }

  async #read(roleArn: string): Promise<DenyListRow> {
    const { Item } = await this.#options.documentClient.send(
      new GetCommand({ TableName: this.#options.tableName, Key: { roleArn }, ConsistentRead: true }),
    );
    if (!Item) return { version: 0, entries: [] };
    const version = Item.version;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
      throw new DenyListRowInvalidError(`deny-list row of ${roleArn} has no valid version`);
    }
    return { version, entries: entriesOf(Item.entries) };
  }
}
