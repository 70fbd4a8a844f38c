/**
 * The local model of two accounts: the enforcer runs in the home account and a profile role lives in a member
 * account. A session on that role is vended and revoked in the store, and the deployed enforcer use case
 * (re-read, verify, deny) puts it on the member account's deny list through the assumed enforcement role;
 * an account without one refuses the write, as IAM would. Wired directly (the local stack's workflow control
 * runs the same use case).
 */
import { describe, expect, it } from 'vitest';
import { InMemoryAccessEnforcer } from '../../local/in-memory-access-enforcer.js';
import { ManualClock } from '../../local/manual-clock.js';
import { parseCallerArn } from '../../src/domain/identity.js';
import { newSession } from '../../src/domain/session.js';
import { createVerifiedRevocationEnforcer } from '../../src/usecases/enforce-revocation.js';
import { parseProfiles } from '../../src/usecases/vend-profiles.js';
import { InMemorySessionStore } from '../support/in-memory-session-store.js';

const HOME = '111111111111';
const MEMBER = '222222222222';
/** A third account that never deployed template-member.yaml. */
const STRANGER = '333333333333';
const HOME_ROLE = `arn:aws:iam::${HOME}:role/sentinel-dev`;
const MEMBER_ROLE = `arn:aws:iam::${MEMBER}:role/sentinel-profiles/member-admin`;
const STRANGER_ROLE = `arn:aws:iam::${STRANGER}:role/stranger-admin`;
const limits = { maxDurationSeconds: 3600, idleTimeoutSeconds: 3600, maxLifetimeSeconds: 28_800 };
const profiles = parseProfiles({
  dev: { roleArn: HOME_ROLE, ...limits },
  member: { roleArn: MEMBER_ROLE, ...limits },
  stranger: { roleArn: STRANGER_ROLE, ...limits },
});
const id = (n: number): string => n.toString(16).padStart(32, 'c');

const twoAccounts = () => {
  const clock = new ManualClock('2026-03-01T09:00:00.000Z');
  const store = new InMemorySessionStore();
  const enforcer = new InMemoryAccessEnforcer({ clock, homeAccountId: HOME, memberAccounts: [MEMBER] });
  const enforce = createVerifiedRevocationEnforcer({
    enforcer,
    sessions: store,
    profiles: profiles.values(),
    clock,
  });
  /** Vends a session on `profile`'s role, then revokes it a few minutes later; returns the fan-out's input. */
  const revokedSessionOn = async (n: number, profile: string) => {
    const roleArn = profiles.get(profile)?.roleArn ?? '';
    const session = newSession({
      sessionId: id(n),
      caller: parseCallerArn(`arn:aws:iam::${HOME}:user/alice`),
      profile,
      roleArn,
      sourceIdentity: 'alice',
      policy: { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 28_800 },
      now: clock.now(),
    });
    await store.create(session);
    clock.advanceSeconds(300);
    await store.revoke(session.sessionId, { by: 'operator', reason: 'lost laptop', now: clock.now() });
    clock.advanceSeconds(2);
    return { sessionId: session.sessionId, roleArn, expiresAt: session.expiresAt };
  };
  return { clock, store, enforcer, enforce, revokedSessionOn };
};

describe('cross-account revocation (local, two accounts)', () => {
  it('denies a session on a member account’s role there, through the assumed enforcement role', async () => {
    const { enforcer, enforce, revokedSessionOn } = twoAccounts();
    const input = await revokedSessionOn(1, 'member');
    const result = await enforce(input);
    expect(result).toMatchObject({ sessionId: id(1), roleArn: MEMBER_ROLE, alreadyDenied: false });
    expect(enforcer.deniedIn(MEMBER)).toEqual({ [MEMBER_ROLE]: [id(1)] });
    expect(enforcer.deniedIn(HOME)).toEqual({});
    expect(enforcer.assumedAccounts()).toEqual([MEMBER]);
    expect(enforcer.policyOf(MEMBER_ROLE).Statement[0].Condition).toEqual({
      StringEquals: { 'aws:PrincipalTag/SentinelSessionID': [id(1)] },
    });
  });

  it('denies a home-account session with its own credentials, assuming nothing', async () => {
    const { enforcer, enforce, revokedSessionOn } = twoAccounts();
    await enforce(await revokedSessionOn(2, 'dev'));
    expect(enforcer.deniedIn(HOME)).toEqual({ [HOME_ROLE]: [id(2)] });
    expect(enforcer.assumedAccounts()).toEqual([]);
  });

  it('cannot write in an account without an enforcement role: AccessDenied, nothing denied anywhere', async () => {
    const { enforcer, enforce, revokedSessionOn } = twoAccounts();
    await expect(enforce(await revokedSessionOn(3, 'stranger'))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    expect(enforcer.denied()).toEqual({});
  });

  it('refuses a forged input naming the member role for a home-account session, writing nothing', async () => {
    const { enforcer, enforce, revokedSessionOn } = twoAccounts();
    const input = await revokedSessionOn(4, 'dev');
    await expect(enforce({ ...input, roleArn: MEMBER_ROLE })).rejects.toMatchObject({
      reason: 'role-mismatch',
    });
    expect(enforcer.denied()).toEqual({});
    expect(enforcer.assumedAccounts()).toEqual([]);
  });
});
