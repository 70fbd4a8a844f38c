/**
 * GET /v1/sessions: the caller's own sessions newest first, or for an admin any user's, any principal's
 * or every active session. Filters the store cannot apply are applied here, reading further store pages
 * (bounded) so that a page is not needlessly short.
 */
import { isPast } from '../domain/durations.js';
import type { Operator } from '../domain/operators.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { Session } from '../domain/session.js';
import type { Clock, Page, PageRequest, SessionStore } from '../ports.js';
import type { OperatorRefusal } from './operator-outcome.js';

export interface SessionFilter {
  /** A canonical user; for a principal filter, that principal's user (the index is keyed by user). */
  readonly user?: string;
  readonly principalArn?: string;
  readonly profile?: string;
  /** Only sessions still active and not past expiry. */
  readonly activeOnly?: boolean;
}

export interface ListSessionsInput {
  readonly operator: Operator;
  readonly filter: SessionFilter;
  readonly page: { readonly limit: number; readonly cursor?: string };
}

/** Store pages one listing may read before answering with what it has and a cursor. */
export const MAX_STORE_PAGES_PER_LISTING = 10;

const matches = (session: Session, filter: SessionFilter, now: Date): boolean =>
  (filter.principalArn === undefined || session.principalArn === filter.principalArn) &&
  (filter.profile === undefined || session.profile === filter.profile) &&
  (!filter.activeOnly || (session.status === 'active' && !isPast(session.expiresAt, now)));

export const listSessions =
  (deps: { readonly store: Pick<SessionStore, 'listByUser' | 'listActive'>; readonly clock: Clock }) =>
  async (input: ListSessionsInput): Promise<Result<Page<Session>, OperatorRefusal>> => {
    const { operator, filter } = input;
    const own = operator.caller;
    const othersNamed =
      (filter.user !== undefined && filter.user !== own.user) ||
      (filter.principalArn !== undefined && filter.principalArn !== own.principalArn);
    if (operator.role !== 'admin' && othersNamed) {
      return refuse(
        operator.role === 'unknown'
          ? { kind: 'PolicyUnavailable' }
          : { kind: 'AdminRequired', what: "listing another user's or principal's sessions" },
      );
    }
    const admin = operator.role === 'admin';
    // An owner only ever sees what was vended to its own principal.
    const effective: SessionFilter = admin
      ? filter
      : { ...filter, user: own.user, principalArn: own.principalArn };
    // An admin asking for every active session (no user) reads the sparse active index, soonest expiry first.
    const fleetWide = admin && effective.user === undefined && effective.activeOnly === true;
    const user = effective.user ?? own.user;
    const now = deps.clock.now();
    const read = (page: PageRequest): Promise<Page<Session>> =>
      fleetWide ? deps.store.listActive(now, page) : deps.store.listByUser(user, page);

    const items: Session[] = [];
    let cursor = input.page.cursor;
    for (let pages = 0; pages < MAX_STORE_PAGES_PER_LISTING; pages++) {
      const page = await read({
        limit: input.page.limit - items.length,
        ...(cursor === undefined ? {} : { cursor }),
      });
      items.push(...page.items.filter((session) => matches(session, effective, now)));
      cursor = page.cursor;
      if (cursor === undefined || items.length >= input.page.limit) break;
    }
    return ok(cursor === undefined ? { items } : { items, cursor });
  };
