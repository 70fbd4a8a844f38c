/** Callers as the IAM authorizer would identify them, for tests and benchmarks (no vitest import). */
import type { CallerIdentity } from '../../src/domain/identity.js';

export const TEST_ACCOUNT = '123456789012';

/** An IAM user `arn:aws:iam::<account>:user/<user>`. */
export const iamUserCaller = (user: string, accountId = TEST_ACCOUNT): CallerIdentity => ({
  user,
  principalArn: `arn:aws:iam::${accountId}:user/${user}`,
  accountId,
  partition: 'aws',
  principalType: 'iam-user',
  viaIdentityCenter: false,
});
