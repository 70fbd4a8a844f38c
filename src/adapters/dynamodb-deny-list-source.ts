/**
 * DenyListSource on the deny-list table (the rows src/adapters/iam-access-enforcer.ts writes: `entries` as
 * sessionId → until, `version`, `enforcedVersion`, and `mode`/`tokenIssuedBefore` of the version IAM accepted).
 * Read strongly consistent and defensively: an entry that is not an instant is ignored, and a row without a
 * usable version is refused rather than taken as an empty list.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DenyEntry } from '../domain/deny-list.js';
import type { DenyListState } from '../domain/reconcile.js';
import type { DenyListSource } from '../ports.js';

/** The stored row was not written by the enforcer (no usable version): nothing in it can be trusted. */
export class DenyListRowUnreadableError extends Error {
  override readonly name = 'DenyListRowUnreadableError';
}

const isInstant = (value: unknown): value is string =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value));

const isVersion = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

const entriesOf = (value: unknown): DenyEntry[] =>
  typeof value === 'object' && value !== null
    ? Object.entries(value).flatMap(([sessionId, until]) => (isInstant(until) ? [{ sessionId, until }] : []))
    : [];

export class DynamoDbDenyListSource implements DenyListSource {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: { readonly documentClient: DynamoDBDocumentClient; readonly tableName: string }) {
    this.#client = options.documentClient;
    this.#tableName = options.tableName;
  }

  async read(roleArn: string): Promise<DenyListState> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { roleArn }, ConsistentRead: true }),
    );
    if (Item === undefined) return { entries: [], enforced: false };
    if (!isVersion(Item.version)) {
      throw new DenyListRowUnreadableError(`deny-list row of ${roleArn} has no valid version`);
    }
    // The mode and cut are written with enforcedVersion, so they describe the policy IAM holds only while
    // that is still the row's version.
    const enforced = Item.enforcedVersion === Item.version;
    const cut = Item.tokenIssuedBefore;
    return {
      entries: entriesOf(Item.entries),
      enforced,
      ...(enforced && Item.mode === 'token-issue-time' && isInstant(cut) ? { tokenIssuedBefore: cut } : {}),
    };
  }
}
