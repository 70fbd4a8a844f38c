/**
 * The operator use cases on the in-memory store (the same contract as DynamoDB's): listing filters that
 * the store cannot apply, revoke-user's counting, retries, concurrency and time budget.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import type { Operator } from '../../../src/domain/operators.js';
import type { Session } from '../../../src/domain/session.js';
import type { SessionStore } from '../../../src/ports.js';
import { listSessions, MAX_STORE_PAGES_PER_LISTING } from '../../../src/usecases/list-sessions.js';
import { REVOKE_USER_CONCURRENCY, revokeUserSessions } from '../../../src/usecases/revoke-user-sessions.js';
import { InMemorySessionStore } from '../../support/in-memory-session-store.js';
import { ADMIN_ARN, ALICE_ARN, BOB_ARN, caller, sessionOf } from '../../support/operator-api.js';

const NOW = '2026-01-15T09:30:00.000Z';
const as = (arn: string, role: Operator['role']): Operator => ({ caller: caller(arn), role });
const id = (n: number): string => n.toString(16).padStart(8, '0').padEnd(32, 'c');

/** `count` sessions of `arn`, a second apart, the first `profileEvery`-th on profile "audit". */
const sessionsOf = (arn: string, count: number, from = 0, profile = (_i: number) => 'dev'): Session[] =>
  Array.from({ length: count }, (_, i) =>
    sessionOf(id(from + i), arn, new Date(Date.parse(NOW) + (from + i) * 1000), profile(i)),
  );

describe('listSessions', () => {
  it('refuses a non-admin naming someone else, and says the policy is missing when it is', async () => {
    const list = listSessions({ store: new InMemorySessionStore(), clock: new ManualClock(NOW) });
    const page = { limit: 10 };
    expect(
      await list({ operator: as(BOB_ARN, 'owner-only'), filter: { user: 'alice@example.com' }, page }),
    ).toEqual({
      ok: false,
      refusal: { kind: 'AdminRequired', what: "listing another user's or principal's sessions" },
    });
    expect(
      await list({ operator: as(BOB_ARN, 'unknown'), filter: { principalArn: ALICE_ARN }, page }),
    ).toEqual({
      ok: false,
      refusal: { kind: 'PolicyUnavailable' },
    });
  });

  it('fills a page with filtered sessions across store pages, and stops after a bounded number of them', async () => {
    // 300 sessions of alice, every 50th on "audit": a filtered page needs several store pages.
    const store = new InMemorySessionStore({
      sessions: sessionsOf(ALICE_ARN, 300, 0, (i) => (i % 50 === 0 ? 'audit' : 'dev')),
    });
    let reads = 0;
    const counting: Pick<SessionStore, 'listByUser' | 'listActive'> = {
      listByUser: (user, page) => {
        reads++;
        return store.listByUser(user, page);
      },
      listActive: (now, page) => store.listActive(now, page),
    };
    const list = listSessions({ store: counting, clock: new ManualClock(NOW) });
    // A page never holds more than asked, and one request reads a bounded number of store pages, so a sparse
    // filter answers short pages with a cursor; following the cursors yields every match, in order.
    const found: string[] = [];
    let cursor: string | undefined;
    let requests = 0;
    do {
      reads = 0;
      const result = await list({
        operator: as(ALICE_ARN, 'owner-only'),
        filter: { profile: 'audit' },
        page: cursor === undefined ? { limit: 4 } : { limit: 4, cursor },
      });
      if (!result.ok) throw new Error('refused');
      expect(result.value.items.length).toBeLessThanOrEqual(4);
      expect(reads).toBeLessThanOrEqual(MAX_STORE_PAGES_PER_LISTING);
      found.push(...result.value.items.map((s) => s.sessionId));
      cursor = result.value.cursor;
      requests++;
    } while (cursor !== undefined);
    expect(found).toEqual([250, 200, 150, 100, 50, 0].map(id));
    expect(requests).toBeGreaterThan(1);
  });

  it('shows an owner only what was vended to its own principal, even under its own user name', async () => {
    const otherRole =
      'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com';
    const store = new InMemorySessionStore({
      sessions: [...sessionsOf(ALICE_ARN, 2), ...sessionsOf(otherRole, 1, 10)],
    });
    const list = listSessions({ store, clock: new ManualClock(NOW) });
    const result = await list({ operator: as(ALICE_ARN, 'owner-only'), filter: {}, page: { limit: 10 } });
    expect(result.ok && result.value.items.map((s) => s.sessionId)).toEqual([id(1), id(0)]);
    const admin = await list({
      operator: as(ADMIN_ARN, 'admin'),
      filter: { user: 'alice@example.com' },
      page: { limit: 10 },
    });
    expect(admin.ok && admin.value.items).toHaveLength(3);
  });
});

describe('revokeUserSessions', () => {
  const admin = as(ADMIN_ARN, 'admin');
  const noPause = { pause: async () => undefined, log: { failed: () => undefined } };

  it('is refused to a non-admin and, without a policy, to everyone', async () => {
    const store = new InMemorySessionStore({ sessions: sessionsOf(ALICE_ARN, 2) });
    const revoke = revokeUserSessions({ store, clock: new ManualClock(NOW), ...noPause });
    const input = { user: 'alice@example.com', reason: 'r' };
    expect((await revoke({ ...input, operator: as(ALICE_ARN, 'owner-only') })).ok).toBe(false);
    expect(await revoke({ ...input, operator: as(ADMIN_ARN, 'unknown') })).toEqual({
      ok: false,
      refusal: { kind: 'PolicyUnavailable' },
    });
    expect(store.all().every((s) => s.status === 'active')).toBe(true);
  });

  it('a transient store error is retried by the next pass; a persistent one is reported', async () => {
    const store = new InMemorySessionStore({ sessions: sessionsOf(ALICE_ARN, 5) });
    store.failNext(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }), 'revoke');
    const failures: string[] = [];
    const revoke = revokeUserSessions({
      store,
      clock: new ManualClock(NOW),
      pause: async () => undefined,
      log: { failed: (sessionId) => failures.push(sessionId) },
    });
    const healed = await revoke({ operator: admin, user: 'alice@example.com', reason: 'r' });
    expect(healed).toEqual({
      ok: true,
      value: {
        user: 'alice@example.com',
        revoked: 5,
        alreadyTerminal: 0,
        failed: 0,
        failedSessionIds: [],
        complete: true,
      },
    });
    expect(failures).toHaveLength(1);

    // One session whose revocation always fails: reported, and the run is not complete.
    const stuck = id(100);
    const broken = new InMemorySessionStore({ sessions: [...sessionsOf(BOB_ARN, 3, 100)] });
    const alwaysFails: Pick<SessionStore, 'listByUser' | 'revoke'> = {
      listByUser: (user, page) => broken.listByUser(user, page),
      revoke: async (sessionId, input) => {
        if (sessionId === stuck) throw Object.assign(new Error('boom'), { name: 'InternalServerError' });
        return broken.revoke(sessionId, input);
      },
    };
    const report = await revokeUserSessions({ store: alwaysFails, clock: new ManualClock(NOW), ...noPause })({
      operator: admin,
      user: 'bob@example.com',
      reason: 'r',
    });
    expect(report).toEqual({
      ok: true,
      value: {
        user: 'bob@example.com',
        revoked: 2,
        alreadyTerminal: 0,
        failed: 1,
        failedSessionIds: [stuck],
        complete: false,
      },
    });
  });

  it(`keeps at most ${REVOKE_USER_CONCURRENCY} revocations in flight`, async () => {
    const store = new InMemorySessionStore({ sessions: sessionsOf(ALICE_ARN, 120) });
    let inFlight = 0;
    let most = 0;
    const slow: Pick<SessionStore, 'listByUser' | 'revoke'> = {
      listByUser: (user, page) => store.listByUser(user, page),
      revoke: async (sessionId, input) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        return store.revoke(sessionId, input);
      },
    };
    const report = await revokeUserSessions({ store: slow, clock: new ManualClock(NOW), ...noPause })({
      operator: admin,
      user: 'alice@example.com',
      reason: 'r',
    });
    expect(report.ok && report.value.revoked).toBe(120);
    expect(most).toBe(REVOKE_USER_CONCURRENCY);
  });

  it('counts a session ended by someone else between listing and writing as already terminal', async () => {
    const store = new InMemorySessionStore({ sessions: sessionsOf(ALICE_ARN, 3) });
    const racing: Pick<SessionStore, 'listByUser' | 'revoke'> = {
      listByUser: (user, page) => store.listByUser(user, page),
      revoke: async (sessionId, input) => {
        if (sessionId === id(1))
          await store.expire(sessionId, { reason: 'forced', force: true, now: input.now });
        return store.revoke(sessionId, input);
      },
    };
    const report = await revokeUserSessions({ store: racing, clock: new ManualClock(NOW), ...noPause })({
      operator: admin,
      user: 'alice@example.com',
      reason: 'r',
    });
    expect(report.ok && report.value).toMatchObject({ revoked: 2, alreadyTerminal: 1, complete: true });
  });
});
