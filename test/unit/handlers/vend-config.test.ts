/** Configuration read at init: invalid values fail naming the variable; the offline issuer is marked fake. */
import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../local/manual-clock.js';
import {
  OFFLINE_ACCESS_KEY_PREFIX,
  OfflineCredentialIssuer,
} from '../../../local/offline-credential-issuer.js';
import { enumEnv, intEnv, jsonEnv, requireEnv } from '../../../src/commons/env.js';
import { ConfigurationError } from '../../../src/domain/errors.js';
import { STORE_FAILURE_MODES } from '../../../src/usecases/store-failure.js';
import { parseProfiles } from '../../../src/usecases/vend-profiles.js';

const good = {
  dev: {
    roleArn: 'arn:aws:iam::444455556666:role/dev',
    maxDurationSeconds: 3600,
    idleTimeoutSeconds: 3600,
    maxLifetimeSeconds: 43_200,
  },
};

describe('PROFILES', () => {
  it('parses a valid allowlist', () => {
    const profiles = jsonEnv('PROFILES', parseProfiles, { PROFILES: JSON.stringify(good) });
    expect(profiles.get('dev')).toEqual({
      name: 'dev',
      roleArn: 'arn:aws:iam::444455556666:role/dev',
      maxDurationSeconds: 3600,
      policy: { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 43_200 },
    });
  });

  it.each([
    ['unset', undefined, /PROFILES is required/],
    ['not JSON', '{dev:', /PROFILES is not valid JSON/],
    ['empty', '{}', /PROFILES is invalid: at least one profile/],
    ['an array', '[]', /PROFILES is invalid/],
    [
      'a bad role ARN',
      JSON.stringify({ dev: { ...good.dev, roleArn: 'arn:aws:iam::444455556666:user/dev' } }),
      /roleArn/,
    ],
    [
      'an unknown field',
      JSON.stringify({ dev: { ...good.dev, policyArns: [] } }),
      /unknown field\(s\) policyArns/,
    ],
    [
      'a duration over 12 h',
      JSON.stringify({ dev: { ...good.dev, maxDurationSeconds: 43_201 } }),
      /maxDurationSeconds/,
    ],
    // Role chaining (the Lambda assumes with its own role's credentials): STS refuses more than one hour.
    [
      'a duration of 12 h (STS refuses it for a chained role)',
      JSON.stringify({ dev: { ...good.dev, maxDurationSeconds: 43_200 } }),
      /"dev"\.maxDurationSeconds is 43200, above 3600: .*role chaining/,
    ],
    [
      'a duration one second over the role-chaining hour',
      JSON.stringify({ dev: { ...good.dev, maxDurationSeconds: 3601 } }),
      /above 3600.*set at most 3600 in PROFILES/,
    ],
    [
      'an idle window under 900 s',
      JSON.stringify({ dev: { ...good.dev, idleTimeoutSeconds: 600 } }),
      /idleTimeoutSeconds/,
    ],
    // 900 s is STS's minimum, but a new session must also hold the 30 s margin (and a second of rounding).
    [
      'an idle window too short to serve any create (930 s)',
      JSON.stringify({ dev: { ...good.dev, idleTimeoutSeconds: 930 } }),
      /idleTimeoutSeconds is 930, below 931: .*raise it in PROFILES/,
    ],
    [
      'a lifetime under the idle window',
      JSON.stringify({ dev: { ...good.dev, maxLifetimeSeconds: 1800 } }),
      /maxLifetimeSeconds/,
    ],
  ])('refuses %s, naming the variable', (_name, raw, message) => {
    const attempt = () => jsonEnv('PROFILES', parseProfiles, { PROFILES: raw });
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(/PROFILES/);
    expect(attempt).toThrow(message);
  });
});

describe('env helpers', () => {
  it('SESSION_STORE_FAILURE defaults to deny and refuses anything but deny|allow', () => {
    expect(enumEnv('SESSION_STORE_FAILURE', STORE_FAILURE_MODES, 'deny', {})).toBe('deny');
    expect(
      enumEnv('SESSION_STORE_FAILURE', STORE_FAILURE_MODES, 'deny', { SESSION_STORE_FAILURE: 'allow' }),
    ).toBe('allow');
    expect(() =>
      enumEnv('SESSION_STORE_FAILURE', STORE_FAILURE_MODES, 'deny', { SESSION_STORE_FAILURE: 'open' }),
    ).toThrow(/SESSION_STORE_FAILURE must be one of deny, allow/);
  });

  it('requireEnv and intEnv name the variable', () => {
    expect(() => requireEnv('SESSIONS_TABLE_NAME', { SESSIONS_TABLE_NAME: ' ' })).toThrow(
      /SESSIONS_TABLE_NAME is required/,
    );
    expect(intEnv('N', { min: 1, max: 9, fallback: 5 }, {})).toBe(5);
    expect(() => intEnv('N', { min: 1, max: 9, fallback: 5 }, { N: '1.5' })).toThrow(
      /N must be a whole number/,
    );
    expect(() => intEnv('N', { min: 1, max: 9, fallback: 5 }, { N: '10' })).toThrow(
      /N must be between 1 and 9/,
    );
  });
});

describe('OfflineCredentialIssuer', () => {
  it('mints the real shape, unmistakably fake, and warns loudly every time', async () => {
    const warnings: string[] = [];
    const issuer = new OfflineCredentialIssuer({
      clock: new ManualClock('2026-01-15T09:30:00.000Z'),
      warn: (message) => warnings.push(message),
    });

    const credentials = await issuer.issue({
      roleArn: 'arn:aws:iam::444455556666:role/dev',
      roleSessionName: 'sentinel-alice-3f9c2b7a',
      sourceIdentity: 'sentinel=alice=direct=req',
      sessionId: '3f9c2b7a1e5d4c8b9a0f6e2d1c3b5a79',
      durationSeconds: 900,
    });

    expect(Object.keys(credentials).sort()).toEqual([
      'AccessKeyId',
      'Expiration',
      'SecretAccessKey',
      'Token',
    ]);
    expect(credentials.AccessKeyId).toMatch(new RegExp(`^${OFFLINE_ACCESS_KEY_PREFIX}[A-Z2-7]{5}$`));
    expect(credentials.SecretAccessKey.startsWith('OFFLINE-FAKE-')).toBe(true);
    expect(credentials.Token.startsWith('OFFLINE-FAKE-TOKEN-')).toBe(true);
    expect(credentials.Expiration).toBe('2026-01-15T09:45:00.000Z');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/FAKE credentials/);
  });
});

describe('vend handler init', () => {
  const env = {
    AWS_REGION: 'eu-west-1',
    SESSIONS_TABLE_NAME: 'sessions',
    IDEMPOTENCY_TABLE_NAME: 'idempotency',
    EVENT_BUS_NAME: 'bus',
    ACCESS_POLICY_PARAMETER: '/sentinel/access-policy',
    PROFILES: JSON.stringify(good),
  };
  const load = async (overrides: Record<string, string | undefined>) => {
    vi.resetModules();
    for (const [name, value] of Object.entries({ ...env, ...overrides })) vi.stubEnv(name, value);
    try {
      return await import('../../../src/handlers/vend.js');
    } finally {
      vi.unstubAllEnvs();
    }
  };

  it('loads with a valid configuration', async () => {
    await expect(load({})).resolves.toHaveProperty('handler');
  });

  it.each([
    ['PROFILES', { PROFILES: '{"dev":{"roleArn":"nope"}}' }],
    ['PROFILES', { PROFILES: undefined }],
    ['SESSION_STORE_FAILURE', { SESSION_STORE_FAILURE: 'open' }],
    ['EVENT_BUS_NAME', { EVENT_BUS_NAME: '' }],
    ['AUDIT_RETENTION_DAYS', { AUDIT_RETENTION_DAYS: '0' }],
    ['ACCESS_POLICY_PARAMETER', { ACCESS_POLICY_PARAMETER: undefined }],
    ['PROFILES', { PROFILES: JSON.stringify({ dev: { ...good.dev, maxDurationSeconds: 43_200 } }) }],
  ])('fails the cold start naming %s', async (name, overrides) => {
    const failure = await load(overrides).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('ConfigurationError');
    expect((failure as Error).message).toContain(name);
  });
});
