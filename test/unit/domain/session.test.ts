import { describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../../../src/domain/identity.js';
import {
  EXPIRED_REASONS,
  type ExpiredReason,
  expireSession,
  isTerminal,
  newSession,
  revokeSession,
  SESSION_STATUSES,
  type Session,
  type TransitionResult,
  touchSession,
} from '../../../src/domain/session.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const iso = (seconds: number): string => at(seconds).toISOString();
const epoch = (seconds: number): number => T0.getTime() / 1000 + seconds;
const WEEK = 7 * 24 * 3600;

const policy = { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 14_400 };
const caller: CallerIdentity = {
  user: 'alice',
  principalArn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/alice',
  accountId: '123456789012',
  partition: 'aws',
  principalType: 'assumed-role',
  roleName: 'AWSReservedSSO_Dev_0123456789abcdef',
  viaIdentityCenter: true,
};

/** Deep-frozen so any mutation of the input by a transition throws in strict mode. */
const frozen = <T>(value: T): T => {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
};

const activeSession = (overrides: Partial<Session> = {}): Session =>
  frozen({
    ...newSession({
      sessionId: '0123456789abcdef0123456789abcdef',
      caller,
      profile: 'dev',
      roleArn: 'arn:aws:iam::123456789012:role/dev',
      sourceIdentity: 'sentinel=alice=direct=req-1',
      policy,
      now: T0,
    }),
    ...overrides,
  });

const sessionOf = (result: TransitionResult): Session => {
  if (!result.ok) throw new Error(`expected a session, got refusal ${result.refusal.kind}`);
  return result.value;
};

describe('newSession', () => {
  it('fills every field of the Sessions table for a new active session', () => {
    // Act
    const session = newSession({
      sessionId: 'ffeeddccbbaa99887766554433221100',
      caller,
      profile: 'dev',
      roleArn: 'arn:aws:iam::123456789012:role/dev',
      sourceIdentity: 'sentinel=alice=direct=req-1',
      policy,
      now: T0,
    });
    // Assess
    expect(session).toEqual({
      sessionId: 'ffeeddccbbaa99887766554433221100',
      user: 'alice',
      principalArn: caller.principalArn,
      profile: 'dev',
      roleArn: 'arn:aws:iam::123456789012:role/dev',
      sourceIdentity: 'sentinel=alice=direct=req-1',
      status: 'active',
      createdAt: iso(0),
      lastAccessAt: iso(0),
      expiresAt: iso(3600),
      maxExpiresAt: iso(14_400),
      requestCount: 1,
      version: 1,
      ttl: epoch(3600 + WEEK),
    });
  });

  it.each([
    ['default audit retention (7 days)', undefined, epoch(3600 + WEEK)],
    ['custom audit retention', 60, epoch(3600 + 60)],
    ['no audit retention', 0, epoch(3600)],
  ])('ttl = expiresAt + %s', (_label, auditRetentionSeconds, ttl) => {
    // Act
    const session = newSession({
      sessionId: 'a'.repeat(32),
      caller,
      profile: 'dev',
      roleArn: 'arn:aws:iam::123456789012:role/dev',
      sourceIdentity: 's',
      policy,
      now: T0,
      ...(auditRetentionSeconds === undefined ? {} : { auditRetentionSeconds }),
    });
    // Assess
    expect(session.ttl).toBe(ttl);
  });

  it('keeps sub-second creation times; expiries are whole seconds, rounded down (Step Functions Wait truncates)', () => {
    // Act
    const session = newSession({
      sessionId: 'a'.repeat(32),
      caller,
      profile: 'dev',
      roleArn: 'r',
      sourceIdentity: 's',
      policy,
      now: new Date('2026-03-04T05:06:07.089+02:00'),
    });
    // Assess
    expect(session.createdAt).toBe('2026-03-04T03:06:07.089Z');
    expect(session.expiresAt).toBe('2026-03-04T04:06:07.000Z');
    expect(session.maxExpiresAt).toBe('2026-03-04T07:06:07.000Z');
  });
});

describe('isTerminal', () => {
  it.each(SESSION_STATUSES.map((status) => [status, status !== 'active'] as const))(
    '%s → %s',
    (status, expected) => {
      expect(isTerminal(status)).toBe(expected);
    },
  );
});

describe('revokeSession', () => {
  it.each([
    ['before expiry', 60],
    ['after expiry (revocation is stronger than expiry)', 5000],
  ])('active → revoked %s', (_label, seconds) => {
    // Prepare
    const session = activeSession();
    // Act
    const result = revokeSession(session, {
      by: 'admin@example.com',
      reason: 'laptop lost',
      now: at(seconds),
    });
    // Assess
    expect(result).toEqual({
      ok: true,
      value: {
        ...session,
        status: 'revoked',
        revokedAt: iso(seconds),
        revokedBy: 'admin@example.com',
        revokedReason: 'laptop lost',
        version: 2,
      },
    });
  });
});

describe('expireSession', () => {
  it.each(EXPIRED_REASONS.map((reason) => [reason] as const))(
    'active → expired with reason %s once past expiresAt',
    (reason) => {
      // Prepare
      const session = activeSession();
      // Act
      const result = expireSession(session, { reason, now: at(3601) });
      // Assess
      expect(result).toEqual({
        ok: true,
        value: { ...session, status: 'expired', expiredAt: iso(3601), expiredReason: reason, version: 2 },
      });
    },
  );

  it.each([
    ['exactly at expiresAt', 3600, undefined, 'expired'],
    ['1 ms before expiresAt', 3599.999, undefined, 'NotYetExpired'],
    ['at creation', 0, undefined, 'NotYetExpired'],
    ['at creation with force', 0, true, 'expired'],
    ['before expiry with force: false', 60, false, 'NotYetExpired'],
    ['past expiry with force', 9000, true, 'expired'],
  ] as const)('%s → %s', (_label, seconds, force, outcome) => {
    // Prepare
    const session = activeSession();
    const reason: ExpiredReason = force ? 'forced' : 'workflow';
    // Act
    const result = expireSession(session, {
      reason,
      now: at(seconds),
      ...(force === undefined ? {} : { force }),
    });
    // Assess
    if (outcome === 'expired') {
      expect(sessionOf(result)).toMatchObject({
        status: 'expired',
        expiredAt: at(seconds).toISOString(),
        version: 2,
      });
    } else {
      expect(result).toEqual({ ok: false, refusal: { kind: 'NotYetExpired', session } });
    }
  });
});

describe('touchSession', () => {
  it('counts the request and extends expiry to now + idle', () => {
    // Prepare
    const session = activeSession();
    // Act
    const result = touchSession(session, { principalArn: caller.principalArn, now: at(600), policy });
    // Assess
    expect(result).toEqual({
      ok: true,
      value: {
        ...session,
        lastAccessAt: iso(600),
        expiresAt: iso(4200),
        requestCount: 2,
        version: 2,
        ttl: epoch(4200 + WEEK),
      },
    });
  });

  it.each([
    ['near the hard cap: capped at maxExpiresAt', 14_000, 13_500, policy, 14_400],
    [
      'policy max raised since creation: still capped at the stored maxExpiresAt',
      14_000,
      13_500,
      { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 43_200 },
      14_400,
    ],
    [
      'idle lowered since creation: never shortens',
      3600,
      60,
      { idleTimeoutSeconds: 900, maxLifetimeSeconds: 14_400 },
      3600,
    ],
    [
      '1 ms before expiry: still served (new expiry rounded down to the second)',
      3600,
      3599.999,
      policy,
      7199,
    ],
  ])('%s', (_label, expiresAfter, touchAfter, touchPolicy, expected) => {
    // Prepare
    const session = activeSession({ expiresAt: iso(expiresAfter) });
    // Act
    const touched = sessionOf(
      touchSession(session, { principalArn: caller.principalArn, now: at(touchAfter), policy: touchPolicy }),
    );
    // Assess
    expect(touched.expiresAt).toBe(iso(expected));
    expect(touched.expiresAt <= touched.maxExpiresAt).toBe(true);
  });

  it('recomputes ttl from the new expiry with the given audit retention', () => {
    const touched = sessionOf(
      touchSession(activeSession(), {
        principalArn: caller.principalArn,
        now: at(600),
        policy,
        auditRetentionSeconds: 10,
      }),
    );
    expect(touched.ttl).toBe(epoch(4200 + 10));
  });

  it.each([
    [
      'another principal',
      { principalArn: 'arn:aws:iam::123456789012:user/mallory', seconds: 60 },
      'NotOwner',
    ],
    // Role session names are chosen by whoever assumes the role: the same name under another role is not the owner.
    [
      'a same-named session of another role',
      { principalArn: 'arn:aws:sts::123456789012:assumed-role/SomeOtherRole/alice', seconds: 60 },
      'NotOwner',
    ],
    [
      'the same name in another account',
      { principalArn: caller.principalArn.replace('123456789012', '210987654321'), seconds: 60 },
      'NotOwner',
    ],
    ['an empty principal', { principalArn: '', seconds: 60 }, 'NotOwner'],
    [
      'another principal after expiry (ownership is checked first)',
      { principalArn: 'arn:aws:iam::123456789012:user/mallory', seconds: 9000 },
      'NotOwner',
    ],
    ['the owner exactly at expiresAt', { principalArn: caller.principalArn, seconds: 3600 }, 'Expired'],
    ['the owner after expiresAt', { principalArn: caller.principalArn, seconds: 9000 }, 'Expired'],
  ] as const)('refuses %s → %s', (_label, input, kind) => {
    // Prepare
    const session = activeSession();
    // Act
    const result = touchSession(session, {
      principalArn: input.principalArn,
      now: at(input.seconds),
      policy,
    });
    // Assess
    expect(result).toEqual({ ok: false, refusal: { kind, session } });
  });

  it('increments version by exactly one per touch, over a chain of touches', () => {
    // Prepare
    let session = activeSession();
    // Act / Assess
    for (let i = 1; i <= 20; i++) {
      const next = sessionOf(
        touchSession(session, { principalArn: caller.principalArn, now: at(i * 300), policy }),
      );
      expect(next.version).toBe(session.version + 1);
      expect(next.requestCount).toBe(session.requestCount + 1);
      expect(next.expiresAt >= session.expiresAt).toBe(true);
      session = next;
    }
    expect(session.version).toBe(21);
  });
});

/** Terminal sessions reached in different ways; each must then refuse every transition. */
const terminalSessions: ReadonlyArray<readonly [string, Session]> = [
  [
    'revoked before expiry',
    frozen(sessionOf(revokeSession(activeSession(), { by: 'admin', reason: 'r', now: at(60) }))),
  ],
  [
    'revoked after expiry',
    frozen(sessionOf(revokeSession(activeSession(), { by: 'admin', reason: 'r', now: at(9000) }))),
  ],
  ...EXPIRED_REASONS.map(
    (reason) =>
      [
        `expired (${reason})`,
        frozen(
          sessionOf(expireSession(activeSession(), { reason, now: at(3600), force: reason === 'forced' })),
        ),
      ] as const,
  ),
  [
    'expired early by force',
    frozen(sessionOf(expireSession(activeSession(), { reason: 'forced', now: at(1), force: true }))),
  ],
];

/** Every transition with every kind of input that would succeed or be refused otherwise. */
const transitions: ReadonlyArray<readonly [string, (session: Session) => TransitionResult]> = [
  ['revoke before expiry', (s) => revokeSession(s, { by: 'admin', reason: 'again', now: at(10) })],
  ['revoke after expiry', (s) => revokeSession(s, { by: 'other', reason: 'again', now: at(99_999) })],
  ['expire past expiry', (s) => expireSession(s, { reason: 'workflow', now: at(99_999) })],
  ['expire lazily', (s) => expireSession(s, { reason: 'lazy', now: at(5000) })],
  ['expire by TTL', (s) => expireSession(s, { reason: 'ttl', now: at(99_999) })],
  ['expire forced before expiry', (s) => expireSession(s, { reason: 'forced', now: at(10), force: true })],
  ['expire not yet due', (s) => expireSession(s, { reason: 'workflow', now: at(10) })],
  [
    'touch by the owner in time',
    (s) => touchSession(s, { principalArn: caller.principalArn, now: at(10), policy }),
  ],
  [
    'touch by another principal',
    (s) => touchSession(s, { principalArn: 'arn:aws:iam::123456789012:user/mallory', now: at(10), policy }),
  ],
  [
    'touch by the owner after expiry',
    (s) => touchSession(s, { principalArn: caller.principalArn, now: at(99_999), policy }),
  ],
];

describe('terminal states never change (invariant 1)', () => {
  const cases = terminalSessions.flatMap(([sessionLabel, session]) =>
    transitions.map(([transitionLabel, apply]) => [sessionLabel, transitionLabel, session, apply] as const),
  );

  it.each(cases)('%s + %s → AlreadyTerminal, session unchanged', (_s, _t, session, apply) => {
    // Prepare
    const before = structuredClone(session);
    // Act
    const result = apply(session);
    // Assess
    expect(result).toEqual({
      ok: false,
      refusal: { kind: 'AlreadyTerminal', status: session.status, session },
    });
    expect(session).toEqual(before);
  });

  it('terminal sessions were built as expected', () => {
    expect(terminalSessions.map(([, s]) => [s.status, s.version])).toEqual([
      ['revoked', 2],
      ['revoked', 2],
      ['expired', 2],
      ['expired', 2],
      ['expired', 2],
      ['expired', 2],
      ['expired', 2],
      ['expired', 2],
    ]);
  });
});

describe('transitions are pure', () => {
  it.each(transitions)('%s does not mutate its (deep-frozen) active input', (_label, apply) => {
    // Prepare
    const session = activeSession();
    const before = structuredClone(session);
    // Act
    const result = apply(session);
    // Assess
    expect(session).toEqual(before);
    if (result.ok) {
      expect(result.value).not.toBe(session);
      expect(result.value.version).toBe(session.version + 1);
    }
  });
});
