import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/domain/access-policy.js';
import {
  PolicyDocumentError,
  parsePolicy,
  parsePolicyJson,
} from '../../../src/domain/access-policy-document.js';
import { compileGlob, compilePatternList, matchList } from '../../../src/domain/access-policy-glob.js';
import { parsePolicyDocument } from '../../../src/domain/access-policy-yaml.js';
import { DomainError } from '../../../src/domain/errors.js';

const VALID = `
version: 3
admins: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_Admin_*/*']
rules:
  - name: dev
    effect: allow
    profiles: [dev]
    accounts: ['111122223333']
    time: { days: [mon], hours: '09:00-17:00', timezone: Europe/Berlin }
`;

/** The problems a document has, or [] when it parses. */
const problemsOf = (text: string): readonly string[] => {
  try {
    parsePolicyDocument(text, 'test.yaml');
    return [];
  } catch (error) {
    if (!(error instanceof PolicyDocumentError)) throw error;
    return error.problems;
  }
};

const ruleDoc = (rule: string): string => `
version: 1
admins: []
rules:
  - name: r1
    effect: allow
${rule
  .trim()
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`;

describe('parsePolicyDocument — a valid document', () => {
  it('compiles rules, admins and the version', () => {
    // Act
    const policy = parsePolicyDocument(VALID);
    // Assess
    expect(policy.version).toBe(3);
    expect(policy.rules.map((r) => r.name)).toEqual(['dev']);
    expect(policy.rules[0]?.time).toMatchObject({ startMinute: 540, endMinute: 1020, dayMask: 1 });
    expect(policy.identityRoles).toEqual([]);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.rules[0])).toBe(true);
  });

  it('reads JSON too, and a string version', () => {
    // Act
    const policy = parsePolicyDocument(JSON.stringify({ version: '2026-05-01.1', admins: [], rules: [] }));
    // Assess
    expect(policy.version).toBe('2026-05-01.1');
  });

  it('parsePolicyJson reads JSON without the YAML parser', () => {
    expect(parsePolicyJson('{"version":1,"admins":[],"rules":[]}').version).toBe(1);
    expect(() => parsePolicyJson('{"version":1,')).toThrow(/JSON:/);
  });

  it('"24:00" ends a window at midnight; no hours means the whole day', () => {
    // Act
    const policy = parsePolicyDocument(
      ruleDoc(`time: { hours: '18:00-24:00', timezone: UTC }`).replace('r1', 'evening') +
        `  - name: sundays
    effect: allow
    time: { days: [sun], timezone: UTC }
`,
    );
    // Assess
    expect(policy.rules[0]?.time).toMatchObject({ startMinute: 1080, endMinute: 1440, dayMask: 0x7f });
    expect(policy.rules[1]?.time).toMatchObject({ startMinute: 0, endMinute: 1440, dayMask: 1 << 6 });
  });

  it('the local example policy is valid', async () => {
    // Prepare
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../../local/policy.yaml', import.meta.url), 'utf8');
    // Act
    const policy = parsePolicyDocument(text, 'local/policy.yaml');
    // Assess
    expect(policy.rules.length).toBeGreaterThanOrEqual(3);
  });
});

describe('parsePolicyDocument — malformed documents fail with every problem named', () => {
  it.each([
    ['malformed YAML', 'version: 1\nrules: [\nadmins: []\n', /YAML: .*line 3/],
    ['duplicate keys', 'version: 1\nrules: []\nrules: []\nadmins: []\n', /YAML: Map keys must be unique/],
    [
      'two YAML documents',
      'version: 1\nadmins: []\nrules: []\n---\nversion: 2\n',
      /YAML: .*multiple documents/i,
    ],
    ['an unknown tag', 'version: !!js/function 1\nadmins: []\nrules: []\n', /YAML: .*tag/i],
    ['an empty document', '', /\(document\): expected a mapping with version, rules and admins/],
    ['a list, not a mapping', '- 1\n', /\(document\): expected a mapping/],
    ['no version', 'admins: []\nrules: []\n', /^version: version is required/],
    ['a fractional version', 'version: 1.5\nadmins: []\nrules: []\n', /^version: version is required/],
    ['a negative version', 'version: -1\nadmins: []\nrules: []\n', /^version: version is required/],
    ['an empty version', "version: ''\nadmins: []\nrules: []\n", /^version: version is required/],
    ['no admins', 'version: 1\nrules: []\n', /^admins: admins must be a list/],
    ['rules not a list', 'version: 1\nadmins: []\nrules: {}\n', /^rules: rules must be a list/],
    [
      'a rule that is not a mapping',
      'version: 1\nadmins: []\nrules: [dev]\n',
      /^rules\[0\]: a rule must be a mapping/,
    ],
    [
      'an unknown top-level field',
      `${VALID}owner: me\n`,
      /^owner: unknown field \(allowed: version, rules, admins, identityRoles\)/,
    ],
    [
      'an unknown rule field',
      ruleDoc('profile: [dev]'),
      /^rules\[0\] \("r1"\)\.profile: unknown field \(allowed: name, effect/,
    ],
    [
      'an unknown time field',
      ruleDoc('time: { days: [mon], timezone: UTC, tz: UTC }'),
      /^rules\[0\] \("r1"\)\.time\.tz: unknown field \(allowed: days, hours, timezone\)/,
    ],
    [
      'an empty glob',
      ruleDoc("profiles: ['']"),
      /^rules\[0\] \("r1"\)\.profiles\[0\]: invalid profile pattern "": an empty pattern/,
    ],
    [
      'whitespace in a glob',
      ruleDoc("users: ['al ice']"),
      /users\[0\]: invalid user pattern "al ice": a pattern has no whitespace/,
    ],
    ['a control character in a glob', ruleDoc('users: ["al\\tice"]'), /users\[0\]: invalid user pattern/],
    [
      'a profile glob outside the profile charset',
      ruleDoc("profiles: ['dev/*']"),
      /profiles\[0\]: invalid profile pattern "dev\/\*": profile names are/,
    ],
    [
      'a principal pattern that is no ARN',
      ruleDoc("principals: ['AWSReservedSSO_*']"),
      /principals\[0\]: .*starts with "arn:"/,
    ],
    [
      'an admin pattern that is no ARN',
      'version: 1\nadmins: [alice]\nrules: []\n',
      /^admins\[0\]: .*starts with "arn:"/,
    ],
    [
      'an empty condition list',
      ruleDoc('profiles: []'),
      /profiles: profiles is empty and would match nothing; omit it/,
    ],
    [
      'an unquoted account id',
      ruleDoc('accounts: [000000000000]'),
      /accounts\[0\]: an account id is a string of 12 digits: quote it in YAML/,
    ],
    [
      'an 11-digit account id',
      ruleDoc("accounts: ['12345678901']"),
      /accounts\[0\]: an account id is 12 digits/,
    ],
    [
      'a malformed organization id',
      ruleDoc('organizations: [o-x]'),
      /organizations\[0\]: an organization id is "o-"/,
    ],
    [
      'an unknown effect',
      ruleDoc('effect: permit').replace('    effect: allow\n', ''),
      /effect: effect must be "allow" or "deny"/,
    ],
    [
      'a rule without a name',
      'version: 1\nadmins: []\nrules:\n  - effect: allow\n',
      /^rules\[0\]\.name: a rule needs a name/,
    ],
    [
      'a rule name with spaces',
      ruleDoc('').replace('name: r1', 'name: my rule'),
      /name: a rule name is 1-64 letters/,
    ],
    [
      'an invalid time zone',
      ruleDoc('time: { days: [mon], timezone: Mars/Olympus_Mons }'),
      /^rules\[0\] \("r1"\)\.time\.timezone: unknown time zone "Mars\/Olympus_Mons"/,
    ],
    [
      'a time zone of the wrong type',
      ruleDoc('time: { days: [mon], timezone: 1 }'),
      /time\.timezone: timezone must be an IANA time zone name/,
    ],
    [
      'hours without a dash',
      ruleDoc("time: { hours: '09:00', timezone: UTC }"),
      /time\.hours: hours must be "HH:MM-HH:MM"/,
    ],
    [
      'hours past 23',
      ruleDoc("time: { hours: '09:00-25:00', timezone: UTC }"),
      /time\.hours: hours must be "HH:MM-HH:MM"/,
    ],
    [
      'minutes past 59',
      ruleDoc("time: { hours: '09:60-10:00', timezone: UTC }"),
      /time\.hours: hours must be "HH:MM-HH:MM"/,
    ],
    [
      'single-digit hours',
      ruleDoc("time: { hours: '9:00-17:00', timezone: UTC }"),
      /time\.hours: hours must be "HH:MM-HH:MM"/,
    ],
    [
      '24:00 as a start',
      ruleDoc("time: { hours: '24:00-06:00', timezone: UTC }"),
      /time\.hours: hours must be "HH:MM-HH:MM"/,
    ],
    [
      'an empty window',
      ruleDoc("time: { hours: '09:00-09:00', timezone: UTC }"),
      /time\.hours: hours start and end are equal/,
    ],
    [
      'an unknown day',
      ruleDoc('time: { days: [mon, funday], timezone: UTC }'),
      /time\.days\[1\]: days are mon, tue/,
    ],
    [
      'a day twice',
      ruleDoc('time: { days: [mon, mon], timezone: UTC }'),
      /time\.days: days lists a day twice/,
    ],
    [
      'a time window with neither days nor hours',
      ruleDoc('time: { timezone: UTC }'),
      /time: a time window needs days, hours or both/,
    ],
    [
      'a lifetime cap below what can be served',
      ruleDoc('maxLifetimeSeconds: 600'),
      /maxLifetimeSeconds: maxLifetimeSeconds below 931/,
    ],
    [
      'a lifetime cap in milliseconds',
      ruleDoc('maxLifetimeSeconds: 3600000'),
      /maxLifetimeSeconds is at most 2592000/,
    ],
    [
      'a fractional lifetime cap',
      ruleDoc('maxLifetimeSeconds: 1000.5'),
      /maxLifetimeSeconds must be a whole number/,
    ],
    [
      'a lifetime cap on a deny rule',
      ruleDoc('maxLifetimeSeconds: 3600').replace('effect: allow', 'effect: deny'),
      /maxLifetimeSeconds caps sessions an allow rule starts/,
    ],
    [
      'an empty identityRoles',
      'version: 1\nadmins: []\nrules: []\nidentityRoles: []\n',
      /identityRoles: identityRoles is empty/,
    ],
    [
      'an identity role glob with "/"',
      "version: 1\nadmins: []\nrules: []\nidentityRoles: ['a/b']\n",
      /identityRoles\[0\]: invalid identity role pattern/,
    ],
  ])('%s', (_label, text, expected) => {
    // Act
    const problems = problemsOf(text);
    // Assess
    expect(problems.length).toBeGreaterThan(0);
    expect(
      problems.some((problem) => expected.test(problem)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('duplicate rule names are named with both places', () => {
    // Prepare
    const text = `version: 1\nadmins: []\nrules:\n  - { name: a, effect: allow }\n  - { name: b, effect: deny }\n  - { name: a, effect: deny }\n`;
    // Act / Assess
    expect(problemsOf(text)).toEqual(['rules[2] ("a").name: duplicate rule name "a" (first at rules[0])']);
  });

  it('lists every problem at once, duplicates included, in a PolicyDocumentError', () => {
    // Prepare
    const text = `
version: 1.5
admins: []
extra: 1
rules:
  - { name: a, effect: allow, profiles: [''] }
  - { name: a, effect: permit }
  - { name: c, effect: allow, time: { days: [mon], timezone: Nowhere/Land } }
`;
    // Act
    let caught: unknown;
    try {
      parsePolicyDocument(text, 'broken.yaml');
    } catch (error) {
      caught = error;
    }
    // Assess
    expect(caught).toBeInstanceOf(PolicyDocumentError);
    expect(caught).toBeInstanceOf(DomainError);
    const error = caught as PolicyDocumentError;
    expect(error.name).toBe('PolicyDocumentError');
    expect(error.code).toBe('InvalidAccessPolicy');
    expect(error.problems).toHaveLength(6);
    expect(error.message).toMatch(/^broken\.yaml is invalid \(6 problems\):\n {2}- /);
    expect(error.message).toMatch(/rules\[1\] \("a"\)\.name: duplicate rule name "a"/);
    expect(error.message).toMatch(/rules\[2\] \("c"\)\.time\.timezone: unknown time zone "Nowhere\/Land"/);
  });

  it('refuses a document over 1 MiB before parsing it', () => {
    expect(problemsOf(`# ${'x'.repeat(1024 * 1024)}\n${VALID}`)).toEqual([
      'the document is longer than 1048576 characters',
    ]);
  });

  it('refuses an alias bomb', () => {
    // Prepare: each level refers to the one before ten times.
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const text = `${levels.join('\n')}\nversion: 1\nadmins: []\nrules: []\n`;
    // Act / Assess
    expect(problemsOf(text).join('\n')).toMatch(/YAML: .*alias/i);
  });

  it('parsePolicy refuses any non-document value', () => {
    for (const value of [null, undefined, 42, 'policy', [], true]) {
      expect(() => parsePolicy(value)).toThrow(PolicyDocumentError);
    }
  });
});

describe('properties (fast-check)', () => {
  const globChars = fc.constantFrom('a', 'b', ':', '/', '.', '*', '?', '+', '(', '[', '\\', '$', 'é', '🔥');
  const valueChars = fc.constantFrom('a', 'b', ':', '/', '.', '+', '(', '[', '\\', '$', 'é', '🔥');

  /** What a glob means, spelled out naively (a reference, not fast). */
  const reference = (glob: string): RegExp =>
    new RegExp(
      `^${Array.from(glob)
        .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')))
        .join('')}$`,
      'su',
    );

  it('a compiled glob and a compiled list match exactly what the naive reading does', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: globChars, minLength: 1, maxLength: 8 }),
        fc.array(fc.string({ unit: valueChars, maxLength: 10 }), { maxLength: 20 }),
        (glob, values) => {
          const naive = reference(glob);
          const regex = compileGlob(glob);
          const list = compilePatternList([glob]);
          for (const value of values) {
            const expected = naive.test(value);
            if (regex.test(value) !== expected || matchList(list, value) !== expected) return false;
          }
          return true;
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a list matches a value exactly when one of its globs does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: globChars, minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        fc.string({ unit: valueChars, maxLength: 8 }),
        (globs, value) =>
          matchList(compilePatternList(globs), value) === globs.some((glob) => reference(glob).test(value)),
      ),
      { numRuns: 2000 },
    );
  });

  it('a document with an unknown field anywhere never parses, and the field is named', () => {
    const base = {
      version: 1,
      admins: [],
      rules: [{ name: 'r', effect: 'allow', time: { days: ['mon'], timezone: 'UTC' } }],
    };
    fc.assert(
      fc.property(
        fc.constantFrom('top', 'rule', 'time'),
        fc.string({ unit: fc.constantFrom('x', 'y', 'z', '_'), minLength: 1, maxLength: 6 }),
        (where, key) => {
          const doc = structuredClone(base) as Record<string, unknown> & { rules: Record<string, unknown>[] };
          const rule = doc.rules[0] as Record<string, unknown>;
          const target =
            where === 'top' ? doc : where === 'rule' ? rule : (rule.time as Record<string, unknown>);
          target[key] = 1;
          try {
            parsePolicy(doc);
            return false;
          } catch (error) {
            return (
              error instanceof PolicyDocumentError &&
              error.problems.some((p) => p.includes(`${key}: unknown field`))
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('whatever JSON value it is given, parsePolicy either throws PolicyDocumentError or yields a policy that denies by default', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          const policy = parsePolicy(value);
          return policy.rules.length === 0
            ? evaluate(policy, {
                principalArn: 'arn:aws:iam::111122223333:user/a',
                accountId: '111122223333',
                user: 'a',
                profile: 'p',
                at: new Date(),
              }).effect === 'deny'
            : true;
        } catch (error) {
          return error instanceof PolicyDocumentError;
        }
      }),
      { numRuns: 500 },
    );
  });
});
