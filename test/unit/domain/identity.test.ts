import { describe, expect, it } from 'vitest';
import { DomainError, UnsupportedPrincipalError } from '../../../src/domain/errors.js';
import {
  type CallerIdentity,
  CognitoIdentityNotSupportedError,
  callerFromAuthorizer,
  isIdentityRole,
  PARTITIONS,
  parseCallerArn,
} from '../../../src/domain/identity.js';
import { buildRoleSessionName, buildSourceIdentity, isValidStsName } from '../../../src/domain/sts-names.js';

const ACCT = '123456789012';
const n = (length: number, ch = 'a'): string => ch.repeat(length);

type Expected = Pick<CallerIdentity, 'user' | 'principalType' | 'partition' | 'viaIdentityCenter'> & {
  readonly roleName?: string;
};

const valid: ReadonlyArray<readonly [string, string, Expected]> = [
  [
    'IAM user without path',
    `arn:aws:iam::${ACCT}:user/alice`,
    { user: 'alice', principalType: 'iam-user', partition: 'aws', viaIdentityCenter: false },
  ],
  [
    'IAM user with a one-level path',
    `arn:aws:iam::${ACCT}:user/engineering/alice`,
    { user: 'alice', principalType: 'iam-user', partition: 'aws', viaIdentityCenter: false },
  ],
  [
    'IAM user with a multi-level path',
    `arn:aws:iam::${ACCT}:user/division_abc/subdivision_xyz/team-7/bob`,
    { user: 'bob', principalType: 'iam-user', partition: 'aws', viaIdentityCenter: false },
  ],
  [
    'IAM user with every allowed punctuation',
    `arn:aws:iam::${ACCT}:user/a+b=c,d.e@f-g_h`,
    { user: 'a+b=c,d.e@f-g_h', principalType: 'iam-user', partition: 'aws', viaIdentityCenter: false },
  ],
  [
    'IAM user of one character (IAM minimum is 1)',
    `arn:aws:iam::${ACCT}:user/x`,
    { user: 'x', principalType: 'iam-user', partition: 'aws', viaIdentityCenter: false },
  ],
  [
    'IAM user name of exactly 64 characters',
    `arn:aws:iam::${ACCT}:user/${n(64)}`,
    { user: n(64), principalType: 'iam-user', partition: 'aws', viaIdentityCenter: false },
  ],
  [
    'IAM user in aws-us-gov',
    `arn:aws-us-gov:iam::${ACCT}:user/gov-user`,
    { user: 'gov-user', principalType: 'iam-user', partition: 'aws-us-gov', viaIdentityCenter: false },
  ],
  [
    'IAM user in aws-cn',
    `arn:aws-cn:iam::${ACCT}:user/cn.user`,
    { user: 'cn.user', principalType: 'iam-user', partition: 'aws-cn', viaIdentityCenter: false },
  ],
  [
    'assumed role that is no identity role: the user is <role>/<session>',
    `arn:aws:sts::${ACCT}:assumed-role/Developer/alice`,
    {
      user: 'Developer/alice',
      principalType: 'assumed-role',
      partition: 'aws',
      viaIdentityCenter: false,
      roleName: 'Developer',
    },
  ],
  [
    'IAM Identity Center permission set role with an email session name',
    `arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice.smith+ops@example.com`,
    {
      user: 'alice.smith+ops@example.com',
      principalType: 'assumed-role',
      partition: 'aws',
      viaIdentityCenter: true,
      roleName: 'AWSReservedSSO_AdministratorAccess_0123456789abcdef',
    },
  ],
  [
    'IAM Identity Center in aws-us-gov',
    `arn:aws-us-gov:sts::${ACCT}:assumed-role/AWSReservedSSO_ReadOnly_fedcba9876543210/bob@agency.gov`,
    {
      user: 'bob@agency.gov',
      principalType: 'assumed-role',
      partition: 'aws-us-gov',
      viaIdentityCenter: true,
      roleName: 'AWSReservedSSO_ReadOnly_fedcba9876543210',
    },
  ],
  [
    'assumed role in aws-cn',
    `arn:aws-cn:sts::${ACCT}:assumed-role/Ops/carol`,
    {
      user: 'Ops/carol',
      principalType: 'assumed-role',
      partition: 'aws-cn',
      viaIdentityCenter: false,
      roleName: 'Ops',
    },
  ],
  [
    'assumed role whose name merely contains AWSReservedSSO is not Identity Center',
    `arn:aws:sts::${ACCT}:assumed-role/MyAWSReservedSSO_Copy/dave`,
    {
      user: 'MyAWSReservedSSO_Copy/dave',
      principalType: 'assumed-role',
      partition: 'aws',
      viaIdentityCenter: false,
      roleName: 'MyAWSReservedSSO_Copy',
    },
  ],
  [
    'assumed role session name of exactly 64 characters',
    `arn:aws:sts::${ACCT}:assumed-role/Role/${n(64, 's')}`,
    {
      user: `Role/${n(64, 's')}`,
      principalType: 'assumed-role',
      partition: 'aws',
      viaIdentityCenter: false,
      roleName: 'Role',
    },
  ],
  [
    'assumed role session name of 2 characters (STS minimum)',
    `arn:aws:sts::${ACCT}:assumed-role/Role/ab`,
    {
      user: 'Role/ab',
      principalType: 'assumed-role',
      partition: 'aws',
      viaIdentityCenter: false,
      roleName: 'Role',
    },
  ],
  [
    'federated user',
    `arn:aws:sts::${ACCT}:federated-user/erin`,
    { user: 'erin', principalType: 'federated-user', partition: 'aws', viaIdentityCenter: false },
  ],
  [
    'federated user of 32 characters (GetFederationToken maximum)',
    `arn:aws-cn:sts::${ACCT}:federated-user/${n(32, 'f')}`,
    { user: n(32, 'f'), principalType: 'federated-user', partition: 'aws-cn', viaIdentityCenter: false },
  ],
];

const hostile: ReadonlyArray<readonly [string, unknown, RegExp]> = [
  ['empty string', '', /no caller ARN/],
  ['undefined', undefined, /no caller ARN/],
  ['null', null, /no caller ARN/],
  ['only "arn"', 'arn', /not an ARN of the form/],
  ['only "arn:"', 'arn:', /not an ARN of the form/],
  ['five colon-separated fields', `arn:aws:iam::${ACCT}`, /not an ARN of the form/],
  ['unknown partition', `arn:aws-moon:iam::${ACCT}:user/alice`, /unknown partition "aws-moon"/],
  ['partition with a trailing dash', `arn:aws-iso-:iam::${ACCT}:user/alice`, /unknown partition/],
  ['partition in upper case', `arn:AWS:iam::${ACCT}:user/alice`, /unknown partition/],
  ['prefix is not "arn"', `urn:aws:iam::${ACCT}:user/alice`, /does not start with "arn"/],
  ['account root', `arn:aws:iam::${ACCT}:root`, /root user/],
  ['account root in aws-us-gov', `arn:aws-us-gov:iam::${ACCT}:root`, /root user/],
  ['plain role ARN (not assumed)', `arn:aws:iam::${ACCT}:role/Developer`, /"role" is not a user/],
  [
    'service-linked role ARN',
    `arn:aws:iam::${ACCT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
    /"role" is not a user/,
  ],
  [
    'assumed service-linked role',
    `arn:aws:sts::${ACCT}:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling`,
    /service-linked/,
  ],
  ['IAM group', `arn:aws:iam::${ACCT}:group/admins`, /"group" is not a user/],
  ['wrong service: s3', 'arn:aws:s3:::my-bucket/alice', /no region|account id/],
  ['wrong service: ec2 instance', `arn:aws:ec2:us-east-1:${ACCT}:instance/i-0123456789abcdef0`, /no region/],
  ['wrong service: lambda', `arn:aws:lambda:eu-west-1:${ACCT}:function:alice`, /not an ARN of the form/],
  ['region present on an IAM user', `arn:aws:iam:us-east-1:${ACCT}:user/alice`, /no region/],
  ['region present on an assumed role', `arn:aws:sts:us-east-1:${ACCT}:assumed-role/Role/alice`, /no region/],
  ['11-digit account', 'arn:aws:iam::12345678901:user/alice', /12 digits/],
  ['13-digit account', 'arn:aws:iam::1234567890123:user/alice', /12 digits/],
  ['non-digit account', 'arn:aws:iam::12345678901a:user/alice', /12 digits/],
  ['unicode digits in the account', 'arn:aws:iam::１２３４５６７８９０１２:user/alice', /12 digits/],
  ['empty account', 'arn:aws:iam:::user/alice', /12 digits/],
  ['extra colons in the resource', `arn:aws:iam::${ACCT}:user/alice:admin`, /not an ARN of the form/],
  [
    'extra colons after an assumed role',
    `arn:aws:sts::${ACCT}:assumed-role/Role/alice:bob`,
    /not an ARN of the form/,
  ],
  [
    'assumed role without a session name',
    `arn:aws:sts::${ACCT}:assumed-role/Role`,
    /assumed-role\/<role>\/<session>/,
  ],
  [
    'assumed role with an empty session name',
    `arn:aws:sts::${ACCT}:assumed-role/Role/`,
    /session name is empty/,
  ],
  [
    'assumed role with an empty role name',
    `arn:aws:sts::${ACCT}:assumed-role//alice`,
    /role name is malformed/,
  ],
  [
    'assumed role with an extra segment',
    `arn:aws:sts::${ACCT}:assumed-role/Role/alice/extra`,
    /assumed-role\/<role>\/<session>/,
  ],
  [
    'assumed role session name of 1 character',
    `arn:aws:sts::${ACCT}:assumed-role/Role/a`,
    /2-64 characters, has 1/,
  ],
  [
    'assumed role session name of 65 characters',
    `arn:aws:sts::${ACCT}:assumed-role/Role/${n(65)}`,
    /2-64 characters, has 65/,
  ],
  [
    'assumed role with a 65-character role name',
    `arn:aws:sts::${ACCT}:assumed-role/${n(65, 'R')}/alice`,
    /role name is malformed/,
  ],
  ['IAM user without a name', `arn:aws:iam::${ACCT}:user`, /no user name/],
  ['IAM user with a trailing "/"', `arn:aws:iam::${ACCT}:user/alice/`, /user name is empty/],
  ['IAM user "user/" only', `arn:aws:iam::${ACCT}:user/`, /user name is empty/],
  ['IAM user path with an empty segment', `arn:aws:iam::${ACCT}:user//alice`, /path is malformed/],
  ['IAM user name of 65 characters', `arn:aws:iam::${ACCT}:user/${n(65)}`, /1-64 characters, has 65/],
  ['IAM user name of 200 characters', `arn:aws:iam::${ACCT}:user/${n(200)}`, /1-64 characters, has 200/],
  [
    'assumed role session name of 200 characters',
    `arn:aws:sts::${ACCT}:assumed-role/Role/${n(200)}`,
    /2-64 characters, has 200/,
  ],
  ['unicode IAM user name', `arn:aws:iam::${ACCT}:user/jürgen`, /outside/],
  ['unicode (CJK) session name', `arn:aws:sts::${ACCT}:assumed-role/Role/山田太郎`, /outside/],
  ['emoji session name', `arn:aws:sts::${ACCT}:assumed-role/Role/al🔥ice`, /outside/],
  ['space in the user name', `arn:aws:iam::${ACCT}:user/alice smith`, /outside/],
  ['leading space', ` arn:aws:iam::${ACCT}:user/alice`, /does not start with "arn"/],
  ['trailing newline', `arn:aws:iam::${ACCT}:user/alice\n`, /outside/],
  ['"*" as the user name', `arn:aws:iam::${ACCT}:user/*`, /outside/],
  ['"*" as the session name', `arn:aws:sts::${ACCT}:assumed-role/Role/*`, /2-64 characters, has 1/],
  ['"**" as the session name', `arn:aws:sts::${ACCT}:assumed-role/Role/**`, /outside/],
  ['"*" as the role name', `arn:aws:sts::${ACCT}:assumed-role/*/alice`, /role name is malformed/],
  ['wildcard account', 'arn:aws:iam::*:user/alice', /12 digits/],
  [
    'federated user of 33 characters',
    `arn:aws:sts::${ACCT}:federated-user/${n(33)}`,
    /2-32 characters, has 33/,
  ],
  ['federated user of 1 character', `arn:aws:sts::${ACCT}:federated-user/a`, /2-32 characters, has 1/],
  ['federated user without a name', `arn:aws:sts::${ACCT}:federated-user`, /federated-user\/<name>/],
  [
    'federated user with a trailing "/"',
    `arn:aws:sts::${ACCT}:federated-user/erin/`,
    /federated-user\/<name>/,
  ],
  ['unknown STS resource type', `arn:aws:sts::${ACCT}:session/alice`, /STS resource type "session"/],
  ['IAM user in the sts service', `arn:aws:sts::${ACCT}:user/alice`, /STS resource type "user"/],
  [
    'assumed role in the iam service',
    `arn:aws:iam::${ACCT}:assumed-role/Role/alice`,
    /"assumed-role" is not a user/,
  ],
  [
    'ARN longer than 2048 characters',
    `arn:aws:iam::${ACCT}:user/${'p/'.repeat(1100)}alice`,
    /longer than 2048/,
  ],
];

describe('parseCallerArn — callers that own a session', () => {
  it.each(valid)('%s', (_label, arn, expected) => {
    // Act
    const identity = parseCallerArn(arn);
    // Assess
    expect(identity).toMatchObject(expected);
    expect(identity.principalArn).toBe(arn);
    expect(identity.accountId).toBe(ACCT);
    if (expected.roleName === undefined) expect(identity.roleName).toBeUndefined();
  });
});

describe('parseCallerArn — everything else is refused with UnsupportedPrincipal', () => {
  it.each(hostile)('%s', (_label, arn, why) => {
    // Act
    let caught: unknown;
    try {
      parseCallerArn(arn as string | undefined | null);
    } catch (error) {
      caught = error;
    }
    // Assess
    expect(caught).toBeInstanceOf(UnsupportedPrincipalError);
    expect(caught).toBeInstanceOf(DomainError);
    const error = caught as UnsupportedPrincipalError;
    expect(error.code).toBe('UnsupportedPrincipal');
    expect(error.name).toBe('UnsupportedPrincipalError');
    expect(error.message).toMatch(/cannot own a session/);
    expect(error.message).toMatch(why);
  });

  it('echoes a huge ARN only truncated in the message', () => {
    // Prepare
    const arn = `arn:aws:iam::${ACCT}:user/${n(5000)}`;
    // Act
    const act = () => parseCallerArn(arn);
    // Assess
    expect(act).toThrow(UnsupportedPrincipalError);
    try {
      act();
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(400);
    }
  });
});

describe('parseCallerArn — the 64/65 character boundary', () => {
  it.each([
    ['IAM user', (name: string) => `arn:aws:iam::${ACCT}:user/${name}`],
    ['role session', (name: string) => `arn:aws:sts::${ACCT}:assumed-role/Role/${name}`],
  ] as const)('%s: 64 characters pass, 65 are refused', (_label, arnOf) => {
    // Act
    const at64 = () => parseCallerArn(arnOf(n(64)));
    const at65 = () => parseCallerArn(arnOf(n(65)));
    // Assess
    expect(at64().sessionName ?? at64().user).toHaveLength(64);
    expect(at65).toThrow(UnsupportedPrincipalError);
  });
});

describe('parseCallerArn — the canonical user cannot be forged by naming a session', () => {
  it.each([
    [
      'an IAM Identity Center role: the session name is the signed-in user',
      'AWSReservedSSO_Dev_0123456789abcdef',
      'alice',
    ],
    ['any other role: the role is part of the user', 'AnyRole', 'AnyRole/alice'],
    ['a role that only looks like Identity Center', 'awsreservedsso_Dev', 'awsreservedsso_Dev/alice'],
    ['a role named like a prefix of Identity Center', 'AWSReservedSSO', 'AWSReservedSSO/alice'],
  ])('%s', (_label, role, user) => {
    // Act
    const identity = parseCallerArn(`arn:aws:sts::${ACCT}:assumed-role/${role}/alice`);
    // Assess
    expect(identity.user).toBe(user);
    expect(identity.sessionName).toBe('alice');
    expect(identity.roleName).toBe(role);
  });

  it('a session named alice under some role is not the IAM user alice nor the Identity Center user alice', () => {
    // Act
    const forged = parseCallerArn(`arn:aws:sts::${ACCT}:assumed-role/CiDeployRole/alice`).user;
    const iamUser = parseCallerArn(`arn:aws:iam::${ACCT}:user/alice`).user;
    const sso = parseCallerArn(`arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_Admin_0a1b/alice`).user;
    // Assess
    expect(iamUser).toBe('alice');
    expect(sso).toBe('alice');
    expect(forged).not.toBe('alice');
  });

  it.each([
    ['a literal identity role', ['CorpIdP'], 'CorpIdP', 'alice'],
    ['a glob identity role', ['CorpIdP-*'], 'CorpIdP-Engineers', 'alice'],
    ['a "?" glob', ['Fed?'], 'FedX', 'alice'],
    ['a role outside the globs', ['CorpIdP-*'], 'CorpIdP', 'CorpIdP/alice'],
    ['globs are case-sensitive', ['corpidp-*'], 'CorpIdP-Engineers', 'CorpIdP-Engineers/alice'],
    ['AWSReservedSSO_* stays an identity role with other globs', ['CorpIdP'], 'AWSReservedSSO_X_1', 'alice'],
    ['no globs given: AWSReservedSSO_* only', [], 'CorpIdP', 'CorpIdP/alice'],
  ])('identityRoles: %s', (_label, identityRoles, role, user) => {
    // Act
    const identity = parseCallerArn(`arn:aws:sts::${ACCT}:assumed-role/${role}/alice`, { identityRoles });
    // Assess
    expect(identity.user).toBe(user);
    expect(isIdentityRole(role, identityRoles)).toBe(user === 'alice');
  });

  it('identityRoles change nothing for IAM users and federated users', () => {
    // Prepare
    const options = { identityRoles: ['*'] };
    // Act / Assess
    expect(parseCallerArn(`arn:aws:iam::${ACCT}:user/bob`, options).user).toBe('bob');
    expect(parseCallerArn(`arn:aws:sts::${ACCT}:federated-user/erin`, options).user).toBe('erin');
  });

  it('a <role>/<session> user gives valid STS names (the "/" is replaced)', () => {
    // Prepare
    const { user } = parseCallerArn(`arn:aws:sts::${ACCT}:assumed-role/${n(64, 'R')}/${n(64, 's')}`);
    // Act
    const sourceIdentity = buildSourceIdentity({ user, requestId: 'EXAMPLEreqId0=' });
    const roleSessionName = buildRoleSessionName({ user, sessionId: '0123456789abcdef0123456789abcdef' });
    // Assess
    expect(user).toHaveLength(129);
    expect(isValidStsName(sourceIdentity)).toBe(true);
    expect(isValidStsName(roleSessionName)).toBe(true);
    expect(buildSourceIdentity({ user: 'Dev/alice', requestId: 'r1' })).toBe('sentinel=Dev_alice=direct=r1');
  });
});

describe('parseCallerArn — every AWS partition', () => {
  it('knows exactly the eight partitions', () => {
    expect([...PARTITIONS].sort()).toEqual(
      ['aws', 'aws-cn', 'aws-eusc', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-us-gov'].sort(),
    );
  });

  it.each([...PARTITIONS])('%s: IAM users and Identity Center users', (partition) => {
    // Act
    const user = parseCallerArn(`arn:${partition}:iam::${ACCT}:user/alice`);
    const sso = parseCallerArn(`arn:${partition}:sts::${ACCT}:assumed-role/AWSReservedSSO_Dev_01/bob`);
    // Assess
    expect(user).toMatchObject({ partition, user: 'alice', principalType: 'iam-user' });
    expect(sso).toMatchObject({ partition, user: 'bob', viaIdentityCenter: true });
  });
});

describe('callerFromAuthorizer — the IAM authorizer context', () => {
  const userArn = `arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/alice@example.com`;

  it('reads the caller and its organization', () => {
    // Act
    const caller = callerFromAuthorizer({
      userArn,
      accountId: ACCT,
      principalOrgId: 'o-exampleorg1',
      cognitoIdentity: null,
    });
    // Assess
    expect(caller).toMatchObject({ user: 'alice@example.com', accountId: ACCT, orgId: 'o-exampleorg1' });
  });

  it('has no organization when the authorizer reports none', () => {
    // Act
    const caller = callerFromAuthorizer({
      userArn,
      accountId: ACCT,
      principalOrgId: null,
      cognitoIdentity: null,
    });
    // Assess
    expect(caller.orgId).toBeUndefined();
  });

  it('passes identityRoles on', () => {
    // Act
    const caller = callerFromAuthorizer(
      { userArn: `arn:aws:sts::${ACCT}:assumed-role/CorpIdP/carol` },
      { identityRoles: ['CorpIdP'] },
    );
    // Assess
    expect(caller.user).toBe('carol');
  });

  it.each([
    [
      'a Cognito identity object',
      { amr: ['authenticated'], identityId: 'eu-west-1:1', identityPoolId: 'eu-west-1:p' },
    ],
    ['an empty Cognito identity object', {}],
    ['a Cognito identity string', 'eu-west-1:1'],
  ])('refuses a caller through a Cognito identity pool: %s', (_label, cognitoIdentity) => {
    // Act
    const act = () =>
      callerFromAuthorizer({
        userArn: `arn:aws:sts::${ACCT}:assumed-role/Cognito_PoolAuth_Role/CognitoIdentityCredentials`,
        accountId: ACCT,
        cognitoIdentity,
      });
    // Assess
    expect(act).toThrow(CognitoIdentityNotSupportedError);
    try {
      act();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({
        code: 'CognitoIdentityNotSupported',
        name: 'CognitoIdentityNotSupportedError',
      });
      expect((error as Error).message).toMatch(/Cognito identity pool/);
    }
  });

  it.each([
    ['no context', undefined, /no caller ARN/],
    ['no ARN', { accountId: ACCT }, /no caller ARN/],
    [
      "an account other than the ARN's",
      { userArn, accountId: '999999999999' },
      /reports account "999999999999"/,
    ],
    ['a malformed organization id', { userArn, principalOrgId: 'org-1' }, /malformed organization id/],
    ['a root caller', { userArn: `arn:aws:iam::${ACCT}:root` }, /root user/],
  ])('refuses %s with UnsupportedPrincipal', (_label, iam, why) => {
    // Act
    const act = () => callerFromAuthorizer(iam);
    // Assess
    expect(act).toThrow(UnsupportedPrincipalError);
    expect(act).toThrow(why);
  });
});
