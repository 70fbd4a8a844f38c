import { describe, expect, it } from 'vitest';
import {
  buildRoleSessionName,
  buildSourceIdentity,
  isValidStsName,
  STS_NAME_MAX,
} from '../../../src/domain/sts-names.js';
import { prng } from '../../support/prng.js';

/** STS AssumeRole: SourceIdentity and RoleSessionName are 2–64 characters of `[\w+=,.@-]` (ASCII \w). */
const STS_PATTERN = /^[A-Za-z0-9_+=,.@-]{2,64}$/;

/** Pieces a hostile user name is built from: valid chars, separators, whitespace, unicode, emoji, lone surrogates. */
const PIECES = [
  'a',
  'Z',
  '9',
  '_',
  '+',
  '=',
  ',',
  '.',
  '@',
  '-',
  ':',
  '/',
  '*',
  ' ',
  '\t',
  '\n',
  '\0',
  '"',
  "'",
  '\\',
  '%',
  'ü',
  'ß',
  'İ',
  '山',
  'é', // e + combining acute
  '🔥',
  '👩‍💻',
  '🇩🇪',
  '\ud800',
  '\udfff',
  '\u200b',
  '\u202e',
  'ａ', // fullwidth a
  '١', // arabic-indic digit one
];

const hostileString = (next: () => number, maxLength: number): string => {
  const length = Math.floor(next() * next() * maxLength); // skewed towards short, with long tails
  let out = '';
  for (let i = 0; i < length; i++) out += PIECES[Math.floor(next() * PIECES.length)] ?? '';
  return out;
};

const GENERATED = 2000;

describe('buildSourceIdentity — exact output for normal cases', () => {
  it.each([
    ['a plain user, direct', { user: 'alice', requestId: 'req-123' }, 'sentinel=alice=direct=req-123'],
    [
      'with an approval id',
      { user: 'alice', approvalId: 'apr-42', requestId: 'req-123' },
      'sentinel=alice=apr-42=req-123',
    ],
    [
      'an undefined approval id means direct',
      { user: 'bob', approvalId: undefined, requestId: 'r1' },
      'sentinel=bob=direct=r1',
    ],
    ['"=" inside the user becomes "_"', { user: 'a=b', requestId: 'r1' }, 'sentinel=a_b=direct=r1'],
    [
      '":" inside the user becomes "_"',
      { user: 'dom:alice', requestId: 'r:1' },
      'sentinel=dom_alice=direct=r_1',
    ],
    [
      'an email user with a UUID request id: the request id is cut first',
      { user: 'alice.smith+ops@example.com', requestId: '3f2c1e9a-8b7d-4c6e-9f01-23456789abcd' },
      'sentinel=alice.smith+ops@example.com=direct=3f2c1e9a-8b7d-4c6e-9',
    ],
    [
      'a 100-character user: request id kept to 8, user cut to fit',
      { user: 'u'.repeat(100), requestId: '3f2c1e9a-8b7d-4c6e-9f01-23456789abcd' },
      `sentinel=${'u'.repeat(39)}=direct=3f2c1e9a`,
    ],
    [
      'an approval id longer than 20 characters is cut to 20',
      { user: 'carol', approvalId: 'A'.repeat(30), requestId: 'r1' },
      `sentinel=carol=${'A'.repeat(20)}=r1`,
    ],
    ['an empty user becomes "_"', { user: '', requestId: 'r1' }, 'sentinel=_=direct=r1'],
    ['an emoji is one "_", not two', { user: 'al🔥ice', requestId: 'r1' }, 'sentinel=al_ice=direct=r1'],
    ['an empty request id becomes "_"', { user: 'dave', requestId: '' }, 'sentinel=dave=direct=_'],
  ] as const)('%s', (_label, input, expected) => {
    // Act
    const sourceIdentity = buildSourceIdentity(input);
    // Assess
    expect(sourceIdentity).toBe(expected);
    expect(sourceIdentity).toMatch(STS_PATTERN);
  });
});

describe('buildRoleSessionName — exact output for normal cases', () => {
  const sessionId = '0123456789abcdef0123456789abcdef';
  it.each([
    ['a plain user', 'alice', 'sentinel-alice-01234567'],
    ['an email user', 'alice.smith+ops@example.com', 'sentinel-alice.smith+ops@example.com-01234567'],
    ['a user with ":" and spaces', 'corp:alice smith', 'sentinel-corp_alice_smith-01234567'],
    ['an empty user', '', 'sentinel-_-01234567'],
    ['a 100-character user is cut to 46', 'u'.repeat(100), `sentinel-${'u'.repeat(46)}-01234567`],
    ['a unicode user', 'jürgen', 'sentinel-j_rgen-01234567'],
  ] as const)('%s', (_label, user, expected) => {
    // Act
    const name = buildRoleSessionName({ user, sessionId });
    // Assess
    expect(name).toBe(expected);
    expect(name).toMatch(STS_PATTERN);
  });

  it('a hostile session id is sanitised and cut to 8 characters', () => {
    // Act
    const name = buildRoleSessionName({ user: 'alice', sessionId: 'ab:cd/ef gh' });
    // Assess
    expect(name).toBe('sentinel-alice-ab_cd_ef');
  });
});

describe('STS names for generated hostile inputs (seeded)', () => {
  it.each([1, 42, 20260101])('seed %i: every SourceIdentity satisfies STS and has no ":"', (seed) => {
    // Prepare
    const next = prng(seed);
    const failures: string[] = [];
    // Act
    for (let i = 0; i < GENERATED; i++) {
      const input = {
        user: hostileString(next, 500),
        approvalId: next() < 0.5 ? undefined : hostileString(next, 80),
        requestId: hostileString(next, 120),
      };
      const value = buildSourceIdentity(input);
      if (!STS_PATTERN.test(value) || value.includes(':') || !isValidStsName(value)) {
        failures.push(JSON.stringify({ input, value }));
      }
    }
    // Assess
    expect(failures).toEqual([]);
  });

  it.each([7, 99, 31337])('seed %i: every RoleSessionName satisfies STS', (seed) => {
    // Prepare
    const next = prng(seed);
    const failures: string[] = [];
    // Act
    for (let i = 0; i < GENERATED; i++) {
      const input = { user: hostileString(next, 500), sessionId: hostileString(next, 40) };
      const value = buildRoleSessionName(input);
      if (!STS_PATTERN.test(value) || !value.startsWith('sentinel-') || !isValidStsName(value)) {
        failures.push(JSON.stringify({ input, value }));
      }
    }
    // Assess
    expect(failures).toEqual([]);
  });

  it('keeps a valid short user and request id intact and in order', () => {
    // Prepare
    const next = prng(5);
    const valid = 'abcXYZ019_+,.@-';
    const pick = (length: number) =>
      Array.from({ length }, () => valid[Math.floor(next() * valid.length)] ?? 'a').join('');
    // Act / Assess
    for (let i = 0; i < 500; i++) {
      const user = pick(1 + Math.floor(next() * 20));
      const requestId = pick(1 + Math.floor(next() * 20));
      expect(buildSourceIdentity({ user, requestId })).toBe(`sentinel=${user}=direct=${requestId}`);
      expect(buildRoleSessionName({ user, sessionId: 'feedface00' })).toBe(`sentinel-${user}-feedface`);
    }
  });

  it('is deterministic: the same input gives the same name', () => {
    // Prepare
    const input = { user: '🔥'.repeat(300), approvalId: 'x:y', requestId: 'r'.repeat(200) };
    // Act
    const first = buildSourceIdentity(input);
    const second = buildSourceIdentity({ ...input });
    // Assess
    expect(second).toBe(first);
    expect(first.length).toBeLessThanOrEqual(STS_NAME_MAX);
  });
});

describe('isValidStsName', () => {
  it.each([
    ['ab', true],
    ['a'.repeat(64), true],
    ['a+=,.@-_9Z', true],
    ['', false],
    ['a', false],
    ['a'.repeat(65), false],
    ['a:b', false],
    ['a b', false],
    ['jürgen', false],
    ['ab\n', false],
  ] as const)('%j → %s', (value, expected) => {
    // Act / Assess
    expect(isValidStsName(value)).toBe(expected);
  });
});
