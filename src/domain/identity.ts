import { UnsupportedPrincipalError } from './errors.js';

/** The caller as API Gateway's IAM authorizer saw it, reduced to what a session needs. */
export interface CallerIdentity {
  /** The human (or workload) the session belongs to: IAM user name, role session name or federated name. */
  readonly user: string;
  readonly principalArn: string;
  readonly accountId: string;
  readonly partition: Partition;
  readonly principalType: 'iam-user' | 'assumed-role' | 'federated-user';
  /** For assumed roles: the role name (an IAM Identity Center permission set role starts `AWSReservedSSO_`). */
  readonly roleName?: string;
  readonly viaIdentityCenter: boolean;
}

export const PARTITIONS = ['aws', 'aws-us-gov', 'aws-cn'] as const;
export type Partition = (typeof PARTITIONS)[number];

/** IAM's charset for user names, role session names and federated names. */
const NAME_CHARSET = /^[\w+=,.@-]+$/;
const ACCOUNT_ID = /^\d{12}$/;
/** Role names may carry `/`-separated paths only in role ARNs, not in assumed-role ARNs. */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

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
 * - `arn:<p>:sts::<acct>:assumed-role/<role>/<session>` → session (for IAM Identity Center that is the user)
 * - `arn:<p>:sts::<acct>:federated-user/<name>` → name
 * Root, roles (not assumed), service-linked roles, other services and malformed ARNs are refused.
 */
export const parseCallerArn = (arn: string | undefined | null): CallerIdentity => {
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
      const user = checkName(arn, 'role session name', segments[2], 2, 64);
      return {
        ...base,
        user,
        principalType: 'assumed-role',
        roleName,
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
