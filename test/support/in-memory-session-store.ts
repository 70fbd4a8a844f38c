/**
 * A SessionStore in memory with the DynamoDB store's semantics, built on the pure transitions of
 * src/domain/session.ts and the shared rules in src/adapters/session-store-rules.ts. The shared contract
 * suite (test/support/session-store-contract.ts) runs against both, so this fake cannot drift.
 *
 * Test hooks: `failNext(error)` makes the next call throw (a store outage), `all()` reads every row.
 */

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
  isUserCursor,
  newestFirst,
  pageLimit,
  soonestExpiryFirst,
  type UserCursor,
} from '../../src/adapters/session-store-rules.js';
import { DEFAULT_AUDIT_RETENTION_SECONDS, ttlFor } from '../../src/domain/durations.js';
import { InvalidCursorError, SessionAlreadyExistsError } from '../../src/domain/errors.js';
import { isRecord } from '../../src/domain/json.js';
import { enforcementSince, newestEnforcementFirst } from '../../src/domain/reconcile.js';
import { ok, refuse } from '../../src/domain/result.js';
import {
  type ExpiredReason,
  expireSession,
  revokeSession,
  type Session,
  type TransitionResult,
  touchSession,
} from '../../src/domain/session.js';
import type { Page, PageRequest, SessionStore, TouchInput } from '../../src/ports.js';

type StoreMethod = keyof SessionStore;

interface ActiveCursor {
  readonly k: 'active';
  readonly expiresAt: string;
  readonly sessionId: string;
}

const isActiveCursor = (value: unknown): value is ActiveCursor =>
  hasExactStringKeys(value, ['k', 'expiresAt', 'sessionId']) && isRecord(value) && value.k === 'active';

interface EnforceCursor {
  readonly k: 'enforce';
  readonly since: string;
  readonly enforceSince: string;
  readonly sessionId: string;
}

const isEnforceCursor = (value: unknown): value is EnforceCursor =>
  hasExactStringKeys(value, ['k', 'since', 'enforceSince', 'sessionId']) &&
  isRecord(value) &&
  value.k === 'enforce';

export class InMemorySessionStore implements SessionStore {
  readonly #rows = new Map<string, Session>();
  readonly #auditRetentionSeconds: number;
  #failures: { readonly error: unknown; readonly method?: StoreMethod }[] = [];

  constructor(options: { auditRetentionSeconds?: number; sessions?: readonly Session[] } = {}) {
    this.#auditRetentionSeconds = options.auditRetentionSeconds ?? DEFAULT_AUDIT_RETENTION_SECONDS;
    for (const session of options.sessions ?? []) this.#rows.set(session.sessionId, session);
  }

  /** The next call (or the next call of `method`) throws `error` instead of touching the rows. */
  failNext(error: unknown, method?: StoreMethod): this {
    this.#failures.push(method === undefined ? { error } : { error, method });
    return this;
  }

  /** Every row, in insertion order. */
  all(): readonly Session[] {
    return [...this.#rows.values()];
  }

  /** Puts a row as is, bypassing every condition (to prepare odd states in tests). */
  seed(...sessions: readonly Session[]): this {
    for (const session of sessions) this.#rows.set(session.sessionId, session);
    return this;
  }

  async create(session: Session): Promise<void> {
    this.#maybeFail('create');
    assertStorableSession(session);
    if (this.#rows.has(session.sessionId)) {
      throw new SessionAlreadyExistsError(`session ${session.sessionId} already exists`);
    }
    this.#rows.set(session.sessionId, { ...session });
  }

  async get(sessionId: string): Promise<Session | undefined> {
    this.#maybeFail('get');
    const row = this.#rows.get(sessionId);
    return row === undefined ? undefined : { ...row };
  }

  async touch(sessionId: string, input: TouchInput): Promise<TransitionResult> {
    this.#maybeFail('touch');
    const extendTo = input.extendTo === undefined ? undefined : canonicalInstant(input.extendTo, 'extendTo');
    checkTouchBounds(extendTo, input.minEndsAt);
    const row = this.#rows.get(sessionId);
    if (row === undefined) return refuse({ kind: 'NotFound' });
    const touched = touchSession(row, {
      principalArn: input.principalArn,
      now: input.now,
      policy: COUNT_ONLY_POLICY,
      ...(input.grants ? { grants: input.grants } : {}),
    });
    if (!touched.ok) return touched;
    if (endsTooSoon(row, extendTo, input.minEndsAt)) return refuse({ kind: 'AtMaxLifetime', session: row });
    const extension = extendTo === undefined ? undefined : extensionFor(row, extendTo);
    const next: Session = {
      ...touched.value,
      expiresAt: extension ?? row.expiresAt,
      ttl: extension === undefined ? row.ttl : ttlFor(extension, this.#auditRetentionSeconds),
    };
    this.#rows.set(sessionId, next);
    return ok({ ...next });
  }

  async revoke(
    sessionId: string,
    input: { readonly by: string; readonly reason: string; readonly now: Date },
  ): Promise<TransitionResult> {
    this.#maybeFail('revoke');
    return this.#transition(sessionId, (row) => revokeSession(row, input));
  }

  async expire(
    sessionId: string,
    input: { readonly reason: ExpiredReason; readonly now: Date; readonly force?: boolean },
  ): Promise<TransitionResult> {
    this.#maybeFail('expire');
    return this.#transition(sessionId, (row) => expireSession(row, input));
  }

  async listByUser(user: string, page: PageRequest = {}): Promise<Page<Session>> {
    this.#maybeFail('listByUser');
    const limit = pageLimit(page.limit);
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isUserCursor);
    if (after !== undefined && after.user !== user) {
      throw new InvalidCursorError('cursor belongs to another listing');
    }
    const mine = [...this.#rows.values()].filter((row) => row.user === user).sort(newestFirst);
    const start =
      after === undefined
        ? 0
        : mine.findIndex(
            (row) => newestFirst(row, { ...row, createdAt: after.createdAt, sessionId: after.sessionId }) > 0,
          );
    return this.#page(mine, start, limit, (last) => ({
      k: 'user',
      user,
      createdAt: last.createdAt,
      sessionId: last.sessionId,
    }));
  }

  async listActive(now: Date, page: PageRequest = {}): Promise<Page<Session>> {
    this.#maybeFail('listActive');
    const limit = pageLimit(page.limit);
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isActiveCursor);
    const nowIso = now.toISOString();
    const live = [...this.#rows.values()]
      .filter((row) => row.status === 'active' && row.expiresAt > nowIso)
      .sort(soonestExpiryFirst);
    const start =
      after === undefined
        ? 0
        : live.findIndex(
            (row) =>
              soonestExpiryFirst(row, { ...row, expiresAt: after.expiresAt, sessionId: after.sessionId }) > 0,
          );
    return this.#page(live, start, limit, (last) => ({
      k: 'active',
      expiresAt: last.expiresAt,
      sessionId: last.sessionId,
    }));
  }

  /** The byEnforcement index: rows whose revocation (or forced expiry) is after `since`, newest first. */
  async listEnforceable(since: Date, page: PageRequest = {}): Promise<Page<Session>> {
    this.#maybeFail('listEnforceable');
    const limit = pageLimit(page.limit);
    const sinceIso = since.toISOString();
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isEnforceCursor);
    if (after !== undefined && after.since !== sinceIso) {
      throw new InvalidCursorError('cursor belongs to another listing');
    }
    const keyOf = (row: Session) => ({ since: enforcementSince(row) ?? '', sessionId: row.sessionId });
    const enforceable = [...this.#rows.values()]
      .filter((row) => (enforcementSince(row) ?? '') > sinceIso)
      .sort((a, b) => newestEnforcementFirst(keyOf(a), keyOf(b)));
    const start =
      after === undefined
        ? 0
        : enforceable.findIndex(
            (row) =>
              newestEnforcementFirst(keyOf(row), { since: after.enforceSince, sessionId: after.sessionId }) >
              0,
          );
    return this.#page(enforceable, start, limit, (last) => ({
      k: 'enforce',
      since: sinceIso,
      enforceSince: keyOf(last).since,
      sessionId: last.sessionId,
    }));
  }

  #page(
    sorted: readonly Session[],
    start: number,
    limit: number,
    cursorOf: (last: Session) => UserCursor | ActiveCursor | EnforceCursor,
  ): Page<Session> {
    // findIndex gives -1 when the cursor is past the last row: an empty last page.
    const from = start < 0 ? sorted.length : start;
    const items = sorted.slice(from, from + limit).map((row) => ({ ...row }));
    const last = items.at(-1);
    const more = from + limit < sorted.length;
    return more && last !== undefined ? { items, cursor: encodeCursor(cursorOf(last)) } : { items };
  }

  #transition(sessionId: string, apply: (row: Session) => TransitionResult): TransitionResult {
    const row = this.#rows.get(sessionId);
    if (row === undefined) return refuse({ kind: 'NotFound' });
    const result = apply(row);
    if (result.ok) this.#rows.set(sessionId, result.value);
    return result.ok ? ok({ ...result.value }) : result;
  }

  #maybeFail(method: StoreMethod): void {
    const index = this.#failures.findIndex((f) => f.method === undefined || f.method === method);
    if (index < 0) return;
    const [failure] = this.#failures.splice(index, 1);
    if (failure) throw failure.error;
  }
}
