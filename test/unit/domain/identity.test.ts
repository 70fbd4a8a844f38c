import { describe, expect, it } from 'vitest';
import { DomainError, UnsupportedPrincipalError } from '../../../src/domain/errors.js';
import { type CallerIdentity, parseCallerArn } from '../../../src/domain/identity.js';

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
    'assumed role: the session name is the user',
    `arn:aws:sts::${ACCT}:assumed-role/Developer/alice`,
    {
      user: 'alice',
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
      user: 'carol',
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
      user: 'dave',
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
      user: n(64, 's'),
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
      user: 'ab',
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
  ['unknown partition', `arn:aws-iso:iam::${ACCT}:user/alice`, /unknown partition "aws-iso"/],
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
    expect(at64().user).toHaveLength(64);
    expect(at65).toThrow(UnsupportedPrincipalError);
  });
});
