import { describe, expect, it } from 'vitest';
import { denyUntil } from '../../../src/domain/deny-list.js';
import {
  coverageOf,
  type DenyListState,
  ENFORCEMENT_WINDOW_SECONDS,
  type EnforcementTarget,
  enforceableSince,
  enforcementSince,
  enforcementTargetOf,
  FAN_OUT_GRACE_SECONDS,
  fanOutMayBeRunning,
  newestEnforcementFirst,
  requiredDenyUntil,
} from '../../../src/domain/reconcile.js';
import { makeSession } from '../../support/session-store-contract.js';

const REVOKED_AT = new Date('2090-03-01T12:00:00.000Z');
const at = (seconds: number): Date => new Date(REVOKED_AT.getTime() + seconds * 1000);
const ROLE = 'arn:aws:iam::123456789012:role/sentinel-prod';
const ID = 'a'.repeat(32);

/** Revoked at REVOKED_AT, expiring three hours later (an idle-extended session). */
const target: EnforcementTarget = {
  sessionId: ID,
  roleArn: ROLE,
  expiresAt: at(3 * 3600).toISOString(),
  since: REVOKED_AT.toISOString(),
};
/** What the fan-out writes: the revocation plus the credential maximum and the margin. */
const FAN_OUT_UNTIL = at(ENFORCEMENT_WINDOW_SECONDS).toISOString();
const accepted = (entries: DenyListState['entries'], tokenIssuedBefore?: string): DenyListState => ({
  entries,
  enforced: true,
  ...(tokenIssuedBefore === undefined ? {} : { tokenIssuedBefore }),
});

describe('the enforcement window', () => {
  it('is the chaining hour plus the deny margin, so the earliest live revocation is 65 minutes back', () => {
    expect(ENFORCEMENT_WINDOW_SECONDS).toBe(3900);
    expect(enforceableSince(at(0))).toEqual(at(-3900));
  });

  it('needs the deny until the earlier of expiry and revocation plus the window, as the enforcer computes it', () => {
    expect(requiredDenyUntil(target)).toBe(FAN_OUT_UNTIL);
    const expiredBefore = { ...target, expiresAt: at(-600).toISOString() };
    expect(requiredDenyUntil(expiredBefore)).toBe(at(-600 + 3900).toISOString());
    // The fan-out's enforcer, running after the revocation, never writes less than this.
    expect(denyUntil({ expiresAt: target.expiresAt, enforcedAt: at(5) })).toBe(at(5 + 3900).toISOString());
  });
});

describe('the fan-out’s grace', () => {
  it('leaves the first minute after a revocation to the fan-out', () => {
    expect(FAN_OUT_GRACE_SECONDS).toBe(60);
    expect(fanOutMayBeRunning(REVOKED_AT.toISOString(), at(59))).toBe(true);
    expect(fanOutMayBeRunning(REVOKED_AT.toISOString(), at(60))).toBe(false);
  });
});

describe('which sessions are enforced', () => {
  const base = makeSession({ now: at(-1800) });

  it('a revoked one from its revocation, an early expiry from its expiry, nothing else', () => {
    const revoked = { ...base, status: 'revoked' as const, revokedAt: at(0).toISOString() };
    const forced = {
      ...base,
      status: 'expired' as const,
      expiredAt: at(60).toISOString(),
      expiredReason: 'forced' as const,
    };
    // At its expiresAt: no credential outlives it. Well before it, whatever the reason: written by hand.
    const natural = { ...forced, expiredAt: base.expiresAt, expiredReason: 'workflow' as const };
    const earlyByHand = { ...forced, expiredReason: 'workflow' as const };
    expect(enforcementSince(revoked)).toBe(at(0).toISOString());
    expect(enforcementSince(forced)).toBe(at(60).toISOString());
    expect(enforcementSince(earlyByHand)).toBe(at(60).toISOString());
    expect(enforcementSince(natural)).toBeUndefined();
    expect(enforcementSince(base)).toBeUndefined();
    expect(enforcementTargetOf(forced, at(120))).toEqual({
      sessionId: base.sessionId,
      roleArn: base.roleArn,
      expiresAt: base.expiresAt,
      since: at(60).toISOString(),
    });
    expect(enforcementTargetOf(natural, at(120))).toBeUndefined();
    expect(enforcementTargetOf(base, at(120))).toBeUndefined();
  });

  it('takes now for a revoked row without its revocation time (a longer deny, never a shorter one)', () => {
    const { revokedAt: _none, ...rest } = { ...base, status: 'revoked' as const, revokedAt: '' };
    expect(enforcementTargetOf(rest, at(120))?.since).toBe(at(120).toISOString());
  });

  it('orders newest first, ties by id', () => {
    const rows = [
      { since: at(0).toISOString(), sessionId: 'b' },
      { since: at(60).toISOString(), sessionId: 'c' },
      { since: at(0).toISOString(), sessionId: 'a' },
    ];
    expect([...rows].sort(newestEnforcementFirst).map((r) => r.sessionId)).toEqual(['c', 'a', 'b']);
  });
});

describe('coverageOf', () => {
  const now = at(300);

  it('covered: listed on the list IAM accepted, until late enough', () => {
    const state = accepted([{ sessionId: ID, until: FAN_OUT_UNTIL }]);
    expect(coverageOf(target, state, now)).toEqual({ kind: 'listed', requiredUntil: FAN_OUT_UNTIL });
  });

  it('missing: not on the list (the fan-out failed before the enforcer ran)', () => {
    const state = accepted([{ sessionId: 'b'.repeat(32), until: FAN_OUT_UNTIL }]);
    expect(coverageOf(target, state, now)).toMatchObject({ kind: 'missing', reason: 'not-listed' });
    expect(coverageOf(target, { entries: [], enforced: false }, now)).toMatchObject({
      kind: 'missing',
      reason: 'not-listed',
    });
  });

  it('missing: listed with an until before the credentials can all be dead', () => {
    const state = accepted([{ sessionId: ID, until: at(3899).toISOString() }]);
    expect(coverageOf(target, state, now)).toMatchObject({ kind: 'missing', reason: 'listed-too-briefly' });
  });

  it('missing: listed, but IAM has not accepted the policy of this version', () => {
    const state: DenyListState = { entries: [{ sessionId: ID, until: FAN_OUT_UNTIL }], enforced: false };
    expect(coverageOf(target, state, now)).toMatchObject({ kind: 'missing', reason: 'not-accepted-by-iam' });
  });

  it('expired out: past the required until nothing can be alive, whatever the list says', () => {
    expect(coverageOf(target, { entries: [], enforced: false }, at(3900))).toEqual({
      kind: 'lapsed',
      requiredUntil: FAN_OUT_UNTIL,
    });
    expect(coverageOf(target, { entries: [], enforced: false }, at(3899))).toMatchObject({ kind: 'missing' });
  });

  it('token-issue-time covered: not listed, but under a role-wide cut at or after its last issue plus the margin', () => {
    // The credentials were issued by the revocation (plus the 300 s margin): a cut there denies them all.
    const cut = at(300).toISOString();
    expect(coverageOf(target, accepted([], cut), now)).toEqual({
      kind: 'token-issue-time',
      requiredUntil: FAN_OUT_UNTIL,
      tokenIssuedBefore: cut,
    });
    expect(coverageOf(target, accepted([], at(299).toISOString()), now)).toMatchObject({
      kind: 'missing',
      reason: 'not-listed',
    });
  });

  it('a cut IAM has not accepted covers nothing', () => {
    const state: DenyListState = { entries: [], enforced: false, tokenIssuedBefore: at(600).toISOString() };
    expect(coverageOf(target, state, now)).toMatchObject({ kind: 'missing' });
  });

  it('an unreadable until or cut covers nothing (fail closed)', () => {
    expect(coverageOf(target, accepted([{ sessionId: ID, until: 'soon' }], 'later'), now)).toMatchObject({
      kind: 'missing',
      reason: 'listed-too-briefly',
    });
  });
});
