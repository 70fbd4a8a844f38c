/**
 * POST /v1/users/{user}/revoke (admin only): every active session of one canonical user, found through the
 * byUser index (never a scan) and each ended by the same conditional revoke as a single revocation, a few
 * at a time. Safe to repeat: a session already ended counts as such and is not written again. A run that
 * reaches its time budget stops starting revocations and says it is incomplete, so a repeat finishes it.
 */
import { describeError } from '../domain/errors.js';
import type { Operator, RevokeUserReport } from '../domain/operators.js';

export type { RevokeUserReport };

import { ok, type Result, refuse } from '../domain/result.js';
import type { Session } from '../domain/session.js';
import type { Clock, SessionStore } from '../ports.js';
import type { OperatorRefusal } from './operator-outcome.js';

export interface RevokeUserInput {
  readonly operator: Operator;
  /** A canonical user (isCanonicalUser). */
  readonly user: string;
  readonly reason: string;
  /** True once the caller's time budget is spent: no further revocation is started. */
  readonly outOfTime?: () => boolean;
}

export interface RevokeUserLog {
  failed(sessionId: string, error: Record<string, string>): void;
}

/** Revocations in flight at once: far faster than one by one, well inside a table's write capacity. */
export const REVOKE_USER_CONCURRENCY = 16;
const LISTING_PAGE = 100;
/** Listings per run: the first does the work; the next ones catch rows the index showed late. */
const MAX_PASSES = 3;
/**
 * Between passes: a moment for the index to show sessions vended while the first pass ran. Not a guarantee
 * (index lag has no bound), which is why the answer says whether the last listing came back clean.
 */
export const INDEX_CATCH_UP_MS = 100;

/** Runs `work` over `items`, `width` at a time, starting nothing once `stop()`; true when all were run. */
const inPool = async <T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
  stop: () => boolean,
): Promise<boolean> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop()) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return next >= items.length;
};

export const revokeUserSessions =
  (deps: {
    readonly store: Pick<SessionStore, 'listByUser' | 'revoke'>;
    readonly clock: Clock;
    readonly log: RevokeUserLog;
    /** Waits between passes; tests pass one that does not. */
    readonly pause?: (ms: number) => Promise<void>;
  }) =>
  async (input: RevokeUserInput): Promise<Result<RevokeUserReport, OperatorRefusal>> => {
    const { operator } = input;
    if (operator.role === 'unknown') return refuse({ kind: 'PolicyUnavailable' });
    if (operator.role !== 'admin') {
      return refuse({ kind: 'AdminRequired', what: "revoking all of a user's sessions" });
    }
    const outOfTime = input.outOfTime ?? (() => false);
    const pause = deps.pause ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    // By session id, so a session seen in two passes counts once.
    const revoked = new Set<string>();
    const ended = new Set<string>();
    const failed = new Set<string>();

    const revokeOne = async (session: Session): Promise<void> => {
      try {
        const result = await deps.store.revoke(session.sessionId, {
          by: operator.caller.principalArn,
          reason: input.reason,
          now: deps.clock.now(),
        });
        // Refused: ended meanwhile, or purged by TTL since the index was read; nothing left to revoke.
        if (result.ok) revoked.add(session.sessionId);
        else if (!revoked.has(session.sessionId)) ended.add(session.sessionId);
        failed.delete(session.sessionId);
      } catch (error) {
        failed.add(session.sessionId);
        deps.log.failed(session.sessionId, describeError(error));
      }
    };

    /** One pass: the whole listing, then the writes. Undefined when the time ran out while listing. */
    const pass = async (): Promise<Session[] | undefined> => {
      const active: Session[] = [];
      let cursor: string | undefined;
      do {
        if (outOfTime()) return undefined;
        const page = await deps.store.listByUser(input.user, {
          limit: LISTING_PAGE,
          ...(cursor === undefined ? {} : { cursor }),
        });
        for (const session of page.items) {
          const id = session.sessionId;
          // An index row may still show a session this run already ended.
          if (revoked.has(id) || ended.has(id)) continue;
          if (session.status === 'active') active.push(session);
          else ended.add(id);
        }
        cursor = page.cursor;
      } while (cursor !== undefined);
      return active;
    };

    // The index is eventually consistent: a session vended a moment ago can be missing from one listing. So
    // the listing is repeated, after a pause, until one finds nothing active that this run has not ended
    // (bounded); each pass reads the whole listing before writing, so its pages stay put.
    let complete = false;
    for (let passes = 0; passes < MAX_PASSES; passes++) {
      if (passes > 0) await pause(INDEX_CATCH_UP_MS);
      const active = await pass();
      if (active === undefined) break;
      if (active.length === 0) {
        complete = true;
        break;
      }
      if (!(await inPool(active, REVOKE_USER_CONCURRENCY, revokeOne, outOfTime))) break;
    }
    // A session that failed and then ended (or was revoked) by a later pass is not a failure.
    for (const id of failed) if (revoked.has(id) || ended.has(id)) failed.delete(id);
    if (failed.size > 0) complete = false;

    return ok({
      user: input.user,
      revoked: revoked.size,
      alreadyTerminal: ended.size,
      failed: failed.size,
      failedSessionIds: [...failed],
      complete,
    });
  };
