/** The one parser of IAM role ARNs: profile configuration, the enforcer's input and IAM calls all use it. */
import { PARTITIONS, type Partition } from './identity.js';

export interface RoleArn {
  readonly partition: Partition;
  readonly accountId: string;
  /** `/` or `/some/path/`, as IAM writes it. */
  readonly path: string;
  /** What IAM's role APIs (PutRolePolicy …) take instead of the ARN. */
  readonly roleName: string;
}

/** IAM's limits: a path of up to 512 printable ASCII characters between slashes, a name of up to 64. */
const ROLE_ARN = /^arn:([a-z-]+):iam::(\d{12}):role(\/(?:[\x21-\x7e]{1,510}\/)?)([\w+=,.@-]{1,64})$/;

/** The parts of a role ARN, or undefined when `value` is not one (in a partition this system knows). */
export const parseRoleArn = (value: unknown): RoleArn | undefined => {
  if (typeof value !== 'string') return undefined;
  const match = ROLE_ARN.exec(value);
  if (!match) return undefined;
  const [, partition, accountId, path, roleName] = match;
  if (!partition || !accountId || !path || !roleName) return undefined;
  if (!(PARTITIONS as readonly string[]).includes(partition)) return undefined;
  return { partition: partition as Partition, accountId, path, roleName };
};

export const isRoleArn = (value: unknown): value is string => parseRoleArn(value) !== undefined;
