/**
 * The deployed enforcer trusts nothing it is handed: it re-reads the session row and writes the deny only for
 * a row that is really revoked (or force-expired), on the input's role, a configured profile role, with times
 * inside the profile's limits. Forged or stale inputs are refused with the reason, and nothing is denied.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InMemoryAccessEnforcer } from '../../../local/in-memory-access-enforcer.js';
import { MalformedSessionRecordError } from '../../../src/domain/errors.js';
import type { Session } from '../../../src/domain/session.js';
import {
  createVerifiedRevocationEnforcer,
  type EnforcementRefusal,
  EnforcementRefusedError,
  InvalidEnforcementInputError,
  type SessionReader,
} from '../../../src/usecases/enforce-revocation.js';
import { parseProfiles } from '../../../src/usecases/vend-profiles.js';

const fixture = JSON.parse(readFileSync('events/enforcer/revoked-session.json', 'utf8')) as {
  sessionId: string;
  roleArn: string;
  expiresAt: string;
};
const PROD_ROLE = fixture.roleArn;
const DEV_ROLE = 'arn:aws:iam::123456789012:role/sentinel-dev';
const profiles = parseProfiles({
  prod: {
    roleArn: PROD_ROLE,
    maxDurationSeconds: 3600,
    idleTimeoutSeconds: 3600,
    maxLifetimeSeconds: 28_800,
  },
  dev: { roleArn: DEV_ROLE, maxDurationSeconds: 3600, idleTimeoutSeconds: 3600, maxLifetimeSeconds: 28_800 },
});
const NOW = new Date('2090-01-01T12:30:00.000Z');
const clock = { now: () => NOW };

/** The row behind the fixture: revoked at 12:20, created at 12:00, expiring at 13:00 (8 h lifetime cap). */
const revokedRow: Session = {
  sessionId: fixture.sessionId,
  user: 'alice',
  principalArn: 'arn:aws:iam::123456789012:role/alice',
  profile: 'prod',
  roleArn: PROD_ROLE,
  sourceIdentity: 'alice',
  status: 'revoked',
  createdAt: '2090-01-01T12:00:00.000Z',
  lastAccessAt: '2090-01-01T12:00:00.000Z',
  expiresAt: fixture.expiresAt,
  maxExpiresAt: '2090-01-01T20:00:00.000Z',
  requestCount: 1,
  version: 2,
  revokedAt: '2090-01-01T12:20:00.000Z',
  revokedBy: 'arn:aws:iam::123456789012:role/operator',
  revokedReason: 'laptop lost',
  ttl: 3_786_000_000,
};

const setup = (rows: readonly Session[], options: { readonly failWith?: Error } = {}) => {
  const enforcer = new InMemoryAccessEnforcer({ clock });
  const sessions: SessionReader = {
    get: async (sessionId) => {
      if (options.failWith) throw options.failWith;
      return rows.find((row) => row.sessionId === sessionId);
    },
  };
  const enforce = createVerifiedRevocationEnforcer({
    enforcer,
    sessions,
    profiles: profiles.values(),
    clock,
  });
  return { enforcer, enforce };
};

describe('createVerifiedRevocationEnforcer', () => {
  it('denies a real revocation, with the row’s times (deny until an hour and the margin after the enforcement, not the input’s expiry)', async () => {
    const { enforcer, enforce } = setup([revokedRow]);
    const result = await enforce(fixture);
    expect(result).toEqual({
      sessionId: fixture.sessionId,
      roleArn: PROD_ROLE,
      deniedUntil: '2090-01-01T13:35:00.000Z',
      alreadyDenied: false,
      mode: 'session-tag',
    });
    expect(enforcer.denied()).toEqual({ [PROD_ROLE]: [fixture.sessionId] });
  });

  it('denies an early forced expiry like a revocation', async () => {
    const forced: Session = {
      ...revokedRow,
      status: 'expired',
      revokedAt: undefined,
      revokedBy: undefined,
      revokedReason: undefined,
      expiredAt: '2090-01-01T12:25:00.000Z',
      expiredReason: 'forced',
    };
    const { enforcer, enforce } = setup([forced]);
    expect((await enforce(fixture)).deniedUntil).toBe('2090-01-01T13:35:00.000Z');
    expect(enforcer.denied()).toEqual({ [PROD_ROLE]: [fixture.sessionId] });
  });

  it('takes the row’s times over the input’s: a forged later expiresAt cannot stretch the deny', async () => {
    const { enforce } = setup([revokedRow]);
    const result = await enforce({
      ...fixture,
      expiresAt: '2099-01-01T00:00:00.000Z',
      revokedAt: '2098-01-01T00:00:00.000Z',
    });
    expect(result.deniedUntil).toBe('2090-01-01T13:35:00.000Z');
  });

  const active: Session = {
    ...revokedRow,
    status: 'active',
    revokedAt: undefined,
    revokedBy: undefined,
    revokedReason: undefined,
  };
  const refusals: [string, readonly Session[], Record<string, unknown>, EnforcementRefusal][] = [
    ['an unknown session id', [revokedRow], { ...fixture, sessionId: 'f'.repeat(32) }, 'unknown-session'],
    ['another role than the session’s', [revokedRow], { ...fixture, roleArn: DEV_ROLE }, 'role-mismatch'],
    ['an active session', [active], fixture, 'not-enforceable'],
    [
      'a session expired at its end (no credential outlives it)',
      [{ ...active, status: 'expired', expiredAt: fixture.expiresAt, expiredReason: 'workflow' }],
      fixture,
      'not-enforceable',
    ],
    [
      'a role that is no profile role',
      [{ ...revokedRow, roleArn: 'arn:aws:iam::123456789012:role/Admin' }],
      { ...fixture, roleArn: 'arn:aws:iam::123456789012:role/Admin' },
      'not-a-profile-role',
    ],
    [
      'a lifetime past the profile’s maxLifetime',
      [{ ...revokedRow, maxExpiresAt: '2090-01-02T12:00:00.000Z' }],
      fixture,
      'times-outside-profile',
    ],
    [
      'an expiresAt past maxExpiresAt',
      [{ ...revokedRow, maxExpiresAt: '2090-01-01T12:30:00.000Z' }],
      fixture,
      'times-outside-profile',
    ],
    [
      'a revocation before the session was created',
      [{ ...revokedRow, revokedAt: '2090-01-01T11:00:00.000Z' }],
      fixture,
      'times-outside-profile',
    ],
    [
      'a revocation after the session expired',
      [{ ...revokedRow, revokedAt: '2090-01-01T13:30:00.000Z' }],
      fixture,
      'times-outside-profile',
    ],
    [
      'an expiry before creation',
      [{ ...revokedRow, createdAt: '2090-01-01T14:00:00.000Z', revokedAt: '2090-01-01T14:00:00.000Z' }],
      fixture,
      'times-outside-profile',
    ],
    [
      'a revocation far in the enforcer’s future',
      [{ ...revokedRow, createdAt: '2090-01-01T12:50:00.000Z', revokedAt: '2090-01-01T12:55:00.000Z' }],
      fixture,
      'times-outside-profile',
    ],
    [
      'a revoked row without revokedAt',
      [{ ...revokedRow, revokedAt: undefined }],
      fixture,
      'not-enforceable',
    ],
  ];
  it.each(refusals)('refuses %s, denying nothing', async (_name, rows, input, reason) => {
    const { enforcer, enforce } = setup(rows);
    const refused = await enforce(input).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EnforcementRefusedError);
    expect((refused as EnforcementRefusedError).reason).toBe(reason);
    expect(enforcer.denied()).toEqual({});
  });

  it('enforces a malformed revoked row from what can be read of it, and says what was wrong', async () => {
    // A hand edit: status in capitals, revokedAt without milliseconds, no revokedBy, an extra attribute.
    const { revokedBy: _dropped, ...rest } = revokedRow;
    const item = { ...rest, status: 'REVOKED', revokedAt: '2090-01-01T12:20:00Z', note: 'by hand' };
    const { enforcer, enforce } = setup([], {
      failWith: new MalformedSessionRecordError('session row x is malformed: status', item),
    });
    const result = await enforce(fixture);
    expect(result).toMatchObject({
      sessionId: fixture.sessionId,
      rowProblem: 'session row x is malformed: status',
      // As for the well-formed row: an hour and the margin after the enforcement.
      deniedUntil: '2090-01-01T13:35:00.000Z',
    });
    expect(enforcer.denied()).toEqual({ [PROD_ROLE]: [fixture.sessionId] });
  });

  it('still checks a salvaged row: another role, or a status it cannot read, is refused and denies nothing', async () => {
    for (const [item, reason] of [
      [
        { ...revokedRow, status: 'REVOKED', roleArn: 'arn:aws:iam::123456789012:role/other' },
        'role-mismatch',
      ],
      [{ ...revokedRow, status: 'gone' }, 'malformed-session'],
      ['not a row', 'malformed-session'],
    ] as const) {
      const { enforcer, enforce } = setup([], {
        failWith: new MalformedSessionRecordError('session row x is malformed', item),
      });
      await expect(enforce(fixture)).rejects.toMatchObject({ reason });
      expect(enforcer.denied()).toEqual({});
    }
  });

  it('lets a store outage through as a fault (retried by the workflow), not a refusal', async () => {
    const outage = Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
    const { enforcer, enforce } = setup([], { failWith: outage });
    await expect(enforce(fixture)).rejects.toBe(outage);
    expect(enforcer.denied()).toEqual({});
  });

  it('still refuses input that is not an enforcement request at all, before reading anything', async () => {
    const { enforce } = setup([revokedRow], { failWith: new Error('must not be read') });
    await expect(enforce({ sessionId: 'x' })).rejects.toThrow(InvalidEnforcementInputError);
  });
});
