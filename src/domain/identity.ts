import { compilePatternList, globMatcher, matchList } from './access-policy-glob.js';
import { DomainError, UnsupportedPrincipalError } from './errors.js';

/** The caller as API Gateway's IAM authorizer saw it, reduced to what a session needs. */
export interface CallerIdentity {
  /**
   * The canonical user the session belongs to: IAM user name, federated name, the session name under an
   * identity role, or `<role name>/<session name>` under any other role (see `parseCallerArn`).
   */
  readonly user: string;
  readonly principalArn: string;
  readonly accountId: string;
  readonly partition: Partition;
  readonly principalType: 'iam-user' | 'assumed-role' | 'federated-user';
  /** For assumed roles: the role name (an IAM Identity Center permission set role starts `AWSReservedSSO_`). */
  readonly roleName?: string;
  /** For assumed roles: the role session name as the caller chose it. */
  readonly sessionName?: string;
  readonly viaIdentityCenter: boolean;
  /** The caller's AWS Organizations id (`o-…`), when the authorizer reported one. */
  readonly orgId?: string;
}

/** Every AWS partition: commercial, China, GovCloud, the isolated regions, the European Sovereign Cloud. */
export const PARTITIONS = [
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-e',
  'aws-iso-f',
  'aws-eusc',
] as const;
export type Partition = (typeof PARTITIONS)[number];

/** IAM's charset for user names, role session names and federated names. */
const NAME_CHARSET = /^[\w+=,.@-]+$/;
/** An AWS account id: 12 digits. */
export const ACCOUNT_ID = /^\d{12}$/;
/** IAM role names: 1–64 of these characters. Paths appear only in role ARNs, not in assumed-role ARNs. */
export const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** Role-name globs whose session name is the user: IAM Identity Center sets it to the signed-in user. */
export const DEFAULT_IDENTITY_ROLES: readonly string[] = Object.freeze(['AWSReservedSSO_*']);

export interface CallerOptions {
  /**
   * Role-name globs (`*`, `?`) of identity roles besides `AWSReservedSSO_*`: roles whose session name is
   * set by a trusted identity provider, never by the caller (the access policy's `identityRoles`).
   */
  readonly identityRoles?: readonly string[];
}

/** A caller that came through a Cognito identity pool: its role session name is no person. */
export class CognitoIdentityNotSupportedError extends DomainError {
  override readonly name = 'CognitoIdentityNotSupportedError';
  readonly code = 'CognitoIdentityNotSupported';
}

/** The IAM authorizer's context as API Gateway passes it (`requestContext.authorizer.iam`). */
export interface IamAuthorizerContext {
  readonly userArn?: string | null;
  readonly accountId?: string | null;
  readonly principalOrgId?: string | null;
  readonly cognitoIdentity?: unknown;
}

const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const defaultIdentityRoles = compilePatternList(DEFAULT_IDENTITY_ROLES);
const isDefaultIdentityRole = (roleName: string): boolean => matchList(defaultIdentityRoles, roleName);
/** Compiled identity-role globs; the policy's list is short and stable, so this stays small. */
const roleGlobs = new Map<string, (roleName: string) => boolean>();
const ROLE_GLOB_CACHE_MAX = 256;

const roleGlob = (glob: string): ((roleName: string) => boolean) => {
  let test = roleGlobs.get(glob);
  if (test === undefined) {
    test = globMatcher(glob);
    if (roleGlobs.size >= ROLE_GLOB_CACHE_MAX) roleGlobs.clear();
    roleGlobs.set(glob, test);
  }
  return test;
};

/** Whether the session name under `roleName` names a person: AWSReservedSSO_* or one of `identityRoles`. */
export const isIdentityRole = (roleName: string, identityRoles: readonly string[] = []): boolean =>
  isDefaultIdentityRole(roleName) || identityRoles.some((glob) => roleGlob(glob)(roleName));

const refuse = (arn: string, why: string): never => {
  // The ARN is echoed truncated: it comes from a trusted authorizer but may still be huge.
  const shown = arn.length > 120 ? `${arn.slice(0, 120)}…` : arn;
  throw new UnsupportedPrincipalError(`principal ${JSON.stringify(shown)} cannot own a session: ${why}`);
};

const checkName = (
  arn: string,
  label: string,
  name: string | undefined,
  min: number,
  max: number,
): string => {
  if (name === undefined || name.length === 0) return refuse(arn, `${label} is empty`);
  if (name.length < min || name.length > max) {
    return refuse(arn, `${label} must be ${min}-${max} characters, has ${name.length}`);
  }
  if (!NAME_CHARSET.test(name)) return refuse(arn, `${label} has characters outside [\\w+=,.@-]`);
  return name;
};

/**
 * The session owner from the caller's ARN (invariant 4: identity comes only from the authorizer).
 * - `arn:<p>:iam::<acct>:user[/path/]name` → name
 * - `arn:<p>:sts::<acct>:assumed-role/<role>/<session>` → session, when the role is an identity role
 *   (`AWSReservedSSO_*` or one of `options.identityRoles`); otherwise `<role>/<session>`. Whoever may assume
 *   a role picks its session name, so `alice` under an arbitrary role is not alice.
 * - `arn:<p>:sts::<acct>:federated-user/<name>` → name
 * Root, roles (not assumed), service-linked roles, other services and malformed ARNs are refused.
 */
export const parseCallerArn = (
  arn: string | undefined | null,
  options: CallerOptions = {},
): CallerIdentity => {
  if (typeof arn !== 'string' || arn.length === 0) return refuse(String(arn ?? ''), 'no caller ARN');
  if (arn.length > 2048) return refuse(arn, 'ARN longer than 2048 characters');
  const parts = arn.split(':');
  if (parts.length !== 6)
    return refuse(arn, 'not an ARN of the form arn:partition:service::account:resource');
  const [prefix, partition, service, region, accountId, resource] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (prefix !== 'arn') return refuse(arn, 'does not start with "arn"');
  if (!(PARTITIONS as readonly string[]).includes(partition))
    return refuse(arn, `unknown partition "${partition}"`);
  if (region !== '') return refuse(arn, 'IAM and STS principals have no region');
  if (!ACCOUNT_ID.test(accountId)) return refuse(arn, 'account id is not 12 digits');
  const base = { principalArn: arn, accountId, partition: partition as Partition };
  const segments = resource.split('/');
  const kind = segments[0];

  if (service === 'iam') {
    if (resource === 'root') return refuse(arn, 'the account root user cannot own a session');
    if (kind !== 'user') return refuse(arn, `IAM resource type "${kind}" is not a user`);
    if (segments.length < 2) return refuse(arn, 'IAM user ARN has no user name');
    const path = segments.slice(1, -1);
    if (path.some((p) => p.length === 0 || !/^[\x21-\x7e]+$/.test(p)))
      return refuse(arn, 'IAM user path is malformed');
    const user = checkName(arn, 'IAM user name', segments.at(-1), 1, 64);
    return { ...base, user, principalType: 'iam-user', viaIdentityCenter: false };
  }

  if (service === 'sts') {
    if (kind === 'assumed-role') {
      if (segments.length !== 3) return refuse(arn, 'assumed-role ARN must be assumed-role/<role>/<session>');
      const roleName = segments[1] ?? '';
      if (!ROLE_NAME.test(roleName)) return refuse(arn, 'role name is malformed');
      if (roleName.startsWith('AWSServiceRoleFor'))
        return refuse(arn, 'service-linked roles cannot own a session');
      const sessionName = checkName(arn, 'role session name', segments[2], 2, 64);
      // `/` never occurs in a role or session name, so `<role>/<session>` cannot collide with a bare name.
      const user = isIdentityRole(roleName, options.identityRoles)
        ? sessionName
        : `${roleName}/${sessionName}`;
      return {
        ...base,
        user,
        principalType: 'assumed-role',
        roleName,
        sessionName,
        viaIdentityCenter: roleName.startsWith('AWSReservedSSO_'),
      };
    }
    if (kind === 'federated-user') {
      if (segments.length !== 2) return refuse(arn, 'federated-user ARN must be federated-user/<name>');
      const user = checkName(arn, 'federated user name', segments[1], 2, 32);
      return { ...base, user, principalType: 'federated-user', viaIdentityCenter: false };
    }
    return refuse(arn, `STS resource type "${kind}" is not a caller`);
  }

  return refuse(arn, `service "${service}" principals cannot own a session`);
};

/**
 * The caller from the IAM authorizer's whole context: `parseCallerArn` on `userArn`, after refusing
 * Cognito identity-pool callers (every user of a pool shares one role and a session name the pool picks,
 * so the ARN names no person), and checking the reported account and organization.
 */
export const callerFromAuthorizer = (
  iam: IamAuthorizerContext | null | undefined,
  options: CallerOptions = {},
): CallerIdentity => {
  if (iam?.cognitoIdentity !== undefined && iam.cognitoIdentity !== null) {
    throw new CognitoIdentityNotSupportedError(
      'callers through a Cognito identity pool cannot own a session: sign in with IAM or IAM Identity Center',
    );
  }
  const identity = parseCallerArn(iam?.userArn, options);
  const { accountId, principalOrgId } = iam ?? {};
  if (accountId !== undefined && accountId !== null && accountId !== identity.accountId) {
    refuse(
      identity.principalArn,
      `the authorizer reports account ${JSON.stringify(accountId)}, not the ARN's`,
    );
  }
  if (principalOrgId === undefined || principalOrgId === null || principalOrgId === '') return identity;
  if (!ORG_ID.test(principalOrgId)) {
    refuse(identity.principalArn, 'the authorizer reports a malformed organization id');
  }
  return { ...identity, orgId: principalOrgId };
};
