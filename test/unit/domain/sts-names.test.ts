import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/domain/errors.js';
import {
  buildRoleSessionName,
  buildSourceIdentity,
  isValidStsName,
  STS_NAME_MAX,
  sessionIdFromRoleSessionName,
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
    ['a plain user', 'alice', `s-${sessionId}-alice`],
    ['an email user of 27', 'alice.smith+ops@example.com', `s-${sessionId}-alice.smith+ops@example.com`],
    ['a user with ":" and spaces', 'corp:alice smith', `s-${sessionId}-corp_alice_smith`],
    ['a <role>/<session> user', 'Deploy/alice', `s-${sessionId}-Deploy_alice`],
    ['an empty user', '', `s-${sessionId}-_`],
    ['a 100-character user is cut to 29', 'u'.repeat(100), `s-${sessionId}-${'u'.repeat(29)}`],
    ['a unicode user', 'jürgen', `s-${sessionId}-j_rgen`],
  ] as const)('%s', (_label, user, expected) => {
    // Act
    const name = buildRoleSessionName({ user, sessionId });
    // Assess
    expect(name).toBe(expected);
    expect(name).toMatch(STS_PATTERN);
    expect(sessionIdFromRoleSessionName(name)).toBe(sessionId);
  });

  it.each([
    ['too short', 'ab'],
    ['upper-case hex', 'ABCDEF0123456789ABCDEF0123456789'],
    ['33 characters', `${'a'.repeat(33)}`],
    ['a hostile id', 'ab:cd/ef gh'],
    ['empty', ''],
  ])('refuses a session id that is not 32 lowercase hex characters: %s', (_label, sessionId) => {
    // Act
    const act = () => buildRoleSessionName({ user: 'alice', sessionId });
    // Assess
    expect(act).toThrow(InvalidInputError);
    expect(act).toThrow(/32 lowercase hex/);
  });
});

describe('sessionIdFromRoleSessionName', () => {
  const id = 'feedfacecafebeef0123456789abcdef';
  it.each([
    ['a name of ours', `s-${id}-alice`, id],
    ['a name of ours with a 29-character user', `s-${id}-${'u'.repeat(29)}`, id],
    ['the old format', 'sentinel-alice-feedface', undefined],
    ['no user part', `s-${id}`, undefined],
    ['an empty user part', `s-${id}-`, undefined],
    ['a user part too long for STS', `s-${id}-${'u'.repeat(30)}`, undefined],
    ['an id of 31 characters', `s-${id.slice(1)}-alice`, undefined],
    ['upper-case hex', `s-${id.toUpperCase()}-alice`, undefined],
    ['another prefix', `x-${id}-alice`, undefined],
    ['a character outside the STS charset', `s-${id}-al:ice`, undefined],
    ['a trailing newline', `s-${id}-alice\n`, undefined],
    ['an Identity Center session name', 'alice@example.com', undefined],
    ['not a string', 42, undefined],
  ])('%s', (_label, name, expected) => {
    // Act / Assess
    expect(sessionIdFromRoleSessionName(name)).toBe(expected);
  });

  it('maps every generated name back to its id (seeded)', () => {
    // Prepare
    const next = prng(11);
    const hex = '0123456789abcdef';
    // Act / Assess
    for (let i = 0; i < 1000; i++) {
      const sessionId = Array.from({ length: 32 }, () => hex[Math.floor(next() * 16)] ?? '0').join('');
      const name = buildRoleSessionName({ user: hostileString(next, 200), sessionId });
      expect(name).toMatch(STS_PATTERN);
      expect(sessionIdFromRoleSessionName(name)).toBe(sessionId);
    }
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
      const sessionId = Math.floor(next() * 2 ** 32)
        .toString(16)
        .padStart(8, '0')
        .repeat(4);
      const input = { user: hostileString(next, 500), sessionId };
      const value = buildRoleSessionName(input);
      if (!STS_PATTERN.test(value) || !value.startsWith(`s-${sessionId}-`) || !isValidStsName(value)) {
        failures.push(JSON.stringify({ input, value }));
      }
    }
    // Assess
    expect(failures).toEqual([]);
  });

  it('keeps a valid short user and request id intact and in order (the user cut to 29 in a RoleSessionName)', () => {
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
      const sessionId = 'feedface'.repeat(4);
      expect(buildRoleSessionName({ user, sessionId })).toBe(`s-${sessionId}-${user.slice(0, 29)}`);
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
