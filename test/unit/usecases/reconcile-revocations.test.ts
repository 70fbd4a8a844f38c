/**
 * The reconciler on the in-memory session store and the IAM enforcer over a stateful deny-list table and IAM
 * (test/support/deny-list-world.ts): outcomes are the rows and the policy IAM holds, not calls made.
 */

import type { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbDenyListSource } from '../../../src/adapters/dynamodb-deny-list-source.js';
import type { Session } from '../../../src/domain/session.js';
import type { DenyListSource } from '../../../src/ports.js';
import { createRevocationEnforcer } from '../../../src/usecases/enforce-revocation.js';
import {
  createRevocationReconciler,
  DEFAULT_RECONCILE_LIMITS,
  type ReconcileDeps,
} from '../../../src/usecases/reconcile-revocations.js';
import { denyListWorld } from '../../support/deny-list-world.js';
import { InMemorySessionStore } from '../../support/in-memory-session-store.js';
import { at, makeSession } from '../../support/session-store-contract.js';

const START = new Date('2090-05-01T12:00:00.000Z');

const setup = (options: { readonly limits?: Partial<typeof DEFAULT_RECONCILE_LIMITS> } = {}) => {
  const world = denyListWorld({ roleName: 'sentinel-readonly', otherPolicyChars: 0, start: START });
  const store = new InMemorySessionStore();
  const enforce = createRevocationEnforcer({ enforcer: world.enforcer, clock: world.clock });
  // The real row reader over the world's table.
  const denyLists = new DynamoDbDenyListSource({
    documentClient: {
      send: async (command: GetCommand) => ({
        Item: structuredClone(world.rows.get(String(command.input.Key?.roleArn))),
      }),
    } as unknown as DynamoDBDocumentClient,
    tableName: 'deny-list',
  });
  const reconcilerWith = (overrides: Partial<ReconcileDeps> = {}) =>
    createRevocationReconciler({
      store,
      denyLists,
      enforce,
      clock: world.clock,
      limits: { ...DEFAULT_RECONCILE_LIMITS, ...options.limits },
      ...overrides,
    });
  /**
   * A session created `ageSeconds` ago (default 10 min), revoked 2 minutes ago (past the fan-out's grace); its
   * fan-out never ran.
   */
  const revoked = async (ageSeconds = 600, revokedSecondsAgo = 120): Promise<Session> => {
    const session = makeSession({ now: at(world.clock.now(), -ageSeconds) });
    await store.create(session);
    const now = at(world.clock.now(), -revokedSecondsAgo);
    const result = await store.revoke(session.sessionId, { by: 'ops', reason: 'r', now });
    if (!result.ok) throw new Error('fixture');
    return result.value;
  };
  /** The fan-out as it runs when nothing fails. */
  const fanOut = (session: Session) =>
    enforce({ sessionId: session.sessionId, roleArn: session.roleArn, expiresAt: session.expiresAt });
  /** Whether the policy IAM holds denies a credential of the session issued just before its revocation. */
  const denied = (session: Session) =>
    world.denies(session.sessionId, new Date(Date.parse(session.revokedAt ?? '') - 1000));
  return { world, store, denyLists, reconcile: reconcilerWith(), reconcilerWith, revoked, fanOut, denied };
};

describe('reconcileRevocations', () => {
  it('enforces a revocation whose fan-out failed, and finds it denied on the next pass', async () => {
    // Prepare
    const t = setup();
    const session = await t.revoked();
    t.world.clock.advanceSeconds(300);
    expect(t.denied(session)).toBe(false);
    // Act
    const report = await t.reconcile();
    // Assess
    expect(report).toMatchObject({ checked: 1, denied: 0, failed: [] });
    expect(report.healed).toEqual([
      expect.objectContaining({ sessionId: session.sessionId, reason: 'not-listed', alreadyDenied: false }),
    ]);
    expect(t.denied(session)).toBe(true);
    const row = t.world.rows.get(session.roleArn);
    expect(row?.enforcedVersion).toBe(row?.version);
    const next = await t.reconcile();
    expect(next).toMatchObject({ checked: 1, denied: 1, healed: [], failed: [] });
  });

  it('leaves a session already denied untouched (no write)', async () => {
    const t = setup();
    const session = await t.revoked();
    await t.fanOut(session);
    const before = structuredClone(t.world.rows.get(session.roleArn));
    t.world.clock.advanceSeconds(300);

    const report = await t.reconcile();

    expect(report).toMatchObject({ checked: 1, denied: 1, healed: [], failed: [], deferred: 0 });
    expect(t.world.rows.get(session.roleArn)).toEqual(before);
  });

  it('ignores a session revoked longer ago than the credential maximum plus the margin', async () => {
    const t = setup();
    await t.revoked();
    // Revoked 3,901 s ago: 1 s past the credential maximum plus the margin.
    t.world.clock.advanceSeconds(3900 - 120 + 1);

    const report = await t.reconcile();

    expect(report).toMatchObject({ checked: 0, healed: [] });
    expect(t.world.rows.size).toBe(0);
  });

  it('counts as lapsed a session revoked recently but past its expiry by more than the window', async () => {
    const t = setup();
    // Created 3 h ago, so its expiry (created + 1 h) is 2 h back: nothing of it can be alive.
    await t.revoked(3 * 3600);

    const report = await t.reconcile();

    expect(report).toMatchObject({ checked: 1, lapsed: 1, healed: [] });
    expect(t.world.rows.size).toBe(0);
  });

  it('re-puts a list IAM never accepted (the put failed after the row was recorded)', async () => {
    const t = setup();
    const session = await t.revoked();
    await t.fanOut(session);
    const row = t.world.rows.get(session.roleArn);
    if (!row) throw new Error('fixture');
    // The policy of this version never reached IAM.
    t.world.rows.set(session.roleArn, { ...row, enforcedVersion: 0 });
    t.world.policies.clear();

    const report = await t.reconcile();

    expect(report.healed).toEqual([expect.objectContaining({ reason: 'not-accepted-by-iam' })]);
    expect(t.denied(session)).toBe(true);
    expect(t.world.rows.get(session.roleArn)?.enforcedVersion).toBe(row.version);
  });

  it('leaves alone a session the role-wide token-issue-time cut IAM accepted already denies', async () => {
    const t = setup();
    const session = await t.revoked();
    const cut = at(t.world.clock.now(), 300).toISOString();
    const row = {
      roleArn: session.roleArn,
      version: 3,
      enforcedVersion: 3,
      entries: {},
      mode: 'token-issue-time',
      tokenIssuedBefore: cut,
    };
    t.world.rows.set(session.roleArn, row);
    t.world.clock.advanceSeconds(400);

    const report = await t.reconcile();

    expect(report).toMatchObject({ checked: 1, deniedByTokenIssueTime: 1, healed: [] });
    expect(t.world.rows.get(session.roleArn)).toEqual(row);
  });

  it('drains a backlog larger than one run’s bound over several runs, newest revocation first', async () => {
    const t = setup({ limits: { maxHeals: 2 } });
    const sessions: Session[] = [];
    for (let i = 0; i < 5; i++) {
      sessions.push(await t.revoked());
      t.world.clock.advanceSeconds(10);
    }

    const runs = [];
    for (let run = 0; run < 4; run++) runs.push(await t.reconcile());

    expect(runs.map((r) => r.healed.length)).toEqual([2, 2, 1, 0]);
    expect(runs.map((r) => r.deferred)).toEqual([3, 1, 0, 0]);
    expect(runs.map((r) => r.denied)).toEqual([0, 2, 4, 5]);
    expect(runs[0]?.healed.map((h) => h.sessionId)).toEqual([sessions[4]?.sessionId, sessions[3]?.sessionId]);
    expect(sessions.every(t.denied)).toBe(true);
  });

  it('goes on past a session that cannot be healed, reports it, and heals it on a later run', async () => {
    const t = setup();
    const [first, second] = [await t.revoked(), await t.revoked()];
    if (!first || !second) throw new Error('fixture');
    const enforce = createRevocationEnforcer({ enforcer: t.world.enforcer, clock: t.world.clock });
    let failing = true;
    const flaky = t.reconcilerWith({
      enforce: async (input) => {
        if (failing && input.sessionId === first.sessionId) throw new Error('IAM is having a bad day');
        return enforce(input);
      },
    });

    const report = await flaky();

    expect(report.failed).toEqual([
      {
        sessionId: first.sessionId,
        roleArn: first.roleArn,
        stage: 'heal',
        error: { errorName: 'Error', errorMessage: 'IAM is having a bad day' },
      },
    ]);
    expect(report.healed.map((h) => h.sessionId)).toEqual([second.sessionId]);
    expect(t.denied(second)).toBe(true);
    expect(t.denied(first)).toBe(false);

    failing = false;
    expect((await flaky()).healed.map((h) => h.sessionId)).toEqual([first.sessionId]);
    expect(t.denied(first)).toBe(true);
  });

  it('reports a role whose deny list cannot be read and still heals the other roles', async () => {
    const t = setup();
    const broken = await t.revoked();
    const other = makeSession({ now: at(t.world.clock.now(), -600) });
    const elsewhere = { ...other, roleArn: 'arn:aws:iam::123456789012:role/sentinel-admin' };
    await t.store.create(elsewhere);
    await t.store.revoke(elsewhere.sessionId, { by: 'ops', reason: 'r', now: at(t.world.clock.now(), -120) });
    const denyLists: DenyListSource = {
      read: async (roleArn) => {
        if (roleArn === broken.roleArn) throw new Error('ProvisionedThroughputExceededException');
        return t.denyLists.read(roleArn);
      },
    };

    const report = await t.reconcilerWith({ denyLists })();

    expect(report.failed).toEqual([expect.objectContaining({ sessionId: broken.sessionId, stage: 'check' })]);
    expect(report.healed.map((h) => h.sessionId)).toEqual([elsewhere.sessionId]);
  });

  it('fails the run when the enforceable sessions cannot be listed', async () => {
    const t = setup();
    await t.revoked();
    t.store.failNext(new Error('DynamoDB unreachable'), 'listEnforceable');

    await expect(t.reconcile()).rejects.toThrow('DynamoDB unreachable');
    expect(t.world.rows.size).toBe(0);
  });

  it('stops at its session bound and when its time is up, saying why', async () => {
    const t = setup({ limits: { maxSessions: 2, pageSize: 1 } });
    for (let i = 0; i < 3; i++) await t.revoked();

    const bounded = await t.reconcile();
    expect(bounded).toMatchObject({ checked: 2, stoppedBy: 'session-limit' });

    const late = await t.reconcilerWith({ shouldStop: () => true })();
    expect(late).toMatchObject({ checked: 0, healed: [], stoppedBy: 'deadline' });
  });

  it('re-enforces a forced expiry like a revocation', async () => {
    const t = setup();
    const session = makeSession({ now: at(t.world.clock.now(), -600) });
    await t.store.create(session);
    await t.store.expire(session.sessionId, {
      reason: 'forced',
      now: at(t.world.clock.now(), -120),
      force: true,
    });

    const report = await t.reconcile();

    expect(report.healed.map((h) => h.sessionId)).toEqual([session.sessionId]);
    expect(t.world.denies(session.sessionId, at(t.world.clock.now(), -121))).toBe(true);
  });

  it('leaves a revocation under a minute old to its fan-out, and checks it on the next run', async () => {
    const t = setup();
    const session = await t.revoked(600, 30);

    const early = await t.reconcile();
    expect(early).toMatchObject({ checked: 0, inFlight: 1, healed: [] });
    expect(t.world.rows.size).toBe(0);

    t.world.clock.advanceSeconds(300);
    const next = await t.reconcile();
    expect(next).toMatchObject({ checked: 1, inFlight: 0 });
    expect(next.healed.map((h) => h.sessionId)).toEqual([session.sessionId]);
  });
});
