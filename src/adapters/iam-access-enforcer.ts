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
 *
 * The row records which of its versions IAM has accepted (`enforcedVersion`, set only after PutRolePolicy
 * succeeded, conditional on the version it rendered): an id counts as denied only then. The policy's budget
 * is IAM's role quota minus the role's other inline policies, measured (ListRolePolicies, GetRolePolicy) on
 * every enforcement; when the list does not fit, the policy covers its oldest entries with a token-issue-time
 * cut (src/domain/deny-list.ts planDenyPolicy), and IAM refusing the size anyway shrinks the budget and
 * tries again.
 */
import {
  GetRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { parseRoleArn } from '../domain/arn.js';
import type { Clock } from '../domain/clock.js';
import {
  DENY_POLICY_NAME,
  type DenyEntry,
  DenyListFullError,
  type DenyMode,
  type DenyPolicyPlan,
  IAM_ROLE_INLINE_POLICY_MAX_CHARS,
  nextDenyList,
  planDenyPolicy,
} from '../domain/deny-list.js';
import { describeError, InvalidInputError, isNamed } from '../domain/errors.js';
import type { AccessEnforcer } from '../ports.js';
import type { IamClientProvider } from './cross-account-iam.js';

/** Concurrent revocations kept changing the list for longer than the attempts allowed. */
export class DenyListContentionError extends Error {
  override readonly name = 'DenyListContentionError';
}

/** The stored deny-list row is not one this adapter wrote (no usable version): refuse to overwrite it. */
export class DenyListRowInvalidError extends Error {
  override readonly name = 'DenyListRowInvalidError';
}

export interface IamAccessEnforcerOptions {
  /** The enforcer's own account's IAM client: used for every role unless `iamFor` is given. */
  readonly iam: IAMClient;
  /**
   * The IAM client that may write on a given role: a profile role in another account is reached through that
   * account's enforcement role (src/adapters/cross-account-iam.ts). Default: `iam` for every role.
   */
  readonly iamFor?: IamClientProvider;
  readonly documentClient: DynamoDBDocumentClient;
  /** Deny-list table: partition key `roleArn`. */
  readonly tableName: string;
  readonly clock: Clock;
  /**
   * Ceiling for this policy (default IAM's role quota). The role's other inline policies are measured and
   * subtracted from the quota as well; the smaller budget wins.
   */
  readonly maxPolicyChars?: number;
  /** Attempts for the conditional write and for publishing the latest list. */
  readonly maxAttempts?: number;
}

export interface DenySessionOutcome {
  readonly alreadyDenied: boolean;
  readonly mode: DenyMode;
  readonly tokenIssuedBefore?: string;
}

interface DenyListRow {
  /** 0 = no row yet. */
  readonly version: number;
  readonly entries: readonly DenyEntry[];
  /** The version whose policy IAM last accepted (0 = none). */
  readonly enforcedVersion: number;
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

const versionOf = (value: unknown): number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;

/** Size as IAM counts it (whitespace excluded) of a policy document as GetRolePolicy returns it (URL-encoded). */
export const storedPolicySize = (urlEncoded: string): number => {
  let text: string;
  try {
    text = decodeURIComponent(urlEncoded);
  } catch {
    text = urlEncoded;
  }
  return text.replace(/\s/g, '').length;
};

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
  }): Promise<DenySessionOutcome> {
    const roleName = roleNameOf(input.roleArn);
    // Resolved before anything is recorded: a member account whose enforcement role cannot be assumed
    // fails here, leaving the table as it was.
    const iam =
      this.#options.iamFor === undefined
        ? this.#options.iam
        : await this.#options.iamFor.clientFor(input.roleArn);
    const recorded = await this.#record(input);
    // Always publish, even when the id was already recorded: an earlier attempt may have stopped between
    // the row and the policy (timeout, IAM error), and the workflow's retry must finish the job.
    const plan = await this.#publish(iam, input.roleArn, roleName, recorded.row);
    return {
      alreadyDenied: recorded.alreadyDenied,
      mode: plan.mode,
      ...(plan.tokenIssuedBefore === undefined ? {} : { tokenIssuedBefore: plan.tokenIssuedBefore }),
    };
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
        { now: this.#options.clock.now() },
      );
      // Denied only if listed and IAM has accepted the policy rendered from this very row.
      const alreadyDenied = next.alreadyDenied && row.version > 0 && row.enforcedVersion === row.version;
      if (next.unchanged) return { row, alreadyDenied };
      const version = row.version + 1;
      try {
        await this.#options.documentClient.send(
          new PutCommand({
            TableName: this.#options.tableName,
            Item: {
              roleArn: input.roleArn,
              version,
              entries: Object.fromEntries(next.entries.map((e) => [e.sessionId, e.until])),
              enforcedVersion: row.enforcedVersion,
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
        return {
          row: { version, entries: next.entries, enforcedVersion: row.enforcedVersion },
          alreadyDenied,
        };
      } catch (error) {
        // Another revocation of the same role wrote first: read its list and merge again.
        if (!isNamed(error, 'ConditionalCheckFailedException')) throw error;
      }
    }
    throw new DenyListContentionError(
      `the deny list of ${input.roleArn} changed on every one of ${this.#maxAttempts} attempts`,
    );
  }

  /**
   * Puts the policy planned from `row`, then marks that version enforced; when another revocation recorded a
   * newer row meanwhile, plans and puts that one instead. Returns the plan IAM accepted last.
   */
  async #publish(
    iam: IAMClient,
    roleArn: string,
    roleName: string,
    row: DenyListRow,
  ): Promise<DenyPolicyPlan> {
    let current = row;
    let budget = await this.#budget(iam, roleName);
    let refusedBySize: unknown;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      let plan: DenyPolicyPlan;
      try {
        plan = planDenyPolicy(current.entries, { now: this.#options.clock.now(), maxChars: budget });
      } catch (error) {
        if (error instanceof DenyListFullError && refusedBySize !== undefined) {
          throw new DenyListFullError(
            `IAM refused the deny list of ${roleArn} (${current.entries.length} sessions) as too large: ${
              describeError(refusedBySize).errorMessage ?? ''
            }`,
            { cause: refusedBySize },
          );
        }
        throw error;
      }
      try {
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: DENY_POLICY_NAME,
            PolicyDocument: JSON.stringify(plan.document),
          }),
        );
      } catch (error) {
        if (!isNamed(error, 'LimitExceededException', 'LimitExceeded')) throw error;
        // The role's other inline policies grew since they were measured: measure again, and never plan
        // this size again, so the next plan covers more entries by the token-issue-time cut.
        refusedBySize = error;
        budget = Math.min(await this.#budget(iam, roleName), plan.size - 1);
        continue;
      }
      if (await this.#markEnforced(roleArn, current.version, plan)) return plan;
      current = await this.#read(roleArn);
    }
    throw new DenyListContentionError(
      `the deny list of ${roleArn} kept changing while its policy was being put (${this.#maxAttempts} attempts)`,
    );
  }

  /** Records that IAM holds the policy of `version`; false when the row moved on (a newer list to put). */
  async #markEnforced(roleArn: string, version: number, plan: DenyPolicyPlan): Promise<boolean> {
    try {
      await this.#options.documentClient.send(
        new UpdateCommand({
          TableName: this.#options.tableName,
          Key: { roleArn },
          UpdateExpression:
            plan.tokenIssuedBefore === undefined
              ? 'SET enforcedVersion = :version, #mode = :mode REMOVE tokenIssuedBefore'
              : 'SET enforcedVersion = :version, #mode = :mode, tokenIssuedBefore = :cut',
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#version': 'version', '#mode': 'mode' },
          ExpressionAttributeValues: {
            ':version': version,
            ':mode': plan.mode,
            ...(plan.tokenIssuedBefore === undefined ? {} : { ':cut': plan.tokenIssuedBefore }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isNamed(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }

  /** Characters this policy may use: IAM's role quota minus the role's other inline policies. */
  async #budget(iam: IAMClient, roleName: string): Promise<number> {
    let others = 0;
    let marker: string | undefined;
    do {
      const page = await iam.send(
        new ListRolePoliciesCommand({
          RoleName: roleName,
          ...(marker === undefined ? {} : { Marker: marker }),
        }),
      );
      for (const name of page?.PolicyNames ?? []) {
        if (name === DENY_POLICY_NAME) continue;
        const policy = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
        others += storedPolicySize(policy?.PolicyDocument ?? '');
      }
      marker = page?.IsTruncated ? page.Marker : undefined;
    } while (marker !== undefined);
    return Math.min(
      this.#options.maxPolicyChars ?? IAM_ROLE_INLINE_POLICY_MAX_CHARS,
      IAM_ROLE_INLINE_POLICY_MAX_CHARS - others,
    );
  }

  async #read(roleArn: string): Promise<DenyListRow> {
    const { Item } = await this.#options.documentClient.send(
      new GetCommand({ TableName: this.#options.tableName, Key: { roleArn }, ConsistentRead: true }),
    );
    if (!Item) return { version: 0, entries: [], enforcedVersion: 0 };
    const version = Item.version;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
      throw new DenyListRowInvalidError(`deny-list row of ${roleArn} has no valid version`);
    }
    return { version, entries: entriesOf(Item.entries), enforcedVersion: versionOf(Item.enforcedVersion) };
  }
}
