/**
 * SessionStore on the Sessions table (docs/design.md, "Data model"). Every transition is one conditional UpdateItem; when the
 * condition fails, the item as DynamoDB saw it (ReturnValuesOnConditionCheckFailure ALL_OLD) is run through
 * the same pure transition as the domain to name the refusal, so no extra read and no second opinion.
 *
 * Item = the Session fields + `activeShard` (`active#<n>`), present only while the session is active, so the
 * sparse GSI `byActiveShard` (activeShard + expiresAt) never holds a finished session and is read per shard,
 * never scanned. GSI `byUser` (user + createdAt) lists a user's sessions. `enforceShard` (`enforce#<n>`, same
 * hash) and `enforceSince` (revokedAt, or expiredAt of a forced expiry) are written by the revocation or the
 * forced expiry in the same conditional write, so the sparse GSI `byEnforcement` holds exactly the sessions the
 * revocation reconciler must check, newest first per shard.
 *
 * Any DynamoDB error other than a failed condition propagates unchanged: callers decide deny/allow.
 */
import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DEFAULT_AUDIT_RETENTION_SECONDS, ttlFor } from '../domain/durations.js';
import {
  ConfigurationError,
  InvalidCursorError,
  InvalidInputError,
  SessionAlreadyExistsError,
} from '../domain/errors.js';
import { isRecord } from '../domain/json.js';
import { enforcementSince, newestEnforcementFirst } from '../domain/reconcile.js';
import { ok, refuse } from '../domain/result.js';
import {
  type ExpiredReason,
  expireSession,
  revokeSession,
  type Session,
  type TransitionResult,
  touchSession,
} from '../domain/session.js';
import type { Page, PageRequest, SessionStore, TouchInput } from '../ports.js';
import {
  assertStorableSession,
  COUNT_ONLY_POLICY,
  canonicalInstant,
  checkTouchBounds,
  decodeCursor,
  encodeCursor,
  endsTooSoon,
  extensionFor,
  hasExactStringKeys,
  isCanonicalInstant,
  isUserCursor,
  pageLimit,
  parseSessionRecord,
  soonestExpiryFirst,
  type UserCursor,
} from './session-store-rules.js';

export const BY_USER_INDEX = 'byUser';
export const BY_ACTIVE_SHARD_INDEX = 'byActiveShard';
export const BY_ENFORCEMENT_INDEX = 'byEnforcement';
export const DEFAULT_ACTIVE_SHARD_COUNT = 8;
/** Keeps the touch's condition expression well under DynamoDB's 4 KB expression limit. */
export const MAX_TOUCH_GRANTS = 50;
const MAX_ACTIVE_SHARD_COUNT = 64;

/** A conditional write failed although the item, as DynamoDB returned it, satisfies the condition. */
export class InconsistentConditionError extends Error {
  override readonly name = 'InconsistentConditionError';
}

/** FNV-1a (32 bit): stable across runtimes and releases, unlike anything seeded. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

export const activeShardName = (shard: number): string => `active#${shard}`;

/** The byActiveShard partition a session lives in while active. */
export const activeShardOf = (sessionId: string, shardCount: number): string =>
  activeShardName(fnv1a(sessionId) % shardCount);

export const enforceShardName = (shard: number): string => `enforce#${shard}`;

/** The byEnforcement partition of a revoked or force-expired session (the same hash as its active shard). */
export const enforceShardOf = (sessionId: string, shardCount: number): string =>
  enforceShardName(fnv1a(sessionId) % shardCount);

export interface DynamoDbSessionStoreOptions {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Partitions of the sparse active index. Changing it strands existing active rows: treat as fixed. */
  readonly activeShardCount?: number;
  /** Seconds a row outlives its expiry before TTL removes it (ttl = expiresAt + this). */
  readonly auditRetentionSeconds?: number;
}

type UpdateOutcome =
  | { readonly kind: 'updated'; readonly session: Session }
  | { readonly kind: 'refused'; readonly old: Session | undefined };

type ShardPosition = 'start' | 'done' | { readonly expiresAt: string; readonly sessionId: string };

interface ActiveCursor {
  readonly k: 'active';
  readonly shards: readonly ShardPosition[];
}

const isShardPosition = (value: unknown): value is ShardPosition =>
  value === 'start' ||
  value === 'done' ||
  (hasExactStringKeys(value, ['expiresAt', 'sessionId']) &&
    isRecord(value) &&
    value.sessionId !== '' &&
    isCanonicalInstant(value.expiresAt));

type EnforcePosition = 'start' | 'done' | { readonly enforceSince: string; readonly sessionId: string };

interface EnforceCursor {
  readonly k: 'enforce';
  readonly since: string;
  readonly shards: readonly EnforcePosition[];
}

const isEnforcePosition = (value: unknown): value is EnforcePosition =>
  value === 'start' ||
  value === 'done' ||
  (hasExactStringKeys(value, ['enforceSince', 'sessionId']) &&
    isRecord(value) &&
    value.sessionId !== '' &&
    isCanonicalInstant(value.enforceSince));

const enforceCursorValidator =
  (shardCount: number) =>
  (value: unknown): value is EnforceCursor =>
    isRecord(value) &&
    Object.keys(value).length === 3 &&
    value.k === 'enforce' &&
    isCanonicalInstant(value.since) &&
    Array.isArray(value.shards) &&
    value.shards.length === shardCount &&
    value.shards.every(isEnforcePosition);

const activeCursorValidator =
  (shardCount: number) =>
  (value: unknown): value is ActiveCursor =>
    isRecord(value) &&
    Object.keys(value).length === 2 &&
    value.k === 'active' &&
    Array.isArray(value.shards) &&
    value.shards.length === shardCount &&
    value.shards.every(isShardPosition);

/** DynamoDB attribute names used in expressions (several are reserved words: user, status, ttl). */
const NAMES = {
  '#sessionId': 'sessionId',
  '#status': 'status',
  '#user': 'user',
  '#principalArn': 'principalArn',
  '#expiresAt': 'expiresAt',
  '#maxExpiresAt': 'maxExpiresAt',
  '#lastAccessAt': 'lastAccessAt',
  '#requestCount': 'requestCount',
  '#version': 'version',
  '#ttl': 'ttl',
  '#activeShard': 'activeShard',
  '#enforceShard': 'enforceShard',
  '#enforceSince': 'enforceSince',
  '#revokedAt': 'revokedAt',
  '#revokedBy': 'revokedBy',
  '#revokedReason': 'revokedReason',
  '#expiredAt': 'expiredAt',
  '#expiredReason': 'expiredReason',
  '#createdAt': 'createdAt',
  '#profile': 'profile',
  '#roleArn': 'roleArn',
} as const;

type Name = keyof typeof NAMES;

/** Only the names an expression uses: DynamoDB rejects unused ExpressionAttributeNames. */
const namesFor = (...expressions: readonly string[]): Partial<Record<Name, string>> => {
  const used: Partial<Record<Name, string>> = {};
  for (const name of Object.keys(NAMES) as Name[]) {
    if (expressions.some((expression) => new RegExp(`${name}\\b`).test(expression))) {
      used[name] = NAMES[name];
    }
  }
  return used;
};

/**
 * The item DynamoDB returned with a failed condition. The document client does not unmarshall it
 * (aws-sdk-js-v3#6723), so it arrives as AttributeValues; a plain object is accepted too in case it ever does.
 */
const oldImageOf = (error: ConditionalCheckFailedException): Record<string, unknown> | undefined => {
  const item: Record<string, AttributeValue> | undefined = error.Item;
  if (item === undefined) return undefined;
  const id: unknown = item.sessionId;
  return isRecord(id) && typeof id.S === 'string' ? unmarshall(item) : item;
};

export class DynamoDbSessionStore implements SessionStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #shardCount: number;
  readonly #auditRetentionSeconds: number;

  constructor(options: DynamoDbSessionStoreOptions) {
    const shardCount = options.activeShardCount ?? DEFAULT_ACTIVE_SHARD_COUNT;
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_ACTIVE_SHARD_COUNT) {
      throw new ConfigurationError(
        `activeShardCount must be a whole number in 1..${MAX_ACTIVE_SHARD_COUNT}, got ${String(shardCount)}`,
      );
    }
    if (options.tableName === '') throw new ConfigurationError('tableName must not be empty');
    this.#client = options.documentClient;
    this.#tableName = options.tableName;
    this.#shardCount = shardCount;
    this.#auditRetentionSeconds = options.auditRetentionSeconds ?? DEFAULT_AUDIT_RETENTION_SECONDS;
  }

  async create(session: Session): Promise<void> {
    assertStorableSession(session);
    const since = enforcementSince(session);
    const item =
      session.status === 'active'
        ? { ...session, activeShard: activeShardOf(session.sessionId, this.#shardCount) }
        : since === undefined
          ? session
          : {
              ...session,
              enforceShard: enforceShardOf(session.sessionId, this.#shardCount),
              enforceSince: since,
            };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#sessionId)',
          ExpressionAttributeNames: namesFor('#sessionId'),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new SessionAlreadyExistsError(`session ${session.sessionId} already exists`, { cause: error });
      }
      throw error;
    }
  }

  async get(sessionId: string): Promise<Session | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { sessionId }, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : parseSessionRecord(Item);
  }

  async touch(sessionId: string, input: TouchInput): Promise<TransitionResult> {
    if (input.grants !== undefined && (input.grants.length === 0 || input.grants.length > MAX_TOUCH_GRANTS)) {
      throw new InvalidInputError(`touch takes 1-${MAX_TOUCH_GRANTS} grants, got ${input.grants.length}`);
    }
    // The domain's refusal, else AtMaxLifetime when the next attempt (extending to `next`) would leave the
    // session ending too soon: that attempt is then not made, so nothing is written.
    const refusalOf = (old: Session, next: string | undefined): TransitionResult | undefined => {
      const checked = touchSession(old, {
        principalArn: input.principalArn,
        now: input.now,
        policy: COUNT_ONLY_POLICY,
        ...(input.grants ? { grants: input.grants } : {}),
      });
      if (!checked.ok) return checked;
      return endsTooSoon(old, next, input.minEndsAt)
        ? refuse({ kind: 'AtMaxLifetime', session: old })
        : undefined;
    };
    const requested = input.extendTo === undefined ? undefined : canonicalInstant(input.extendTo, 'extendTo');
    checkTouchBounds(requested, input.minEndsAt);
    // 1: as asked. 2: the asked extension capped at maxExpiresAt, or none if it would shorten the session
    // (the caller's view was stale). 3: no extension at all, which only fails for a domain reason.
    const first = await this.#touchOnce(sessionId, input, requested);
    if (first.kind === 'done') return first.result;
    const refusal = refusalOf(first.old, requested);
    if (refusal) return refusal;
    if (requested === undefined) throw this.#inconsistent('touch', sessionId);
    const second = await this.#touchOnce(sessionId, input, extensionFor(first.old, requested));
    if (second.kind === 'done') return second.result;
    const secondRefusal = refusalOf(second.old, undefined);
    if (secondRefusal) return secondRefusal;
    const third = await this.#touchOnce(sessionId, input, undefined);
    if (third.kind === 'done') return third.result;
    const thirdRefusal = refusalOf(third.old, undefined);
    if (thirdRefusal) return thirdRefusal;
    throw this.#inconsistent('touch', sessionId);
  }

  async #touchOnce(
    sessionId: string,
    input: TouchInput,
    extendTo: string | undefined,
  ): Promise<{ kind: 'done'; result: TransitionResult } | { kind: 'failed'; old: Session }> {
    const grants = input.grants ?? [];
    const condition = [
      '#status = :active AND #principalArn = :principalArn AND #expiresAt > :now',
      // The allowlist check rides on the same write, so a refresh needs no read first.
      // DynamoDB refuses redundant parentheses, so one grant is a plain conjunction.
      ...(grants.length === 0
        ? []
        : grants.length === 1
          ? ['#profile = :grantProfile0 AND #roleArn = :grantRole0']
          : [
              `(${grants.map((_, i) => `(#profile = :grantProfile${i} AND #roleArn = :grantRole${i})`).join(' OR ')})`,
            ]),
      ...(extendTo === undefined ? [] : ['#maxExpiresAt >= :extendTo AND #expiresAt <= :extendTo']),
      // Without an extension the session keeps its expiry, which must still reach the caller's minimum.
      ...(extendTo === undefined && input.minEndsAt !== undefined ? ['#expiresAt >= :minEndsAt'] : []),
    ].join(' AND ');
    const update = [
      `SET #lastAccessAt = :now${extendTo === undefined ? '' : ', #expiresAt = :extendTo, #ttl = :ttl'}`,
      'ADD #requestCount :one, #version :one',
    ].join(' ');
    const values: Record<string, unknown> = {
      ':active': 'active',
      ':principalArn': input.principalArn,
      ':now': input.now.toISOString(),
      ':one': 1,
    };
    if (extendTo !== undefined) {
      values[':extendTo'] = extendTo;
      values[':ttl'] = ttlFor(extendTo, this.#auditRetentionSeconds);
    }
    if (extendTo === undefined && input.minEndsAt !== undefined) {
      values[':minEndsAt'] = canonicalInstant(input.minEndsAt, 'minEndsAt');
    }
    grants.forEach((grant, i) => {
      values[`:grantProfile${i}`] = grant.profile;
      values[`:grantRole${i}`] = grant.roleArn;
    });
    const outcome = await this.#update(sessionId, condition, update, values);
    if (outcome.kind === 'updated') return { kind: 'done', result: ok(outcome.session) };
    if (outcome.old === undefined) return { kind: 'done', result: refuse({ kind: 'NotFound' }) };
    return { kind: 'failed', old: outcome.old };
  }

  async revoke(
    sessionId: string,
    input: { readonly by: string; readonly reason: string; readonly now: Date },
  ): Promise<TransitionResult> {
    const outcome = await this.#update(
      sessionId,
      '#status = :active',
      // enforceShard/enforceSince put the session on the reconciler's index in the same write.
      'SET #status = :revoked, #revokedAt = :now, #revokedBy = :by, #revokedReason = :reason, ' +
        '#enforceShard = :enforceShard, #enforceSince = :now REMOVE #activeShard ADD #version :one',
      {
        ':active': 'active',
        ':revoked': 'revoked',
        ':now': input.now.toISOString(),
        ':by': input.by,
        ':reason': input.reason,
        ':one': 1,
        ':enforceShard': enforceShardOf(sessionId, this.#shardCount),
      },
    );
    return this.#settle('revoke', sessionId, outcome, (old) => revokeSession(old, input));
  }

  async expire(
    sessionId: string,
    input: { readonly reason: ExpiredReason; readonly now: Date; readonly force?: boolean },
  ): Promise<TransitionResult> {
    // A forced expiry is enforced like a revocation (its credentials may live up to an hour): on the index too.
    const forced = input.reason === 'forced';
    const outcome = await this.#update(
      sessionId,
      input.force ? '#status = :active' : '#status = :active AND #expiresAt <= :now',
      `SET #status = :expired, #expiredAt = :now, #expiredReason = :reason${
        forced ? ', #enforceShard = :enforceShard, #enforceSince = :now' : ''
      } REMOVE #activeShard ADD #version :one`,
      {
        ':active': 'active',
        ':expired': 'expired',
        ':now': input.now.toISOString(),
        ':reason': input.reason,
        ':one': 1,
        ...(forced ? { ':enforceShard': enforceShardOf(sessionId, this.#shardCount) } : {}),
      },
    );
    return this.#settle('expire', sessionId, outcome, (old) => expireSession(old, input));
  }

  async listByUser(user: string, page: PageRequest = {}): Promise<Page<Session>> {
    const limit = pageLimit(page.limit);
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isUserCursor);
    if (after !== undefined && after.user !== user) {
      throw new InvalidCursorError('cursor belongs to another listing');
    }
    // One item more than the page tells whether another page exists, so the last page has no cursor.
    const output = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        IndexName: BY_USER_INDEX,
        KeyConditionExpression: '#user = :user',
        ExpressionAttributeNames: namesFor('#user'),
        ExpressionAttributeValues: { ':user': user },
        ScanIndexForward: false,
        Limit: limit + 1,
        ...(after === undefined
          ? {}
          : { ExclusiveStartKey: { sessionId: after.sessionId, user, createdAt: after.createdAt } }),
      }),
    );
    const rows = (output.Items ?? []).map(parseSessionRecord);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    // More than a page came back, or DynamoDB stopped early (1 MB) and says where it stopped.
    const more = rows.length > limit || output.LastEvaluatedKey !== undefined;
    if (!more || last === undefined) return { items };
    const cursor: UserCursor = { k: 'user', user, createdAt: last.createdAt, sessionId: last.sessionId };
    return { items, cursor: encodeCursor(cursor) };
  }

  async listActive(now: Date, page: PageRequest = {}): Promise<Page<Session>> {
    const limit = pageLimit(page.limit);
    const positions: readonly ShardPosition[] =
      page.cursor === undefined
        ? Array.from({ length: this.#shardCount }, () => 'start' as const)
        : decodeCursor(page.cursor, activeCursorValidator(this.#shardCount)).shards;
    const nowIso = now.toISOString();

    // Every shard's next `limit` rows hold the overall next `limit` rows: query all in parallel, merge.
    const results = await Promise.all(
      positions.map(async (position, shard) =>
        position === 'done' ? undefined : this.#queryShard(shard, position, nowIso, limit + 1),
      ),
    );
    const candidates = results.flatMap((result, shard) =>
      (result?.Items ?? []).map((item) => ({ shard, session: parseSessionRecord(item) })),
    );
    candidates.sort((a, b) => soonestExpiryFirst(a.session, b.session));
    const taken = candidates.slice(0, limit);

    const next = positions.map((position, shard): ShardPosition => {
      const result = results[shard];
      if (result === undefined) return position;
      const mine = taken.filter((c) => c.shard === shard);
      const returned = result.Items?.length ?? 0;
      if (mine.length === returned) {
        // Everything it returned is on this page: it is done unless DynamoDB stopped early (1 MB).
        const stoppedAt = result.LastEvaluatedKey;
        return stoppedAt === undefined ? 'done' : (positionOf(stoppedAt) ?? position);
      }
      const lastTaken = mine.at(-1)?.session;
      return lastTaken === undefined
        ? position
        : { expiresAt: lastTaken.expiresAt, sessionId: lastTaken.sessionId };
    });
    // The sparse index holds only active rows; the status check guards against a hand-written stray.
    const items = taken.map((c) => c.session).filter((s) => s.status === 'active');
    if (next.every((position) => position === 'done')) return { items };
    const cursor: ActiveCursor = { k: 'active', shards: next };
    return { items, cursor: encodeCursor(cursor) };
  }

  #queryShard(
    shard: number,
    position: Exclude<ShardPosition, 'done'>,
    nowIso: string,
    limit: number,
  ): Promise<QueryCommandOutput> {
    const activeShard = activeShardName(shard);
    return this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        IndexName: BY_ACTIVE_SHARD_INDEX,
        KeyConditionExpression: '#activeShard = :shard AND #expiresAt > :now',
        ExpressionAttributeNames: namesFor('#activeShard', '#expiresAt'),
        ExpressionAttributeValues: { ':shard': activeShard, ':now': nowIso },
        Limit: limit,
        ...(position === 'start' ? {} : { ExclusiveStartKey: { ...position, activeShard } }),
      }),
    );
  }

  async listEnforceable(since: Date, page: PageRequest = {}): Promise<Page<Session>> {
    const limit = pageLimit(page.limit);
    const sinceIso = since.toISOString();
    let positions: readonly EnforcePosition[];
    if (page.cursor === undefined) {
      positions = Array.from({ length: this.#shardCount }, () => 'start' as const);
    } else {
      const cursor = decodeCursor(page.cursor, enforceCursorValidator(this.#shardCount));
      if (cursor.since !== sinceIso) throw new InvalidCursorError('cursor belongs to another listing');
      positions = cursor.shards;
    }
    // As listActive: every shard's next `limit` rows hold the overall next `limit`; query all, merge.
    const results = await Promise.all(
      positions.map(async (position, shard) =>
        position === 'done' ? undefined : this.#queryEnforceShard(shard, position, sinceIso, limit + 1),
      ),
    );
    const candidates = results.flatMap((result, shard) =>
      (result?.Items ?? []).map((item) => {
        const session = parseSessionRecord(item);
        const enforceSince = typeof item.enforceSince === 'string' ? item.enforceSince : '';
        return { shard, session, since: enforceSince, sessionId: session.sessionId };
      }),
    );
    candidates.sort(newestEnforcementFirst);
    const taken = candidates.slice(0, limit);
    const next = positions.map((position, shard): EnforcePosition => {
      const result = results[shard];
      if (result === undefined) return position;
      const mine = taken.filter((c) => c.shard === shard);
      if (mine.length === (result.Items?.length ?? 0)) {
        const stoppedAt = result.LastEvaluatedKey;
        return stoppedAt === undefined ? 'done' : (enforcePositionOf(stoppedAt) ?? position);
      }
      const last = mine.at(-1);
      return last === undefined ? position : { enforceSince: last.since, sessionId: last.sessionId };
    });
    // The sparse index holds only sessions that need enforcement; the check guards against a hand-written stray.
    const items = taken.map((c) => c.session).filter((s) => enforcementSince(s) !== undefined);
    if (next.every((position) => position === 'done')) return { items };
    const cursor: EnforceCursor = { k: 'enforce', since: sinceIso, shards: next };
    return { items, cursor: encodeCursor(cursor) };
  }

  #queryEnforceShard(
    shard: number,
    position: Exclude<EnforcePosition, 'done'>,
    sinceIso: string,
    limit: number,
  ): Promise<QueryCommandOutput> {
    const enforceShard = enforceShardName(shard);
    return this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        IndexName: BY_ENFORCEMENT_INDEX,
        KeyConditionExpression: '#enforceShard = :shard AND #enforceSince > :since',
        ExpressionAttributeNames: namesFor('#enforceShard', '#enforceSince'),
        ExpressionAttributeValues: { ':shard': enforceShard, ':since': sinceIso },
        ScanIndexForward: false,
        Limit: limit,
        ...(position === 'start' ? {} : { ExclusiveStartKey: { ...position, enforceShard } }),
      }),
    );
  }

  async #update(
    sessionId: string,
    condition: string,
    update: string,
    values: Record<string, unknown>,
  ): Promise<UpdateOutcome> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { sessionId },
          ConditionExpression: condition,
          UpdateExpression: update,
          ExpressionAttributeNames: namesFor(condition, update),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { kind: 'updated', session: parseSessionRecord(Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = oldImageOf(error);
      return { kind: 'refused', old: old === undefined ? undefined : parseSessionRecord(old) };
    }
  }

  /** A refused terminal transition, named by the pure transition applied to the item DynamoDB saw. */
  #settle(
    operation: string,
    sessionId: string,
    outcome: UpdateOutcome,
    transition: (old: Session) => TransitionResult,
  ): TransitionResult {
    if (outcome.kind === 'updated') return ok(outcome.session);
    if (outcome.old === undefined) return refuse({ kind: 'NotFound' });
    const verdict = transition(outcome.old);
    if (verdict.ok) throw this.#inconsistent(operation, sessionId);
    return verdict;
  }

  #inconsistent(operation: string, sessionId: string): InconsistentConditionError {
    return new InconsistentConditionError(
      `${operation} of session ${sessionId} was refused by DynamoDB but the stored item allows it`,
    );
  }
}

/** Where an enforcement shard query stopped (its LastEvaluatedKey) as a cursor position. */
const enforcePositionOf = (key: Record<string, unknown>): EnforcePosition | undefined => {
  const { enforceSince, sessionId } = key;
  return typeof enforceSince === 'string' && typeof sessionId === 'string'
    ? { enforceSince, sessionId }
    : undefined;
};

/** Where a shard query stopped (its LastEvaluatedKey) as a cursor position. */
const positionOf = (key: Record<string, unknown>): ShardPosition | undefined => {
  const { expiresAt, sessionId } = key;
  return typeof expiresAt === 'string' && typeof sessionId === 'string'
    ? { expiresAt, sessionId }
    : undefined;
};
