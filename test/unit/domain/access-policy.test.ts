import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccessPolicy,
  type AccessRequest,
  cappedSessionPolicy,
  DEFAULT_DENY_REASON,
  type Decision,
  evaluate,
  inTimeWindow,
  isAdmin,
  localTime,
  shadowedRules,
} from '../../../src/domain/access-policy.js';
import { POLICY_MAX_RULES, parsePolicy } from '../../../src/domain/access-policy-document.js';
import { matchList } from '../../../src/domain/access-policy-glob.js';
import { parsePolicyDocument } from '../../../src/domain/access-policy-yaml.js';
import { parseCallerArn } from '../../../src/domain/identity.js';

const TEAM = '111122223333';
const OTHER_TEAM = '444455556666';
const STRANGER = '999999999999';
const sso = (permissionSet: string, user: string, account = TEAM): string =>
  `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_${permissionSet}_0123456789abcdef/${user}`;

/** The policy of the decision table. Rule order matters: the first match decides. */
const POLICY = parsePolicyDocument(
  `
version: 7
admins: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_Admin_*/*']
identityRoles: ['CorpIdP-*']
rules:
  - name: deny-mallory
    effect: deny
    users: [mallory, 'mallory@*']
    reason: mallory is offboarded
  - name: deny-prod-contractors
    effect: deny
    profiles: [prod, 'prod-*']
    users: ['*@contractor.example']
  - name: break-glass
    effect: allow
    profiles: [prod]
    principals: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_BreakGlass_*/*']
    maxLifetimeSeconds: 1800
  - name: prod-admins-office-hours
    effect: allow
    profiles: [prod, 'prod-*']
    principals: ['arn:aws:sts::*:assumed-role/AWSReservedSSO_Admin_*/*']
    accounts: ['${TEAM}']
    time: { days: [mon, tue, wed, thu, fri], hours: '09:00-17:00', timezone: Europe/Berlin }
    maxLifetimeSeconds: 3600
  - name: oncall-friday-night
    effect: allow
    profiles: [prod]
    users: ['oncall-?']
    time: { days: [fri], hours: '22:00-06:00', timezone: Europe/Berlin }
  - name: maintenance-saturday-night
    effect: allow
    profiles: [maint]
    time: { days: [sat], hours: '22:00-06:00', timezone: Europe/Berlin }
  - name: ny-batch-window
    effect: allow
    profiles: [batch]
    time: { hours: '01:00-03:00', timezone: America/New_York }
  - name: ny-sunday-early
    effect: allow
    profiles: [report]
    time: { days: [sun], hours: '00:00-04:00', timezone: America/New_York }
  - name: org-shared
    effect: allow
    profiles: ['shared-*']
    organizations: [o-exampleorg1]
  - name: dev-team-accounts
    effect: allow
    profiles: [dev, 'dev-?']
    accounts: ['${TEAM}', '${OTHER_TEAM}']
    maxLifetimeSeconds: 7200
  - name: readonly-everyone
    effect: allow
    profiles: ['*-readonly']
  - name: deny-rest-of-prod
    effect: deny
    profiles: [prod]
    reason: prod needs an admin in office hours
`,
  'decision table policy',
);

interface Row {
  readonly principal?: string;
  readonly user?: string;
  readonly profile?: string;
  readonly org?: string | null;
  readonly at?: string;
}

interface Expected {
  readonly effect: 'allow' | 'deny';
  readonly rule: string | undefined;
  readonly reason?: string | RegExp;
  readonly maxLifetimeSeconds?: number;
}

/** A Wednesday, 10:00 in Berlin (CET). */
const WEDNESDAY = '2026-03-04T09:00:00Z';

const requestOf = (policy: AccessPolicy, row: Row): AccessRequest => {
  const caller = parseCallerArn(row.principal ?? sso('Developer', 'alice'), {
    identityRoles: policy.identityRoles,
  });
  return {
    principalArn: caller.principalArn,
    accountId: caller.accountId,
    orgId: row.org === null ? undefined : (row.org ?? 'o-exampleorg1'),
    user: row.user ?? caller.user,
    profile: row.profile ?? 'dev',
    at: new Date(row.at ?? WEDNESDAY),
  };
};

const allow = (rule: string, maxLifetimeSeconds?: number): Expected => ({
  effect: 'allow',
  rule,
  ...(maxLifetimeSeconds === undefined ? {} : { maxLifetimeSeconds }),
});
const deny = (rule: string | undefined, reason?: string | RegExp): Expected => ({
  effect: 'deny',
  rule,
  reason: reason ?? (rule === undefined ? DEFAULT_DENY_REASON : `rule "${rule}" denies`),
});

const ADMIN = sso('Admin', 'root-admin');
const BREAK_GLASS = sso('BreakGlass', 'bg');
const ONCALL = sso('Oncall', 'oncall-1');
const PROD_DENIED = 'prod needs an admin in office hours';

const TABLE: ReadonlyArray<readonly [string, Row, Expected]> = [
  // Profiles, accounts and the default deny
  ['dev from a team account', {}, allow('dev-team-accounts', 7200)],
  [
    'dev from the other team account',
    { principal: sso('Dev', 'bob', OTHER_TEAM) },
    allow('dev-team-accounts', 7200),
  ],
  ['dev-1 matches the "dev-?" glob', { profile: 'dev-1' }, allow('dev-team-accounts', 7200)],
  ['dev-12 does not match "dev-?" ("?" is one character)', { profile: 'dev-12' }, deny(undefined)],
  [
    'dev from an account not pinned: no rule matches',
    { principal: sso('Dev', 'alice', STRANGER) },
    deny(undefined),
  ],
  ['an unknown profile is denied by default', { profile: 'sandbox' }, deny(undefined)],
  [
    '"*-readonly" matches any account',
    { principal: sso('Dev', 'xy', STRANGER), profile: 'billing-readonly' },
    allow('readonly-everyone'),
  ],
  ['"readonly" alone does not match "*-readonly"', { profile: 'readonly' }, deny(undefined)],
  [
    'an IAM user gets dev by account',
    { principal: `arn:aws:iam::${TEAM}:user/dave` },
    allow('dev-team-accounts', 7200),
  ],
  // Users, deny before allow, canonical identities
  [
    'deny before allow: mallory is denied dev',
    { principal: sso('Dev', 'mallory') },
    deny('deny-mallory', 'mallory is offboarded'),
  ],
  [
    'a user glob: mallory@example.com',
    { principal: sso('Dev', 'mallory@example.com') },
    deny('deny-mallory', 'mallory is offboarded'),
  ],
  [
    'mallory as an IAM user',
    { principal: `arn:aws:iam::${TEAM}:user/mallory` },
    deny('deny-mallory', 'mallory is offboarded'),
  ],
  [
    'a session named mallory under an identity role glob is mallory',
    { principal: `arn:aws:sts::${TEAM}:assumed-role/CorpIdP-Eng/mallory` },
    deny('deny-mallory', 'mallory is offboarded'),
  ],
  [
    'a session named mallory under any other role is not mallory',
    { principal: `arn:aws:sts::${TEAM}:assumed-role/CiRole/mallory` },
    allow('dev-team-accounts', 7200),
  ],
  [
    'a contractor is denied prod (default reason)',
    { principal: ADMIN, user: 'eve@contractor.example', profile: 'prod' },
    deny('deny-prod-contractors'),
  ],
  [
    'a contractor is denied prod-eu through the profile glob',
    { user: 'eve@contractor.example', profile: 'prod-eu' },
    deny('deny-prod-contractors'),
  ],
  ['a contractor still gets dev', { user: 'eve@contractor.example' }, allow('dev-team-accounts', 7200)],
  // Principals, first match, maxLifetimeSeconds
  [
    'break-glass gets prod at any hour, capped to 30 min',
    { principal: BREAK_GLASS, profile: 'prod', at: '2026-03-08T02:00:00Z' },
    allow('break-glass', 1800),
  ],
  [
    'an admin in office hours gets prod, capped to 1 h',
    { principal: ADMIN, profile: 'prod' },
    allow('prod-admins-office-hours', 3600),
  ],
  [
    'an admin gets prod-eu through the profile glob',
    { principal: ADMIN, profile: 'prod-eu' },
    allow('prod-admins-office-hours', 3600),
  ],
  [
    'a developer is denied prod with the rule reason',
    { profile: 'prod' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'an admin of another account is denied prod (account pin)',
    { principal: sso('Admin', 'xy', STRANGER), profile: 'prod' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  // Office hours, Europe/Berlin (CET = UTC+1 until 2026-03-29 01:00 UTC, CEST = UTC+2 after)
  [
    'admin, Wednesday 08:59 CET: before the window',
    { principal: ADMIN, profile: 'prod', at: '2026-03-04T07:59:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'admin, Wednesday 09:00 CET: the window opens',
    { principal: ADMIN, profile: 'prod', at: '2026-03-04T08:00:00Z' },
    allow('prod-admins-office-hours', 3600),
  ],
  [
    'admin, Wednesday 16:59 CET: still open',
    { principal: ADMIN, profile: 'prod', at: '2026-03-04T15:59:00Z' },
    allow('prod-admins-office-hours', 3600),
  ],
  [
    'admin, Wednesday 17:00 CET: the end is exclusive',
    { principal: ADMIN, profile: 'prod', at: '2026-03-04T16:00:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'admin, Saturday 10:00 CET: not a listed day',
    { principal: ADMIN, profile: 'prod', at: '2026-03-07T09:00:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'admin, prod-eu on Saturday: no rule at all',
    { principal: ADMIN, profile: 'prod-eu', at: '2026-03-07T09:00:00Z' },
    deny(undefined),
  ],
  [
    'DST: Friday before the change, 09:00 CET = 08:00 UTC',
    { principal: ADMIN, profile: 'prod', at: '2026-03-27T08:00:00Z' },
    allow('prod-admins-office-hours', 3600),
  ],
  [
    'DST: Friday before the change, 16:00 CET = 15:00 UTC',
    { principal: ADMIN, profile: 'prod', at: '2026-03-27T15:00:00Z' },
    allow('prod-admins-office-hours', 3600),
  ],
  [
    'DST: Monday after the change, 09:00 CEST = 07:00 UTC',
    { principal: ADMIN, profile: 'prod', at: '2026-03-30T07:00:00Z' },
    allow('prod-admins-office-hours', 3600),
  ],
  [
    'DST: Monday after the change, 08:59 CEST = 06:59 UTC',
    { principal: ADMIN, profile: 'prod', at: '2026-03-30T06:59:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'DST: Monday after the change, 17:00 CEST = 15:00 UTC',
    { principal: ADMIN, profile: 'prod', at: '2026-03-30T15:00:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  // A window across midnight belongs to the day it starts (fri 22:00-06:00)
  [
    'on-call, Friday 23:00 CET',
    { principal: ONCALL, profile: 'prod', at: '2026-03-06T22:00:00Z' },
    allow('oncall-friday-night'),
  ],
  [
    'on-call, Friday 22:00 CET: the window opens',
    { principal: ONCALL, profile: 'prod', at: '2026-03-06T21:00:00Z' },
    allow('oncall-friday-night'),
  ],
  [
    'on-call, Friday 21:59 CET: not yet',
    { principal: ONCALL, profile: 'prod', at: '2026-03-06T20:59:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'on-call, Saturday 05:59 CET: still Friday night',
    { principal: ONCALL, profile: 'prod', at: '2026-03-07T04:59:00Z' },
    allow('oncall-friday-night'),
  ],
  [
    'on-call, Saturday 06:00 CET: the end is exclusive',
    { principal: ONCALL, profile: 'prod', at: '2026-03-07T05:00:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'on-call, Friday 05:00 CET: that is Thursday night',
    { principal: ONCALL, profile: 'prod', at: '2026-03-06T04:00:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'on-call, Saturday 23:00 CET: Saturday is not listed',
    { principal: ONCALL, profile: 'prod', at: '2026-03-07T22:00:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  [
    'on-call glob "oncall-?" does not match oncall-12',
    { principal: sso('Oncall', 'oncall-12'), profile: 'prod', at: '2026-03-06T22:00:00Z' },
    deny('deny-rest-of-prod', PROD_DENIED),
  ],
  // A night across the spring-forward change, Europe/Berlin (2026-03-29 01:00 UTC: 02:00 CET → 03:00 CEST)
  [
    'Saturday night, 22:00 CET = 21:00 UTC',
    { profile: 'maint', at: '2026-03-28T21:00:00Z' },
    allow('maintenance-saturday-night'),
  ],
  [
    'Sunday 01:59 CET = 00:59 UTC, the last minute before the change',
    { profile: 'maint', at: '2026-03-29T00:59:00Z' },
    allow('maintenance-saturday-night'),
  ],
  [
    'Sunday 03:00 CEST = 01:00 UTC, the first minute after it',
    { profile: 'maint', at: '2026-03-29T01:00:00Z' },
    allow('maintenance-saturday-night'),
  ],
  [
    'Sunday 05:59 CEST = 03:59 UTC',
    { profile: 'maint', at: '2026-03-29T03:59:00Z' },
    allow('maintenance-saturday-night'),
  ],
  [
    'Sunday 06:00 CEST = 04:00 UTC: the night had 7 hours',
    { profile: 'maint', at: '2026-03-29T04:00:00Z' },
    deny(undefined),
  ],
  // America/New_York, spring forward 2026-03-08 07:00 UTC (02:00 EST → 03:00 EDT), window 01:00-03:00
  [
    'NY, 01:00 EST on the spring-forward day',
    { profile: 'batch', at: '2026-03-08T06:00:00Z' },
    allow('ny-batch-window'),
  ],
  [
    'NY, 01:59 EST, a minute before the change',
    { profile: 'batch', at: '2026-03-08T06:59:00Z' },
    allow('ny-batch-window'),
  ],
  [
    'NY, 03:00 EDT at the change: 02:00-02:59 never happened',
    { profile: 'batch', at: '2026-03-08T07:00:00Z' },
    deny(undefined),
  ],
  ['NY, 00:59 EST, before the window', { profile: 'batch', at: '2026-03-08T05:59:00Z' }, deny(undefined)],
  [
    'NY, the next day 01:00 EDT = 05:00 UTC',
    { profile: 'batch', at: '2026-03-09T05:00:00Z' },
    allow('ny-batch-window'),
  ],
  [
    'NY, the next day 02:59 EDT = 06:59 UTC',
    { profile: 'batch', at: '2026-03-09T06:59:00Z' },
    allow('ny-batch-window'),
  ],
  [
    'NY, the next day 03:00 EDT = 07:00 UTC',
    { profile: 'batch', at: '2026-03-09T07:00:00Z' },
    deny(undefined),
  ],
  // America/New_York, fall back 2026-11-01 06:00 UTC (02:00 EDT → 01:00 EST): 01:00-01:59 happens twice
  ['NY, 00:59 EDT before the fall-back', { profile: 'batch', at: '2026-11-01T04:59:00Z' }, deny(undefined)],
  [
    'NY, 01:30 EDT, the first 01:30',
    { profile: 'batch', at: '2026-11-01T05:30:00Z' },
    allow('ny-batch-window'),
  ],
  [
    'NY, 01:30 EST, the second 01:30',
    { profile: 'batch', at: '2026-11-01T06:30:00Z' },
    allow('ny-batch-window'),
  ],
  ['NY, 02:30 EST', { profile: 'batch', at: '2026-11-01T07:30:00Z' }, allow('ny-batch-window')],
  [
    'NY, 03:00 EST: the window held 3 hours of real time',
    { profile: 'batch', at: '2026-11-01T08:00:00Z' },
    deny(undefined),
  ],
  [
    'NY Sunday window, 00:00 EDT on the fall-back Sunday',
    { profile: 'report', at: '2026-11-01T04:00:00Z' },
    allow('ny-sunday-early'),
  ],
  [
    'NY Sunday window, 03:59 EST',
    { profile: 'report', at: '2026-11-01T08:59:00Z' },
    allow('ny-sunday-early'),
  ],
  ['NY Sunday window, 04:00 EST', { profile: 'report', at: '2026-11-01T09:00:00Z' }, deny(undefined)],
  [
    'NY Sunday window, Saturday 23:59 EDT (already Sunday in UTC)',
    { profile: 'report', at: '2026-11-01T03:59:00Z' },
    deny(undefined),
  ],
  // Organizations
  ['an org pin matches the caller organization', { profile: 'shared-tools' }, allow('org-shared')],
  [
    'an org pin refuses another organization',
    { profile: 'shared-tools', org: 'o-otherorg999' },
    deny(undefined),
  ],
  [
    'an org pin refuses a caller without an organization',
    { profile: 'shared-tools', org: null },
    deny(undefined),
  ],
];

describe('evaluate — the decision table', () => {
  it('has at least 40 decisions', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(TABLE)('%s', (_label, row, expected) => {
    // Act
    const decision = evaluate(POLICY, requestOf(POLICY, row));
    // Assess
    expect({ effect: decision.effect, rule: decision.rule }).toEqual({
      effect: expected.effect,
      rule: expected.rule,
    });
    expect(decision.policyVersion).toBe(7);
    expect(decision.maxLifetimeSeconds).toBe(expected.maxLifetimeSeconds);
    if (expected.reason !== undefined) expect(decision.reason).toMatch(expected.reason);
    if (expected.effect === 'allow') expect(decision.reason).toBe(`rule "${expected.rule}" allows`);
  });
});

describe('evaluate — order and defaults', () => {
  const twoRules = (first: 'allow' | 'deny', second: 'allow' | 'deny') =>
    parsePolicy({
      version: 'v1',
      admins: [],
      rules: [
        { name: 'first', effect: first, profiles: ['dev'] },
        { name: 'second', effect: second, profiles: ['dev'] },
      ],
    });

  it.each([
    ['allow', 'deny', 'allow', 'first'],
    ['deny', 'allow', 'deny', 'first'],
  ] as const)('the first matching rule decides (%s before %s)', (first, second, effect, rule) => {
    // Act
    const decision = evaluate(twoRules(first, second), requestOf(POLICY, {}));
    // Assess
    expect(decision).toMatchObject({ effect, rule, policyVersion: 'v1' });
  });

  it('an empty policy denies everything, saying why', () => {
    // Prepare
    const policy = parsePolicy({ version: 0, admins: [], rules: [] });
    // Act
    const decision = evaluate(policy, requestOf(policy, {}));
    // Assess
    expect(decision).toEqual({
      effect: 'deny',
      rule: undefined,
      reason: DEFAULT_DENY_REASON,
      policyVersion: 0,
    });
  });

  it('a rule without conditions matches everything', () => {
    // Prepare
    const policy = parsePolicy({ version: 1, admins: [], rules: [{ name: 'all', effect: 'allow' }] });
    // Act / Assess
    expect(evaluate(policy, requestOf(policy, { profile: 'anything' })).effect).toBe('allow');
  });

  it('an invalid request time denies, even where a time-window deny would be skipped', () => {
    // Prepare
    const policy = parsePolicy({
      version: 1,
      admins: [],
      rules: [
        { name: 'weekend-off', effect: 'deny', time: { days: ['sat', 'sun'], timezone: 'UTC' } },
        { name: 'all', effect: 'allow' },
      ],
    });
    // Act
    const decision = evaluate(policy, { ...requestOf(policy, {}), at: new Date(Number.NaN) });
    // Assess
    expect(decision).toMatchObject({ effect: 'deny', rule: undefined, reason: /not a valid date/ });
  });

  it('answers with the same decision object each time (nothing allocated per call)', () => {
    // Act
    const first = evaluate(POLICY, requestOf(POLICY, {}));
    const second = evaluate(POLICY, requestOf(POLICY, {}));
    // Assess
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('"*" in a condition matches any value, globs span ":" and "/"', () => {
    // Prepare
    const policy = parsePolicy({
      version: 1,
      admins: [],
      rules: [{ name: 'arn', effect: 'allow', principals: ['arn:aws:*/alice'], profiles: ['*'] }],
    });
    // Act
    const decision = evaluate(
      policy,
      requestOf(policy, { principal: `arn:aws:sts::${TEAM}:assumed-role/R/alice` }),
    );
    // Assess
    expect(decision.rule).toBe('arn');
  });

  it('regex metacharacters in a pattern are literal', () => {
    // Prepare
    const policy = parsePolicy({
      version: 1,
      admins: [],
      rules: [{ name: 'dots', effect: 'allow', users: ['a.b', 'c+d*', 'e=f'] }],
    });
    const decide = (user: string) => evaluate(policy, requestOf(policy, { user })).effect;
    // Act / Assess
    expect(decide('a.b')).toBe('allow');
    expect(decide('axb')).toBe('deny');
    expect(decide('c+d-1')).toBe('allow');
    expect(decide('ccd')).toBe('deny');
    expect(decide('cd')).toBe('deny');
  });

  it('a pathological glob stays fast on a long value (no backtracking blow-up)', () => {
    // Prepare
    const policy = parsePolicy({
      version: 1,
      admins: [],
      rules: [{ name: 'slow', effect: 'allow', principals: [`arn:${'*a'.repeat(20)}*b`] }],
    });
    const request = { ...requestOf(policy, {}), principalArn: `arn:${'a'.repeat(2000)}` };
    // Act
    const started = performance.now();
    const decision = evaluate(policy, request);
    // Assess
    expect(decision.effect).toBe('deny');
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('cappedSessionPolicy', () => {
  const profile = { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 8 * 3600 };

  it.each([
    ['no cap leaves the profile as it is', undefined, profile],
    ['a cap below the max lifetime lowers it', 7200, { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 7200 }],
    ['a cap below the idle window lowers both', 1800, { idleTimeoutSeconds: 1800, maxLifetimeSeconds: 1800 }],
    ['a cap above the max lifetime never raises it', 12 * 3600, profile],
  ] as const)('%s', (_label, cap, expected) => {
    // Prepare
    const decision = {
      effect: 'allow' as const,
      rule: 'r',
      reason: 'r',
      policyVersion: 1,
      ...(cap === undefined ? {} : { maxLifetimeSeconds: cap }),
    };
    // Act / Assess
    expect(cappedSessionPolicy(profile, decision)).toEqual(expected);
  });

  it('caps the decision of the table policy', () => {
    // Prepare
    const decision = evaluate(POLICY, requestOf(POLICY, { principal: BREAK_GLASS, profile: 'prod' }));
    // Act / Assess
    expect(cappedSessionPolicy(profile, decision)).toEqual({
      idleTimeoutSeconds: 1800,
      maxLifetimeSeconds: 1800,
    });
  });
});

describe('isAdmin', () => {
  it.each([
    [sso('Admin', 'root-admin'), true],
    [sso('Admin', 'xy', STRANGER), true],
    [sso('AdminReadOnly', 'xy'), false], // `AWSReservedSSO_AdminReadOnly_…` has no `AWSReservedSSO_Admin_`
    [sso('Developer', 'alice'), false],
    [`arn:aws:iam::${TEAM}:user/admin`, false],
  ])('%s → %s', (arn, expected) => {
    expect(isAdmin(POLICY, arn)).toBe(expected);
  });

  it('a policy without admins has none', () => {
    const policy = parsePolicy({ version: 1, admins: [], rules: [] });
    expect(isAdmin(policy, sso('Admin', 'xy'))).toBe(false);
  });
});

describe('shadowedRules', () => {
  const policyOf = (rules: readonly Record<string, unknown>[]) =>
    parsePolicy({ version: 1, admins: [], rules });

  it('the table policy has none', () => {
    expect(shadowedRules(POLICY)).toEqual([]);
  });

  it.each([
    [
      'an earlier rule without conditions shadows everything after it',
      [
        { name: 'all', effect: 'deny' },
        { name: 'dev', effect: 'allow', profiles: ['dev'] },
      ],
      [['dev', 'all']],
    ],
    [
      'an earlier "*" shadows',
      [
        { name: 'any-profile', effect: 'allow', profiles: ['*'], accounts: [TEAM] },
        { name: 'dev', effect: 'allow', profiles: ['dev'], accounts: [TEAM] },
      ],
      [['dev', 'any-profile']],
    ],
    [
      'the same pattern set, in another order, shadows',
      [
        { name: 'a', effect: 'deny', profiles: ['dev', 'prod'] },
        { name: 'b', effect: 'allow', profiles: ['prod', 'dev'], users: ['alice'] },
      ],
      [['b', 'a']],
    ],
    [
      'an earlier time window never shadows',
      [
        { name: 'weekend', effect: 'deny', time: { days: ['sat'], timezone: 'UTC' } },
        { name: 'dev', effect: 'allow', profiles: ['dev'] },
      ],
      [],
    ],
    [
      'a narrower earlier rule does not shadow a broader later one',
      [
        { name: 'dev-alice', effect: 'deny', profiles: ['dev'], users: ['alice'] },
        { name: 'dev', effect: 'allow', profiles: ['dev'] },
      ],
      [],
    ],
    [
      'glob containment is not analysed (conservative)',
      [
        { name: 'dev-star', effect: 'deny', profiles: ['dev-*'] },
        { name: 'dev-a', effect: 'allow', profiles: ['dev-a'] },
      ],
      [],
    ],
  ] as const)('%s', (_label, rules, expected) => {
    // Act
    const found = shadowedRules(policyOf(rules)).map((s) => [s.rule, s.shadowedBy]);
    // Assess
    expect(found).toEqual(expected);
  });

  it('says which rule shadows and why', () => {
    // Act
    const [found] = shadowedRules(
      policyOf([
        { name: 'all', effect: 'deny' },
        { name: 'dev', effect: 'allow' },
      ]),
    );
    // Assess
    expect(found?.message).toBe(
      'rule "dev" can never match: the earlier rule "all" (deny) matches everything it does',
    );
  });
});

describe('localTime — the wall clock of a zone, cached per 15 minutes', () => {
  const direct = (timeZone: string, epochMs: number) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(epochMs);
    const value = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(value('weekday'));
    return { weekday, minute: (Number(value('hour')) % 24) * 60 + Number(value('minute')) };
  };

  it.each([
    ['Europe/Berlin', '2026-03-28T20:00:00Z'],
    ['Europe/Berlin', '2026-10-24T20:00:00Z'],
    ['America/New_York', '2026-03-07T20:00:00Z'],
    ['America/New_York', '2026-10-31T20:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T10:00:00Z'], // a 30-minute DST change
    ['Asia/Kathmandu', '2026-03-01T00:00:00Z'], // UTC+05:45
    ['America/St_Johns', '2026-03-07T20:00:00Z'], // UTC-03:30, with DST
    ['UTC', '2026-01-01T00:00:00Z'],
  ])('%s agrees with formatToParts minute by minute around %s', (zone, from) => {
    // Prepare: 48 hours in steps of 7 minutes and 13 seconds, so every offset within a span is hit.
    const start = Date.parse(from);
    const mismatches: string[] = [];
    // Act
    for (let t = start; t < start + 48 * 3600_000; t += 433_000) {
      const got = localTime(zone, t);
      const want = direct(zone, t);
      if (got.weekday !== want.weekday || got.minute !== want.minute) {
        mismatches.push(`${new Date(t).toISOString()}: ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
      }
    }
    // Assess
    expect(mismatches).toEqual([]);
  });
});

describe('evaluate — the profile index changes no decision (fast-check)', () => {
  /** First match over every rule, every condition tested: what evaluate must answer. */
  const reference = (policy: AccessPolicy, request: AccessRequest): Decision => {
    const at = request.at.getTime();
    const rule = policy.rules.find(
      (r) =>
        (r.profiles === undefined || matchList(r.profiles, request.profile)) &&
        (r.accounts === undefined || matchList(r.accounts, request.accountId)) &&
        (r.organizations === undefined ||
          (request.orgId !== undefined && matchList(r.organizations, request.orgId))) &&
        (r.principals === undefined || matchList(r.principals, request.principalArn)) &&
        (r.users === undefined || matchList(r.users, request.user)) &&
        (r.time === undefined || inTimeWindow(r.time, at)),
    );
    return rule?.decision ?? policy.defaultDecision;
  };

  const profile = fc.constantFrom('dev', 'prod', 'prod-eu', 'dev-1', 'ops', 'x');
  const profilePattern = fc.constantFrom('dev', 'prod', 'prod-*', 'dev-?', '*', 'o*', 'ops', 'x');
  const account = fc.constantFrom(TEAM, OTHER_TEAM, STRANGER);
  const user = fc.constantFrom('alice', 'bob', 'carol', 'R/alice');
  const ruleArb = fc.record(
    {
      effect: fc.constantFrom('allow', 'deny'),
      profiles: fc.uniqueArray(profilePattern, { minLength: 1, maxLength: 3 }),
      accounts: fc.uniqueArray(account, { minLength: 1, maxLength: 2 }),
      users: fc.uniqueArray(fc.constantFrom('alice', 'bob', '*/alice', 'c*'), { minLength: 1, maxLength: 2 }),
      time: fc.record({ days: fc.constant(['mon', 'tue', 'wed']), timezone: fc.constant('UTC') }),
    },
    { requiredKeys: ['effect'] },
  );

  it('decides as a walk over every rule would, for indexed and other profiles', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 25 }),
        fc.record({ profile, account, user, day: fc.integer({ min: 0, max: 6 }) }),
        (rules, req) => {
          const policy = parsePolicy({
            version: 1,
            admins: [],
            rules: rules.map((rule, i) => ({ name: `r${i}`, ...rule })),
          });
          const request: AccessRequest = {
            principalArn: `arn:aws:iam::${req.account}:user/u1`,
            accountId: req.account,
            user: req.user,
            profile: req.profile,
            at: new Date(Date.UTC(2026, 2, 2 + req.day, 12)),
          };
          return evaluate(policy, request) === reference(policy, request);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a policy too large for the index still decides (every rule walked)', () => {
    // Prepare: as many distinct profiles as rules, past the index's size.
    const rules = Array.from({ length: POLICY_MAX_RULES }, (_, i) => ({
      name: `r${i}`,
      effect: 'allow',
      profiles: [`p${i}`],
    }));
    const policy = parsePolicy({ version: 1, admins: [], rules });
    // Act / Assess
    expect(policy.rulesByProfile.size).toBe(0);
    expect(evaluate(policy, requestOf(policy, { profile: `p${POLICY_MAX_RULES - 1}` })).rule).toBe(
      `r${POLICY_MAX_RULES - 1}`,
    );
    expect(evaluate(policy, requestOf(policy, { profile: 'nope' })).rule).toBeUndefined();
  });
});
