import { describe, expect, it } from 'vitest';
import {
  CREDENTIAL_SAFETY_MARGIN_SECONDS,
  credentialDuration,
  DEFAULT_AUDIT_RETENTION_SECONDS,
  earlierOf,
  initialExpiry,
  isPast,
  maxExpiryOf,
  type SessionPolicy,
  STS_MIN_DURATION_SECONDS,
  STS_ROLE_CHAINING_MAX_DURATION_SECONDS,
  secondsUntil,
  touchedExpiry,
  ttlFor,
  validatePolicy,
  wholeSecondsAfter,
} from '../../../src/domain/durations.js';
import { InvalidInputError } from '../../../src/domain/errors.js';
import type { CallerIdentity } from '../../../src/domain/identity.js';
import { newSession, type Session, touchSession } from '../../../src/domain/session.js';
import { intIn, prng } from '../../support/prng.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const iso = (seconds: number): string => at(seconds).toISOString();
const ms = (value: string): number => new Date(value).getTime();

describe('validatePolicy', () => {
  it.each([
    ['the STS minimum for both', { idleTimeoutSeconds: 900, maxLifetimeSeconds: 900 }],
    ['one hour idle, twelve hours max', { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 43_200 }],
    ['a week max (longer than one credential)', { idleTimeoutSeconds: 900, maxLifetimeSeconds: 604_800 }],
  ])('accepts %s', (_label, policy) => {
    // Act / Assess
    expect(validatePolicy(policy)).toBe(policy);
  });

  it('accepts a wider config object and validates only the two fields', () => {
    // Prepare
    const config = { idleTimeoutSeconds: 900, maxLifetimeSeconds: 3600, roleArn: 'arn:aws:iam::1:role/x' };
    // Act / Assess
    expect(validatePolicy(config)).toBe(config);
  });

  it.each([
    ['idle 0', { idleTimeoutSeconds: 0, maxLifetimeSeconds: 3600 }, /idleTimeoutSeconds must be a positive/],
    ['idle negative', { idleTimeoutSeconds: -900, maxLifetimeSeconds: 3600 }, /idleTimeoutSeconds/],
    ['idle below STS minimum', { idleTimeoutSeconds: 899, maxLifetimeSeconds: 3600 }, /at least 900/],
    ['idle fractional', { idleTimeoutSeconds: 900.5, maxLifetimeSeconds: 3600 }, /whole number/],
    ['idle NaN', { idleTimeoutSeconds: Number.NaN, maxLifetimeSeconds: 3600 }, /got NaN/],
    [
      'max Infinity',
      { idleTimeoutSeconds: 900, maxLifetimeSeconds: Number.POSITIVE_INFINITY },
      /maxLifetime/,
    ],
    ['max below idle', { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 1800 }, /must be at least idle/],
    ['max 0', { idleTimeoutSeconds: 900, maxLifetimeSeconds: 0 }, /maxLifetimeSeconds must be a positive/],
    ['idle missing', { maxLifetimeSeconds: 3600 }, /idleTimeoutSeconds .* got undefined/],
    ['max missing', { idleTimeoutSeconds: 900 }, /maxLifetimeSeconds .* got undefined/],
    ['idle as a string', { idleTimeoutSeconds: '900', maxLifetimeSeconds: 3600 }, /idleTimeoutSeconds/],
  ])('refuses %s', (_label, policy, message) => {
    // Act
    const act = () => validatePolicy(policy as unknown as SessionPolicy); // deliberately ill-typed input
    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(message);
  });
});

describe('initialExpiry and maxExpiryOf', () => {
  it.each([
    ['one idle window', { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 43_200 }, 3600],
    ['idle equal to max', { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 3600 }, 3600],
    [
      'never past the cap even for an unvalidated policy',
      { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 1800 },
      1800,
    ],
  ])('initialExpiry: %s', (_label, policy, seconds) => {
    // Act / Assess
    expect(initialExpiry(T0, policy)).toBe(iso(seconds));
  });

  it.each([
    [900, iso(900)],
    [43_200, iso(43_200)],
    [604_800, iso(604_800)],
  ])('maxExpiryOf: createdAt + %i s', (maxLifetimeSeconds, expected) => {
    // Act / Assess
    expect(maxExpiryOf(T0.toISOString(), { idleTimeoutSeconds: 900, maxLifetimeSeconds })).toBe(expected);
  });

  // Step Functions Wait timestamps are truncated to the second: an expiry must be a whole second, rounded
  // down so that it never passes the cap.
  const T0_5 = new Date(T0.getTime() + 500);
  it.each([
    [
      'initialExpiry',
      () => initialExpiry(T0_5, { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 7200 }),
      iso(3600),
    ],
    [
      'initialExpiry at the cap',
      () => initialExpiry(T0_5, { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 3600 }),
      iso(3600),
    ],
    [
      'maxExpiryOf',
      () => maxExpiryOf(T0_5.toISOString(), { idleTimeoutSeconds: 900, maxLifetimeSeconds: 7200 }),
      iso(7200),
    ],
    [
      'maxExpiryOf at .999',
      () =>
        maxExpiryOf(new Date(T0.getTime() + 999).toISOString(), {
          idleTimeoutSeconds: 900,
          maxLifetimeSeconds: 900,
        }),
      iso(900),
    ],
  ])('%s of a createdAt at .500 is a whole second, rounded down', (_label, compute, expected) => {
    // Act
    const value = compute();
    // Assess
    expect(value).toBe(expected);
    expect(new Date(value).getUTCMilliseconds()).toBe(0);
  });
});

describe('touchedExpiry', () => {
  const policy = { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 14_400 };
  it.each([
    ['extends to now + idle', 3600, 600, 4200],
    ['a touch at creation keeps one idle window', 3600, 0, 3600],
    ['is capped at createdAt + maxLifetime', 14_000, 13_000, 14_400],
    ['never shortens (idle timeout lowered since)', 7200, 100, 7200],
    ['a stored expiry past the cap is pulled back to the cap', 20_000, 100, 14_400],
    ['a touch after the cap stays at the cap', 14_400, 15_000, 14_400],
    ['a touch exactly at expiry extends by idle', 3600, 3600, 7200],
  ])('%s', (_label, expiresAfter, touchAfter, expected) => {
    // Prepare
    const session = { createdAt: T0.toISOString(), expiresAt: iso(expiresAfter) };
    // Act
    const expiresAt = touchedExpiry(session, at(touchAfter), policy);
    // Assess
    expect(expiresAt).toBe(iso(expected));
  });

  it.each([
    ['now + idle', { createdAt: T0.toISOString(), expiresAt: iso(3600) }, 600.5, iso(4200)],
    [
      'the cap of a createdAt at .750',
      { createdAt: new Date(T0.getTime() + 750).toISOString(), expiresAt: iso(14_000) },
      13_000.9,
      iso(14_400),
    ],
  ])('rounds %s down to a whole second', (_label, session, touchAfter, expected) => {
    // Act
    const expiresAt = touchedExpiry(session, new Date(T0.getTime() + touchAfter * 1000), policy);
    // Assess
    expect(expiresAt).toBe(expected);
  });
});

describe('wholeSecondsAfter', () => {
  it('is now + seconds truncated to the second', () => {
    expect(wholeSecondsAfter(new Date(T0.getTime() + 999), 1800)).toBe(iso(1800));
    expect(wholeSecondsAfter(T0, 1800)).toBe(iso(1800));
  });
});

describe('credentialDuration', () => {
  const base = { profileMaxSeconds: 3600, expiresAt: iso(7200), now: T0 };
  const margin = CREDENTIAL_SAFETY_MARGIN_SECONDS;
  it('keeps a 30 s safety margin and caps at the 3600 s role-chaining limit', () => {
    expect(margin).toBe(30);
    expect(STS_ROLE_CHAINING_MAX_DURATION_SECONDS).toBe(3600);
  });

  it.each([
    ['default is the profile maximum', {}, 3600],
    ['the STS minimum', { requestedSeconds: 900 }, 900],
    ['a value in range', { requestedSeconds: 1800 }, 1800],
    ['exactly the profile maximum', { requestedSeconds: 3600 }, 3600],
    ['an explicit undefined is the default', { requestedSeconds: undefined }, 3600],
    ['clamped to what the session has left, less the margin', { expiresAt: iso(1000) }, 970],
    ['exactly the STS minimum plus the margin left', { expiresAt: iso(930) }, 900],
    [
      'rounded down to whole seconds left',
      { expiresAt: new Date(at(1000).getTime() + 999).toISOString() },
      970,
    ],
    [
      'a profile maximum above the role-chaining limit is capped at 3600',
      { profileMaxSeconds: 43_200, expiresAt: iso(86_400) },
      3600,
    ],
    [
      'the role-chaining maximum may be requested',
      { profileMaxSeconds: 43_200, requestedSeconds: 3600, expiresAt: iso(86_400) },
      3600,
    ],
    ['a fractional profile maximum defaults to its whole part', { profileMaxSeconds: 3600.7 }, 3600],
  ])('serves %s', (_label, overrides, expected) => {
    // Act
    const result = credentialDuration({ ...base, ...overrides });
    // Assess
    expect(result).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['below the STS minimum', { requestedSeconds: 899 }, 3600, 899],
    ['above the profile maximum', { requestedSeconds: 3601 }, 3600, 3601],
    ['zero', { requestedSeconds: 0 }, 3600, 0],
    ['negative', { requestedSeconds: -900 }, 3600, -900],
    ['fractional', { requestedSeconds: 1800.5 }, 3600, 1800.5],
    ['NaN', { requestedSeconds: Number.NaN }, 3600, Number.NaN],
    ['Infinity', { requestedSeconds: Number.POSITIVE_INFINITY }, 3600, Number.POSITIVE_INFINITY],
    [
      'above the role-chaining maximum with a larger profile maximum',
      { profileMaxSeconds: 43_200, requestedSeconds: 3601, expiresAt: iso(86_400) },
      3600,
      3601,
    ],
    [
      'the old STS maximum (STS refuses it for a chained role)',
      { profileMaxSeconds: 43_200, requestedSeconds: 43_200, expiresAt: iso(86_400) },
      3600,
      43_200,
    ],
    ['a profile maximum below the STS minimum', { profileMaxSeconds: 600 }, 600, 600],
    [
      'out of range even when the session is at its end',
      { requestedSeconds: 100, expiresAt: iso(10) },
      3600,
      100,
    ],
  ])('refuses DurationOutOfRange: %s', (_label, overrides, max, requested) => {
    // Act
    const result = credentialDuration({ ...base, ...overrides });
    // Assess
    expect(result).toEqual({ ok: false, refusal: { kind: 'DurationOutOfRange', min: 900, max, requested } });
  });

  it.each([
    ['899 s left', iso(899), 899],
    ['900 s left: no room for the margin', iso(900), 900],
    ['929 s left', iso(929), 929],
    ['1 ms short of 930 s left', new Date(at(930).getTime() - 1).toISOString(), 929],
    ['expiring now', iso(0), 0],
    ['already past', iso(-60), 0],
    ['an unreadable expiresAt (fail closed)', 'not-a-date', 0],
  ])('refuses AtMaxLifetime: %s', (_label, expiresAt, remainingSeconds) => {
    // Act
    const result = credentialDuration({ ...base, expiresAt });
    // Assess
    expect(result).toEqual({ ok: false, refusal: { kind: 'AtMaxLifetime', remainingSeconds } });
  });
});

describe('secondsUntil, isPast, ttlFor, earlierOf', () => {
  it.each([
    ['one hour ahead', iso(3600), 3600],
    ['999 ms ahead rounds down to 0', new Date(T0.getTime() + 999).toISOString(), 0],
    ['1.5 s ahead rounds down to 1', new Date(T0.getTime() + 1500).toISOString(), 1],
    ['now', iso(0), 0],
    ['in the past is 0, not negative', iso(-3600), 0],
    ['unreadable is 0, not NaN', 'garbage', 0],
    ['an offset form of the same instant', '2026-01-01T02:00:00+01:00', 3600],
  ])('secondsUntil: %s', (_label, expiresAt, expected) => {
    // Act / Assess
    expect(secondsUntil(expiresAt, T0)).toBe(expected);
  });

  it.each([
    ['1 ms ahead', new Date(T0.getTime() + 1).toISOString(), false],
    ['exactly now (expiry is exclusive)', iso(0), true],
    ['1 ms ago', new Date(T0.getTime() - 1).toISOString(), true],
    ['an hour ahead', iso(3600), false],
    ['unreadable (fail closed)', '', true],
    ['unreadable text (fail closed)', 'tomorrow', true],
  ])('isPast: %s', (_label, expiresAt, expected) => {
    // Act / Assess
    expect(isPast(expiresAt, T0)).toBe(expected);
  });

  it('isPast: an invalid now also counts as past', () => {
    expect(isPast(iso(3600), new Date(Number.NaN))).toBe(true);
  });

  it.each([
    ['default retention of 7 days', iso(0), undefined, 1_767_225_600 + DEFAULT_AUDIT_RETENTION_SECONDS],
    ['no retention', iso(0), 0, 1_767_225_600],
    ['a sub-second expiry rounds up', new Date(T0.getTime() + 1).toISOString(), 0, 1_767_225_601],
    ['one day retention', iso(3600), 86_400, 1_767_225_600 + 3600 + 86_400],
  ])('ttlFor: %s', (_label, expiresAt, retention, expected) => {
    // Act / Assess
    expect(ttlFor(expiresAt, retention)).toBe(expected);
    expect(ttlFor(expiresAt, retention)).toBeGreaterThanOrEqual(Math.floor(ms(expiresAt) / 1000));
  });

  it.each([
    ['an unreadable expiresAt', 'nope', undefined],
    ['a NaN retention', iso(0), Number.NaN],
  ])('ttlFor refuses %s', (_label, expiresAt, retention) => {
    expect(() => ttlFor(expiresAt, retention)).toThrow(InvalidInputError);
  });

  it.each([
    ['a earlier', iso(0), iso(1), iso(0)],
    ['b earlier', iso(5), iso(1), iso(1)],
    ['equal keeps a', iso(5), iso(5), iso(5)],
    // As strings, "2026-01-01T01:00:00+01:00" > "2026-01-01T00:30:00Z"; as instants it is earlier.
    [
      'compared as instants, not strings',
      '2026-01-01T01:00:00+01:00',
      '2026-01-01T00:30:00Z',
      '2026-01-01T01:00:00+01:00',
    ],
  ])('earlierOf: %s', (_label, a, b, expected) => {
    expect(earlierOf(a, b)).toBe(expected);
  });
});

describe('invariant 3 over generated sessions (seeded)', () => {
  const margin = CREDENTIAL_SAFETY_MARGIN_SECONDS;
  const caller: CallerIdentity = {
    user: 'alice',
    principalArn: 'arn:aws:iam::123456789012:user/alice',
    accountId: '123456789012',
    partition: 'aws',
    principalType: 'iam-user',
    viaIdentityCenter: false,
  };

  it.each([1, 2, 3, 4, 5, 1234, 987_654])(
    'seed %i: DurationSeconds ≤ expiresAt − now and expiresAt ≤ createdAt + maxLifetime, always',
    (seed) => {
      // Prepare
      const next = prng(seed);
      const violations: string[] = [];
      let served = 0;
      for (let run = 0; run < 200; run++) {
        const idle = intIn(next, 900, 43_200);
        const policy = validatePolicy({
          idleTimeoutSeconds: idle,
          maxLifetimeSeconds: intIn(next, idle, 604_800),
        });
        const profileMaxSeconds = intIn(next, 900, STS_ROLE_CHAINING_MAX_DURATION_SECONDS);
        const createdAt = new Date(T0.getTime() + intIn(next, 0, 10 ** 9) * 1000 + intIn(next, 0, 999));
        const cap = createdAt.getTime() + policy.maxLifetimeSeconds * 1000;
        let session: Session = newSession({
          sessionId: 'a'.repeat(32),
          caller,
          profile: 'dev',
          roleArn: 'arn:aws:iam::123456789012:role/dev',
          sourceIdentity: 'sentinel=alice=direct=r1',
          policy,
          now: createdAt,
        });
        let now = createdAt;
        // Act: a random walk of touches and vends, some gaps longer than the idle window.
        for (let step = 0; step < 30; step++) {
          now = new Date(now.getTime() + intIn(next, 0, Math.ceil(idle * 1.3)) * 1000 + intIn(next, 0, 999));
          const bare = ms(touchedExpiry(session, now, policy));
          if (bare > cap) violations.push(`touchedExpiry past cap at ${now.toISOString()}`);
          const touched = touchSession(session, { principalArn: session.principalArn, now, policy });
          const before = ms(session.expiresAt);
          if (touched.ok) session = touched.value;
          const requestedSeconds = next() < 0.4 ? undefined : intIn(next, 900, profileMaxSeconds);
          const duration = credentialDuration({
            requestedSeconds,
            profileMaxSeconds,
            expiresAt: session.expiresAt,
            now,
          });
          // Assess (collected, reported once)
          const expiresAt = ms(session.expiresAt);
          if (expiresAt > cap) violations.push(`expiresAt past cap: ${session.expiresAt}`);
          if (expiresAt < before) violations.push(`touch shortened expiry at ${now.toISOString()}`);
          if (session.maxExpiresAt !== new Date(Math.floor(cap / 1000) * 1000).toISOString())
            violations.push('maxExpiresAt drifted');
          if (expiresAt % 1000 !== 0) violations.push(`expiresAt not a whole second: ${session.expiresAt}`);
          if (!touched.ok && touched.refusal.kind !== 'Expired')
            violations.push(`refused ${touched.refusal.kind}`);
          if (duration.ok) {
            served++;
            const seconds = duration.value;
            if (!Number.isInteger(seconds)) violations.push(`non-integer ${seconds}`);
            if ((seconds + margin) * 1000 > expiresAt - now.getTime())
              violations.push(`credential outlives session (or its margin): ${seconds}`);
            if (seconds < STS_MIN_DURATION_SECONDS || seconds > STS_ROLE_CHAINING_MAX_DURATION_SECONDS)
              violations.push(`outside STS role-chaining bounds: ${seconds}`);
            if (seconds > profileMaxSeconds) violations.push(`above profile max: ${seconds}`);
            if (!touched.ok) violations.push('served a credential for an expired session');
          }
          if (!touched.ok) break;
        }
      }
      expect(violations).toEqual([]);
      // The walk must actually exercise the happy path, or the invariant is vacuous.
      expect(served).toBeGreaterThan(500);
    },
  );
});
