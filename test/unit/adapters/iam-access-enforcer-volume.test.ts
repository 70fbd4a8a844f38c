/**
 * The deny list never refuses: 500 live revocations on one role that also carries another 2,500-character
 * inline policy. Every one is enforced (per-session entries while they fit, then the token-issue-time
 * fallback), the role's inline policies always within IAM's 10,240 characters, the mode reported in each
 * outcome, and the list back to per-session entries once the old ones are pruned.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DENY_MARGIN_SECONDS, IAM_ROLE_INLINE_POLICY_MAX_CHARS } from '../../../src/domain/deny-list.js';
import { createRevocationEnforcer } from '../../../src/usecases/enforce-revocation.js';
import { runRevocationVolume, VOLUME_ROLE_ARN, type VolumeRun } from '../../support/deny-list-world.js';

describe('500 live revocations on one role', () => {
  let run: VolumeRun;
  beforeAll(async () => {
    run = await runRevocationVolume({ count: 500, otherPolicyChars: 2500, spacingSeconds: 5 });
  });

  it('enforces every one, right after it and still at the end', () => {
    expect(run.enforced).toBe(500);
    expect(run.enforcedAtEnd).toBe(500);
  });

  it('keeps the role’s inline policies within 10,240 characters, the other 2,500-character one included', () => {
    expect(run.world.maxInlineChars()).toBeLessThanOrEqual(IAM_ROLE_INLINE_POLICY_MAX_CHARS);
    expect(run.world.maxInlineChars() - run.world.maxDenyPolicyChars()).toBeGreaterThanOrEqual(2500);
  });

  it('lists ids while they fit, then falls back to token issue time, and says so in each outcome', () => {
    const modes = run.results.map((r) => r.mode);
    const firstFallback = modes.indexOf('token-issue-time');
    expect(firstFallback).toBeGreaterThan(150);
    expect(modes.slice(0, firstFallback).every((m) => m === 'session-tag')).toBe(true);
    expect(modes.slice(firstFallback).every((m) => m === 'token-issue-time')).toBe(true);
    expect(run.results[499]?.tokenIssuedBefore).toBeDefined();
    expect(run.world.rows.get(VOLUME_ROLE_ARN)).toMatchObject({ mode: 'token-issue-time' });
  });

  it('cuts no later than the newest covered revocation: a colleague’s fresh credential still works', () => {
    const cut = Date.parse(run.results[499]?.tokenIssuedBefore ?? '');
    const last = run.revoked[499]?.revokedAt.getTime() ?? 0;
    expect(cut).toBeLessThan(last);
    expect(run.world.denies('f'.repeat(32), new Date(last))).toBe(false);
  });

  it('keeps every id in the table, none dropped for room', () => {
    const entries = run.world.rows.get(VOLUME_ROLE_ARN)?.entries as Record<string, string>;
    expect(Object.keys(entries)).toHaveLength(500);
  });
});

describe('pruning on time', () => {
  it('keeps an id until an hour and the margin after its revocation, drops it after, and lists ids again', async () => {
    // Prepare: 300 revocations a second apart (the fallback in use), the first one's until known.
    const run = await runRevocationVolume({ count: 300, otherPolicyChars: 2500, spacingSeconds: 1 });
    const first = run.revoked[0];
    const until = Date.parse(run.results[0]?.deniedUntil ?? '');
    expect(until).toBe((first?.revokedAt.getTime() ?? 0) + (3600 + DENY_MARGIN_SECONDS) * 1000);
    expect(run.results[299]?.mode).toBe('token-issue-time');
    const enforce = async (sessionId: string) => {
      const revokedAt = run.world.clock.now();
      const expiresAt = new Date(revokedAt.getTime() + 3_600_000).toISOString();
      return createRevocationEnforcer({ enforcer: run.world.enforcer, clock: run.world.clock })({
        sessionId,
        roleArn: VOLUME_ROLE_ARN,
        expiresAt,
      });
    };
    // Act 1: just before the first id's until, another revocation rewrites the policy: the first is still denied.
    run.world.clock.set(new Date(until - 1000));
    await enforce('c'.repeat(32));
    const stillDenied = run.world.denies(
      first?.sessionId ?? '',
      new Date((first?.revokedAt.getTime() ?? 0) - 1),
    );
    // Act 2: after every old until, one more revocation: the old ids are pruned, the policy lists ids again.
    run.world.clock.set(new Date(until + 400_000));
    const later = await enforce('d'.repeat(32));
    // Assess
    expect(stillDenied).toBe(true);
    const entries = run.world.rows.get(VOLUME_ROLE_ARN)?.entries as Record<string, string>;
    expect(Object.keys(entries).sort()).toEqual(['c'.repeat(32), 'd'.repeat(32)]);
    expect(later.mode).toBe('session-tag');
    expect(later.tokenIssuedBefore).toBeUndefined();
    expect(run.world.rows.get(VOLUME_ROLE_ARN)?.tokenIssuedBefore).toBeUndefined();
  });
});
