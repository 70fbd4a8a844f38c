/**
 * The SessionStore contract, run against every implementation (DynamoDbSessionStore on DynamoDB Local and
 * the InMemorySessionStore test double), so the fake the use-case tests rely on cannot drift from the table.
 *
 * Implementations may share data between tests (one DynamoDB table per file): every test uses its own ids and
 * users, and listActive tests use instants later than every other test's sessions.
 */
import { describe, expect, it } from 'vitest';
import { ttlFor } from '../../src/domain/durations.js';
import { InvalidCursorError, SessionAlreadyExistsError } from '../../src/domain/errors.js';
import { randomIds } from '../../src/domain/ids.js';
import { newSession, type Session, type TransitionResult } from '../../src/domain/session.js';
import type { SessionStore } from '../../src/ports.js';
import { iamUserCaller } from './callers.js';

export const CONTRACT_AUDIT_RETENTION_SECONDS = 3600;
export const CONTRACT_POLICY = { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 4 * 3600 } as const;

/**
 * Far in the future on purpose: DynamoDB Local's TTL sweeper really deletes rows whose `ttl` is behind the wall
 * clock, at random moments, so fixtures dated in the past vanish mid-test.
 */
const T0 = new Date('2090-01-01T00:00:00.000Z');
export const at = (base: Date, seconds: number): Date => new Date(base.getTime() + seconds * 1000);
const iso = (base: Date, seconds: number): string => at(base, seconds).toISOString();

let userSeq = 0;
/** A user name no other test (or earlier run against the same table) uses. */
export const freshUser = (): string => `user-${randomIds.sessionId().slice(0, 8)}-${++userSeq}`;

/** A new active session (expires at now + 1 h, hard cap now + 4 h). */
export const makeSession = (overrides: { user?: string; now?: Date; sessionId?: string } = {}): Session => {
  const user = overrides.user ?? freshUser();
  return newSession({
    sessionId: overrides.sessionId ?? randomIds.sessionId(),
    caller: iamUserCaller(user),
    profile: 'readonly',
    roleArn: 'arn:aws:iam::123456789012:role/sentinel-readonly',
    sourceIdentity: `sentinel:${user}:direct:req-1`,
    policy: CONTRACT_POLICY,
    now: overrides.now ?? T0,
    auditRetentionSeconds: CONTRACT_AUDIT_RETENTION_SECONDS,
  });
};

const succeeded = (result: TransitionResult): Session => {
  if (!result.ok) throw new Error(`expected success, got refusal ${result.refusal.kind}`);
  return result.value;
};

const refusedWith = (result: TransitionResult) => {
  if (result.ok) throw new Error('expected a refusal, got success');
  return result.refusal;
};

/** Collects every page of a listing. */
const allPages = async (
  list: (cursor: string | undefined) => Promise<{ items: readonly Session[]; cursor?: string }>,
): Promise<{ pages: Session[][]; cursors: (string | undefined)[] }> => {
  const pages: Session[][] = [];
  const cursors: (string | undefined)[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push([...page.items]);
    cursors.push(page.cursor);
    cursor = page.cursor;
    if (pages.length > 50) throw new Error('pagination does not end');
  } while (cursor !== undefined);
  return { pages, cursors };
};

/**
 * `store()` is read inside each test (the DynamoDB store only exists after beforeAll); it must be configured
 * with auditRetentionSeconds = CONTRACT_AUDIT_RETENTION_SECONDS.
 */
export const sessionStoreContract = (name: string, store: () => SessionStore): void => {
  describe(`SessionStore contract: ${name}`, () => {
    describe('create / get', () => {
      it('stores a session and reads it back exactly', async () => {
        // Prepare
        const session = makeSession();
        // Act
        await store().create(session);
        // Assess
        expect(await store().get(session.sessionId)).toEqual(session);
      });

      it('refuses a second create with the same id and keeps the first row', async () => {
        const first = makeSession();
        await store().create(first);
        const second = { ...makeSession({ sessionId: first.sessionId }), profile: 'admin' };

        await expect(store().create(second)).rejects.toBeInstanceOf(SessionAlreadyExistsError);

        expect(await store().get(first.sessionId)).toEqual(first);
      });

      it('returns undefined for an unknown id', async () => {
        expect(await store().get(randomIds.sessionId())).toBeUndefined();
      });
    });

    describe('touch', () => {
      it('counts the use and sets lastAccessAt without moving expiry when no extension is asked', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 600),
        });

        const touched = succeeded(result);
        expect(touched).toEqual({
          ...session,
          lastAccessAt: iso(T0, 600),
          requestCount: 2,
          version: 2,
        });
        expect(await store().get(session.sessionId)).toEqual(touched);
      });

      it('extends expiry to extendTo and moves ttl with it', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 1800),
          extendTo: iso(T0, 5400),
        });

        const touched = succeeded(result);
        expect(touched.expiresAt).toBe(iso(T0, 5400));
        expect(touched.ttl).toBe(ttlFor(iso(T0, 5400), CONTRACT_AUDIT_RETENTION_SECONDS));
        expect(await store().get(session.sessionId)).toEqual(touched);
      });

      it('caps an extension at maxExpiresAt', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 3000),
          extendTo: iso(T0, 10 * 3600),
        });

        const touched = succeeded(result);
        expect(touched.expiresAt).toBe(session.maxExpiresAt);
        expect(touched.requestCount).toBe(2);
        expect(await store().get(session.sessionId)).toEqual(touched);
      });

      it('never moves expiry backwards (a stale extendTo still counts the use)', async () => {
        const session = makeSession();
        await store().create(session);
        await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 60),
          extendTo: iso(T0, 7200),
        });

        const result = await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 120),
          extendTo: iso(T0, 3660),
        });

        const touched = succeeded(result);
        expect(touched.expiresAt).toBe(iso(T0, 7200));
        expect(touched.lastAccessAt).toBe(iso(T0, 120));
        expect(touched.requestCount).toBe(3);
        expect(touched.version).toBe(3);
      });

      it('refuses another principal with NotOwner and changes nothing', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().touch(session.sessionId, {
          principalArn: 'arn:aws:iam::123456789012:user/mallory',
          now: at(T0, 60),
          extendTo: iso(T0, 3000),
        });

        expect(refusedWith(result)).toEqual({ kind: 'NotOwner', session });
        expect(await store().get(session.sessionId)).toEqual(session);
      });

      it.each([
        [
          'its profile is no longer on the allowlist',
          [{ profile: 'admin', roleArn: 'arn:aws:iam::123456789012:role/sentinel-admin' }],
        ],
        [
          'its profile now maps to another role',
          [{ profile: 'readonly', roleArn: 'arn:aws:iam::123456789012:role/other' }],
        ],
      ])('refuses with NotGranted when %s, and changes nothing', async (_label, grants) => {
        const session = makeSession();
        await store().create(session);

        const result = await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 60),
          extendTo: iso(T0, 3000),
          grants,
        });

        expect(refusedWith(result)).toEqual({ kind: 'NotGranted', session });
        expect(await store().get(session.sessionId)).toEqual(session);
      });

      it.each([1, 3])('touches a session whose grant is one of %i on the allowlist', async (count) => {
        const session = makeSession();
        await store().create(session);
        const others = Array.from({ length: count - 1 }, (_, i) => ({
          profile: `p${i}`,
          roleArn: `arn:aws:iam::123456789012:role/r${i}`,
        }));

        const result = await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 60),
          grants: [...others, { profile: session.profile, roleArn: session.roleArn }],
        });

        expect(succeeded(result).requestCount).toBe(session.requestCount + 1);
      });

      it.each([
        ['with an extension capped by the hard limit', 'extend'],
        ['without an extension', 'keep'],
      ])(
        'refuses AtMaxLifetime %s when the session would end before minEndsAt, and changes nothing',
        async (_l, mode) => {
          // Prepare: 4 h hard cap, already extended to it; at T0 + 3 h 50 min only 10 minutes are left
          // whatever the touch does.
          const session = makeSession();
          await store().create(session);
          const now = at(T0, 3 * 3600 + 50 * 60);
          await store().touch(session.sessionId, {
            principalArn: session.principalArn,
            now: at(T0, 60),
            extendTo: session.maxExpiresAt,
          });
          const before = await store().get(session.sessionId);
          // Act
          const result = await store().touch(session.sessionId, {
            principalArn: session.principalArn,
            now,
            ...(mode === 'extend' ? { extendTo: iso(T0, 5 * 3600) } : {}),
            minEndsAt: iso(T0, 3 * 3600 + 50 * 60 + 930),
          });
          // Assess
          expect(refusedWith(result).kind).toBe('AtMaxLifetime');
          expect(await store().get(session.sessionId)).toEqual(before);
          expect(before?.expiresAt).toBe(session.maxExpiresAt);
        },
      );

      it('refuses an extendTo before minEndsAt as a caller bug, writing nothing', async () => {
        const session = makeSession();
        await store().create(session);
        await expect(
          store().touch(session.sessionId, {
            principalArn: session.principalArn,
            now: at(T0, 60),
            extendTo: iso(T0, 600),
            minEndsAt: iso(T0, 1200),
          }),
        ).rejects.toThrow(/before minEndsAt/);
        expect(await store().get(session.sessionId)).toEqual(session);
      });

      it('refuses a session at or past its expiry with Expired and changes nothing', async () => {
        const session = makeSession();
        await store().create(session);

        const atExpiry = await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 3600),
        });
        const after = await store().touch(session.sessionId, {
          principalArn: session.principalArn,
          now: at(T0, 3700),
          extendTo: iso(T0, 7000),
        });

        expect(refusedWith(atExpiry)).toEqual({ kind: 'Expired', session });
        expect(refusedWith(after)).toEqual({ kind: 'Expired', session });
        expect(await store().get(session.sessionId)).toEqual(session);
      });

      it.each(['revoked', 'expired'] as const)(
        'refuses a %s session with AlreadyTerminal and changes nothing',
        async (status) => {
          const session = makeSession();
          await store().create(session);
          const ended = succeeded(
            status === 'revoked'
              ? await store().revoke(session.sessionId, { by: 'ops', reason: 'test', now: at(T0, 10) })
              : await store().expire(session.sessionId, { reason: 'forced', now: at(T0, 10), force: true }),
          );

          const result = await store().touch(session.sessionId, {
            principalArn: session.principalArn,
            now: at(T0, 20),
            extendTo: iso(T0, 3000),
          });

          expect(refusedWith(result)).toEqual({ kind: 'AlreadyTerminal', status, session: ended });
          expect(await store().get(session.sessionId)).toEqual(ended);
        },
      );

      it('refuses an unknown id with NotFound and creates nothing', async () => {
        const id = randomIds.sessionId();

        const result = await store().touch(id, {
          principalArn: 'arn:aws:iam::123456789012:user/alice',
          now: T0,
          extendTo: iso(T0, 60),
        });

        expect(refusedWith(result)).toEqual({ kind: 'NotFound' });
        expect(await store().get(id)).toBeUndefined();
      });
    });

    describe('revoke', () => {
      it('moves an active session to revoked with who, why and when', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().revoke(session.sessionId, {
          by: 'security-team',
          reason: 'laptop lost',
          now: at(T0, 300),
        });

        const revoked = succeeded(result);
        expect(revoked).toEqual({
          ...session,
          status: 'revoked',
          revokedAt: iso(T0, 300),
          revokedBy: 'security-team',
          revokedReason: 'laptop lost',
          version: 2,
        });
        expect(await store().get(session.sessionId)).toEqual(revoked);
      });

      it('revokes even past expiry (revocation is stronger than expiry)', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().revoke(session.sessionId, {
          by: 'ops',
          reason: 'late',
          now: at(T0, 9000),
        });

        expect(succeeded(result).status).toBe('revoked');
      });

      it('refuses a second revoke with AlreadyTerminal carrying the stored session', async () => {
        const session = makeSession();
        await store().create(session);
        const first = succeeded(
          await store().revoke(session.sessionId, { by: 'a', reason: 'one', now: at(T0, 1) }),
        );

        const second = await store().revoke(session.sessionId, { by: 'b', reason: 'two', now: at(T0, 2) });

        expect(refusedWith(second)).toEqual({ kind: 'AlreadyTerminal', status: 'revoked', session: first });
        expect(await store().get(session.sessionId)).toEqual(first);
      });

      it('refuses an unknown id with NotFound and creates nothing', async () => {
        const id = randomIds.sessionId();

        const result = await store().revoke(id, { by: 'ops', reason: 'x', now: T0 });

        expect(refusedWith(result)).toEqual({ kind: 'NotFound' });
        expect(await store().get(id)).toBeUndefined();
      });
    });

    describe('expire', () => {
      it('refuses before expiry with NotYetExpired and changes nothing', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().expire(session.sessionId, { reason: 'workflow', now: at(T0, 3599) });

        expect(refusedWith(result)).toEqual({ kind: 'NotYetExpired', session });
        expect(await store().get(session.sessionId)).toEqual(session);
      });

      it('expires at expiry with the reason and time', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().expire(session.sessionId, { reason: 'workflow', now: at(T0, 3600) });

        const expired = succeeded(result);
        expect(expired).toEqual({
          ...session,
          status: 'expired',
          expiredAt: iso(T0, 3600),
          expiredReason: 'workflow',
          version: 2,
        });
        expect(await store().get(session.sessionId)).toEqual(expired);
      });

      it('expires early when forced', async () => {
        const session = makeSession();
        await store().create(session);

        const result = await store().expire(session.sessionId, {
          reason: 'forced',
          now: at(T0, 5),
          force: true,
        });

        expect(succeeded(result)).toMatchObject({ status: 'expired', expiredReason: 'forced' });
      });

      it('refuses an already revoked session with AlreadyTerminal and keeps it revoked', async () => {
        const session = makeSession();
        await store().create(session);
        const revoked = succeeded(
          await store().revoke(session.sessionId, { by: 'a', reason: 'r', now: at(T0, 1) }),
        );

        const result = await store().expire(session.sessionId, { reason: 'lazy', now: at(T0, 9000) });

        expect(refusedWith(result)).toEqual({ kind: 'AlreadyTerminal', status: 'revoked', session: revoked });
        expect(await store().get(session.sessionId)).toEqual(revoked);
      });

      it('refuses an unknown id with NotFound and creates nothing', async () => {
        const id = randomIds.sessionId();

        const result = await store().expire(id, { reason: 'ttl', now: T0, force: true });

        expect(refusedWith(result)).toEqual({ kind: 'NotFound' });
        expect(await store().get(id)).toBeUndefined();
      });
    });

    describe('races (invariant 1)', () => {
      it('lets exactly one of 20 concurrent revoke/expire calls win; the rest get AlreadyTerminal', async () => {
        // Prepare: a session already past expiry, so an unforced expire can win too.
        const session = makeSession();
        await store().create(session);
        const late = at(T0, 4000);

        // Act: revokes, forced expires and past-expiry expires, all at once.
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            i % 3 === 0
              ? store().revoke(session.sessionId, { by: `op-${i}`, reason: `race-${i}`, now: late })
              : store().expire(session.sessionId, {
                  reason: i % 3 === 1 ? 'forced' : 'lazy',
                  now: late,
                  force: i % 3 === 1,
                }),
          ),
        );

        // Assess
        const winners = results.filter((r) => r.ok);
        const losers = results.filter((r) => !r.ok);
        expect(winners).toHaveLength(1);
        const [won] = winners;
        if (won === undefined) throw new Error('no winner');
        const winner = succeeded(won);
        expect(losers).toHaveLength(19);
        for (const loser of losers) {
          expect(refusedWith(loser)).toEqual({
            kind: 'AlreadyTerminal',
            status: winner.status,
            session: winner,
          });
        }
        const stored = await store().get(session.sessionId);
        expect(stored).toEqual(winner);
        expect(stored?.version).toBe(2);
        expect(['revoked', 'expired']).toContain(stored?.status);
        expect(stored?.status === 'revoked' ? stored.expiredAt : stored?.revokedAt).toBeUndefined();
      });
    });

    describe('listByUser', () => {
      it('pages newest first across small pages, only this user, no cursor on the last page', async () => {
        const user = freshUser();
        const mine = Array.from({ length: 5 }, (_, i) => makeSession({ user, now: at(T0, i * 60) }));
        for (const session of [...mine].reverse()) await store().create(session);
        await store().create(makeSession({ now: at(T0, 30) }));

        const { pages, cursors } = await allPages((cursor) =>
          store().listByUser(user, cursor === undefined ? { limit: 2 } : { limit: 2, cursor }),
        );

        expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
        expect(pages.flat()).toEqual([...mine].reverse());
        expect(cursors.at(-1)).toBeUndefined();
      });

      it('returns a page with no cursor for a user without sessions', async () => {
        expect(await store().listByUser(freshUser())).toEqual({ items: [] });
      });

      it('includes finished sessions (for audit and "revoke all")', async () => {
        const user = freshUser();
        const session = makeSession({ user });
        await store().create(session);
        const revoked = succeeded(await store().revoke(session.sessionId, { by: 'a', reason: 'r', now: T0 }));

        expect((await store().listByUser(user)).items).toEqual([revoked]);
      });

      it.each([
        ['garbage', 'not a cursor!'],
        ['empty JSON object', Buffer.from('{}').toString('base64url')],
        ['tampered JSON', Buffer.from('{"k":"user","user":"x","createdAt":1}').toString('base64url')],
        ['truncated base64', 'eyJrIjoidXNlciIsInVzZXIiOiJ'],
      ])('rejects a %s cursor with InvalidCursorError', async (_, cursor) => {
        await expect(store().listByUser('alice', { cursor })).rejects.toBeInstanceOf(InvalidCursorError);
      });

      it("rejects another user's cursor with InvalidCursorError", async () => {
        const user = freshUser();
        for (const i of [0, 1]) await store().create(makeSession({ user, now: at(T0, i) }));
        const { cursor } = await store().listByUser(user, { limit: 1 });
        expect(cursor).toBeDefined();

        await expect(store().listByUser(freshUser(), { limit: 1, cursor })).rejects.toBeInstanceOf(
          InvalidCursorError,
        );
      });
    });

    describe('listActive', () => {
      it('lists active sessions soonest expiry first across pages, without finished or past-expiry ones', async () => {
        // Prepare: a time window no other test reaches, so the shared table holds nothing else in it.
        const base = new Date('2095-01-01T00:00:00.000Z');
        const sessions = Array.from({ length: 7 }, (_, i) => makeSession({ now: at(base, i * 60) }));
        for (const s of sessions) await store().create(s);
        // The finished ones expire later than the live ones: only their status can keep them out.
        const [pastDue, a, b, c, d, revoked, expired] = sessions;
        if (!pastDue || !a || !b || !c || !d || !revoked || !expired) throw new Error('fixture');
        await store().revoke(revoked.sessionId, { by: 'ops', reason: 'r', now: base });
        await store().expire(expired.sessionId, { reason: 'forced', now: base, force: true });
        // `now` is just past pastDue's expiry and before every other one.
        const now = at(new Date(pastDue.expiresAt), 1);

        const { pages, cursors } = await allPages((cursor) =>
          store().listActive(now, cursor === undefined ? { limit: 2 } : { limit: 2, cursor }),
        );
        const listed = pages.flat().filter((s) => s.expiresAt < at(base, 24 * 3600).toISOString());

        expect(listed).toEqual([a, b, c, d]);
        expect(pages.every((p) => p.length <= 2)).toBe(true);
        expect(cursors.at(-1)).toBeUndefined();
      });

      it('stops listing a session once it is revoked or expired', async () => {
        const base = new Date('2099-06-01T00:00:00.000Z');
        const a = makeSession({ now: base });
        const b = makeSession({ now: base });
        await store().create(a);
        await store().create(b);
        const ids = async () =>
          (await store().listActive(base, { limit: 100 })).items
            .map((s) => s.sessionId)
            .filter((id) => id === a.sessionId || id === b.sessionId)
            .sort();
        expect(await ids()).toEqual([a.sessionId, b.sessionId].sort());

        await store().revoke(a.sessionId, { by: 'ops', reason: 'r', now: base });
        await store().expire(b.sessionId, { reason: 'forced', now: base, force: true });

        expect(await ids()).toEqual([]);
      });

      it.each([
        ['garbage', '%%%'],
        [
          'listByUser-shaped',
          Buffer.from(
            '{"k":"user","user":"a","createdAt":"2026-01-01T00:00:00.000Z","sessionId":"x"}',
          ).toString('base64url'),
        ],
        ['wrong shape', Buffer.from('{"k":"active","shards":[1,2]}').toString('base64url')],
      ])('rejects a %s cursor with InvalidCursorError', async (_, cursor) => {
        await expect(store().listActive(T0, { cursor })).rejects.toBeInstanceOf(InvalidCursorError);
      });
    });

    describe('listEnforceable', () => {
      it('lists revoked and force-expired sessions enforced after `since`, newest first across pages', async () => {
        // Prepare: a window later than every other test's, so only this test's rows are in it.
        const base = new Date('2099-09-01T00:00:00.000Z');
        const sessions = Array.from({ length: 7 }, () => makeSession({ now: base }));
        for (const s of sessions) await store().create(s);
        const [old, r1, f2, r3, r4, active, natural] = sessions;
        if (!old || !r1 || !f2 || !r3 || !r4 || !active || !natural) throw new Error('fixture');
        await store().revoke(old.sessionId, { by: 'ops', reason: 'r', now: at(base, 10) });
        await store().revoke(r1.sessionId, { by: 'ops', reason: 'r', now: at(base, 60) });
        await store().expire(f2.sessionId, { reason: 'forced', now: at(base, 120), force: true });
        await store().revoke(r3.sessionId, { by: 'ops', reason: 'r', now: at(base, 180) });
        await store().revoke(r4.sessionId, { by: 'ops', reason: 'r', now: at(base, 240) });
        // Expired at its end: no credential outlives it, so nothing to enforce.
        await store().expire(natural.sessionId, { reason: 'workflow', now: at(base, 7200) });
        const mine = new Set(sessions.map((s) => s.sessionId));

        // Act: `since` is after old's revocation.
        const { pages, cursors } = await allPages((cursor) =>
          store().listEnforceable(at(base, 30), cursor === undefined ? { limit: 2 } : { limit: 2, cursor }),
        );

        // Assess
        const listed = pages.flat().filter((s) => mine.has(s.sessionId));
        expect(listed.map((s) => s.sessionId)).toEqual([r4, r3, f2, r1].map((s) => s.sessionId));
        expect(listed.map((s) => s.status)).toEqual(['revoked', 'revoked', 'expired', 'revoked']);
        expect(listed[2]).toMatchObject({ expiredReason: 'forced', expiredAt: at(base, 120).toISOString() });
        expect(listed[0]).not.toHaveProperty('enforceShard');
        expect(pages.every((p) => p.length <= 2)).toBe(true);
        expect(cursors.at(-1)).toBeUndefined();
      });

      it('rejects a cursor of another listing (another since, or listActive-shaped) with InvalidCursorError', async () => {
        const base = new Date('2099-10-01T00:00:00.000Z');
        const sessions = Array.from({ length: 3 }, () => makeSession({ now: base }));
        for (const s of sessions) {
          await store().create(s);
          await store().revoke(s.sessionId, { by: 'ops', reason: 'r', now: at(base, 5) });
        }
        const first = await store().listEnforceable(base, { limit: 1 });
        expect(first.cursor).toBeDefined();
        await expect(
          store().listEnforceable(at(base, -60), { limit: 1, cursor: first.cursor ?? '' }),
        ).rejects.toBeInstanceOf(InvalidCursorError);
        const activeShaped = Buffer.from('{"k":"active","shards":["start"]}').toString('base64url');
        await expect(store().listEnforceable(base, { cursor: activeShaped })).rejects.toBeInstanceOf(
          InvalidCursorError,
        );
      });
    });
  });
};
