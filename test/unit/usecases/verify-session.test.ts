/**
 * The downstream verifier's table: only an active, unexpired session presented by its own role and name is
 * allowed; every other case is a named deny. Then the allow cache: honoured, bounded, never holding a deny.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import { InvalidInputError } from '../../../src/domain/errors.js';
import type { Session } from '../../../src/domain/session.js';
import {
  createSessionVerifier,
  type VerifyDecision,
  verifySession,
} from '../../../src/usecases/verify-session.js';
import { InMemorySessionStore } from '../../support/in-memory-session-store.js';
import { callerArnFor, IDS, SESSIONS, VERIFIER_NOW } from '../../support/verifier-world.js';

const storeWithFixtures = () =>
  new InMemorySessionStore().seed(
    SESSIONS.active,
    SESSIONS.expired,
    SESSIONS.revoked,
    SESSIONS.otherOwner,
    SESSIONS.storeDown,
  );
const fixedClock = { now: () => VERIFIER_NOW };
const outcomeOf = (decision: VerifyDecision) => decision.outcome;

describe('verifySession', () => {
  it.each([
    ['active', callerArnFor(IDS.active), 'Allowed'],
    ['expired', callerArnFor(IDS.expired), 'SessionExpired'],
    ['revoked', callerArnFor(IDS.revoked), 'SessionRevoked'],
    ['unknown', callerArnFor(IDS.unknown), 'UnknownSession'],
    ['TTL-deleted (no row)', callerArnFor(IDS.ttlDeleted), 'UnknownSession'],
    ['other role', callerArnFor(IDS.otherOwner, 'sentinel-admin'), 'OwnerMismatch'],
    ['other account', callerArnFor(IDS.otherOwner, 'sentinel-readonly', '210987654321'), 'OwnerMismatch'],
    ['malformed ARN', 'arn:aws:sts::12345:assumed-role', 'MalformedCallerArn'],
    ['unknown partition', 'arn:aws-mars:sts::123456789012:assumed-role/r/s', 'MalformedCallerArn'],
    ['not an ARN', 'alice', 'MalformedCallerArn'],
    ['IAM user', 'arn:aws:iam::123456789012:user/bob', 'NotSentinelSession'],
    [
      'someone else’s session name',
      'arn:aws:sts::123456789012:assumed-role/sentinel-readonly/alice',
      'NotSentinelSession',
    ],
  ])('%s → %s', async (_case, callerArn, outcome) => {
    // Prepare
    const store = storeWithFixtures();
    // Act
    const decision = await verifySession(callerArn, { store, clock: fixedClock });
    // Assess
    expect(outcomeOf(decision)).toBe(outcome);
    expect(decision.allowed).toBe(outcome === 'Allowed');
  });

  it('the store down → StoreError (fail closed), naming the session', async () => {
    const store = storeWithFixtures().failNext(new Error('connect ETIMEDOUT'), 'get');
    const decision = await verifySession(callerArnFor(IDS.storeDown), { store, clock: fixedClock });
    expect(decision).toMatchObject({ allowed: false, outcome: 'StoreError', sessionId: IDS.storeDown });
  });

  it('an active row past its expiresAt (the workflow has not run yet) → SessionExpired', async () => {
    const store = storeWithFixtures();
    const later = { now: () => new Date(Date.parse(SESSIONS.active.expiresAt) + 1000) };
    expect(outcomeOf(await verifySession(callerArnFor(IDS.active), { store, clock: later }))).toBe(
      'SessionExpired',
    );
  });

  it('the same id under the same role but another user prefix → OwnerMismatch', async () => {
    const store = storeWithFixtures();
    const arn = callerArnFor(IDS.active).replace(/-alice$/, '-mallory');
    expect(outcomeOf(await verifySession(arn, { store, clock: fixedClock }))).toBe('OwnerMismatch');
  });

  it('the role path of the row does not matter (assumed-role ARNs drop it)', async () => {
    const onPath: Session = {
      ...SESSIONS.active,
      roleArn: 'arn:aws:iam::123456789012:role/team/a/sentinel-readonly',
    };
    const store = new InMemorySessionStore().seed(onPath);
    expect(outcomeOf(await verifySession(callerArnFor(IDS.active), { store, clock: fixedClock }))).toBe(
      'Allowed',
    );
  });

  it('an allow carries the session, never a credential', async () => {
    const decision = await verifySession(callerArnFor(IDS.active), {
      store: storeWithFixtures(),
      clock: fixedClock,
    });
    expect(decision).toEqual({
      allowed: true,
      outcome: 'Allowed',
      cached: false,
      session: {
        sessionId: IDS.active,
        user: 'alice',
        profile: 'readonly',
        roleArn: SESSIONS.active.roleArn,
        expiresAt: SESSIONS.active.expiresAt,
      },
    });
  });
});

describe('createSessionVerifier allow cache', () => {
  it('serves an allow from the cache within its TTL, then sees the revocation once the TTL passed', async () => {
    // Prepare
    const clock = new ManualClock(VERIFIER_NOW);
    const store = storeWithFixtures();
    const verifier = createSessionVerifier({ store, clock, allowCacheSeconds: 5 });
    const arn = callerArnFor(IDS.active);
    expect(await verifier.verify(arn)).toMatchObject({ outcome: 'Allowed', cached: false });
    // Act: revoked in the store; 4.9 s later the cache still answers, at 5 s it does not.
    await store.revoke(IDS.active, { by: 'security', reason: 'test', now: clock.now() });
    clock.advanceSeconds(4.9);
    const within = await verifier.verify(arn);
    clock.advanceSeconds(0.1);
    const after = await verifier.verify(arn);
    // Assess
    expect(within).toMatchObject({ outcome: 'Allowed', cached: true });
    expect(after).toMatchObject({ outcome: 'SessionRevoked', allowed: false });
  });

  it('0 disables the cache: a revocation bites on the next call', async () => {
    const clock = new ManualClock(VERIFIER_NOW);
    const store = storeWithFixtures();
    const verifier = createSessionVerifier({ store, clock, allowCacheSeconds: 0 });
    const arn = callerArnFor(IDS.active);
    await verifier.verify(arn);
    await store.revoke(IDS.active, { by: 'security', reason: 'test', now: clock.now() });
    expect(outcomeOf(await verifier.verify(arn))).toBe('SessionRevoked');
    expect(verifier.cachedAllows()).toBe(0);
  });

  it('never caches a deny: an unknown session created later is allowed at once', async () => {
    const clock = new ManualClock(VERIFIER_NOW);
    const store = new InMemorySessionStore();
    const verifier = createSessionVerifier({ store, clock, allowCacheSeconds: 5 });
    const arn = callerArnFor(IDS.active);
    expect(outcomeOf(await verifier.verify(arn))).toBe('UnknownSession');
    store.seed(SESSIONS.active);
    expect(outcomeOf(await verifier.verify(arn))).toBe('Allowed');
    expect(verifier.cachedAllows()).toBe(1);
  });

  it('never keeps an allow past the session’s expiresAt', async () => {
    const expiresAt = new Date(VERIFIER_NOW.getTime() + 2000).toISOString();
    const store = new InMemorySessionStore().seed({ ...SESSIONS.active, expiresAt });
    const clock = new ManualClock(VERIFIER_NOW);
    const verifier = createSessionVerifier({ store, clock, allowCacheSeconds: 5 });
    const arn = callerArnFor(IDS.active);
    await verifier.verify(arn);
    clock.advanceSeconds(2);
    expect(outcomeOf(await verifier.verify(arn))).toBe('SessionExpired');
  });

  it('is bounded: past allowCacheMaxEntries the oldest allow is dropped and read again', async () => {
    // Prepare: 50 active sessions, room for 10.
    const ids = Array.from({ length: 50 }, (_, n) => `b${n.toString(16).padStart(31, '0')}`);
    const store = new InMemorySessionStore().seed(
      ...ids.map((sessionId) => ({ ...SESSIONS.active, sessionId })),
    );
    const clock = new ManualClock(VERIFIER_NOW);
    const verifier = createSessionVerifier({ store, clock, allowCacheSeconds: 5, allowCacheMaxEntries: 10 });
    // Act
    for (const id of ids) await verifier.verify(callerArnFor(id));
    const newest = await verifier.verify(callerArnFor(ids[49] ?? ''));
    const oldest = await verifier.verify(callerArnFor(ids[0] ?? ''));
    // Assess
    expect(verifier.cachedAllows()).toBe(10);
    expect(newest).toMatchObject({ outcome: 'Allowed', cached: true });
    expect(oldest).toMatchObject({ outcome: 'Allowed', cached: false });
  });

  it('reports every decision, cached or not, to onDecision', async () => {
    const seen: string[] = [];
    const verifier = createSessionVerifier({
      store: storeWithFixtures(),
      clock: fixedClock,
      onDecision: (decision) =>
        seen.push(`${decision.outcome}${decision.allowed && decision.cached ? ' (cached)' : ''}`),
    });
    await verifier.verify(callerArnFor(IDS.active));
    await verifier.verify(callerArnFor(IDS.active));
    await verifier.verify(callerArnFor(IDS.revoked));
    expect(seen).toEqual(['Allowed', 'Allowed (cached)', 'SessionRevoked']);
  });

  it.each([[-1], [6], [Number.NaN]])('refuses a cache TTL of %s seconds (0-5 only)', (allowCacheSeconds) => {
    expect(() =>
      createSessionVerifier({ store: storeWithFixtures(), clock: fixedClock, allowCacheSeconds }),
    ).toThrow(InvalidInputError);
  });
});
