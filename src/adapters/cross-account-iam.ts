/**
 * IAM clients for the enforcer, per account. IAM lets a role put policies only on roles of its own account:
 * a profile role in another account is reached through the enforcement role that account deployed
 * (template-member.yaml), assumed with STS AssumeRole. Its trust policy admits only the enforcer's role, by
 * ARN (docs/design.md, "Revocation enforcement"). Assumed credentials are cached per account and renewed
 * shortly before they expire; a failed assumption is not cached (the next enforcement tries again).
 */
import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import { parseRoleArn } from '../domain/arn.js';
import type { Clock } from '../domain/clock.js';
import { ConfigurationError, describeError, InvalidInputError, isNamed } from '../domain/errors.js';
import { ACCOUNT_ID, ROLE_NAME } from '../domain/identity.js';

/** The IAM client that may write on `roleArn`: the enforcer's own, or one in the role's account. */
export interface IamClientProvider {
  clientFor(roleArn: string): Promise<IAMClient>;
}

/** The enforcement role of the profile role's account could not be assumed (not deployed, or trust wrong). */
export class EnforcementRoleUnavailableError extends Error {
  override readonly name = 'EnforcementRoleUnavailableError';
}

export interface AssumedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** Renew the assumed credentials this long before they expire: an enforcement never starts on dying ones. */
export const ASSUMED_CREDENTIALS_REFRESH_SECONDS = 300;
/** What the enforcer asks for: the most a chained role session may last. */
export const ASSUMED_SESSION_SECONDS = 3600;
/** Shown in the member account's CloudTrail as the assumed-role session of every enforcement. */
export const ENFORCER_SESSION_NAME = 'sentinel-sessions-enforcer';

export interface CrossAccountIamClientsOptions {
  /** The account the enforcer runs in: its own IAM client writes there. */
  readonly homeAccountId: string;
  readonly home: IAMClient;
  readonly sts: STSClient;
  /** The name of the enforcement role every member account deployed (template-member.yaml). */
  readonly enforcementRoleName: string;
  readonly clock: Clock;
  /** Configuration (timeouts, retries) of the member accounts' IAM clients. */
  readonly clientConfig?: Omit<IAMClientConfig, 'credentials'>;
  /** Builds the member account's IAM client from assumed credentials (tests swap it). */
  readonly clientWith?: (credentials: AssumedCredentials) => IAMClient;
}

export class CrossAccountIamClients implements IamClientProvider {
  readonly #options: CrossAccountIamClientsOptions;
  readonly #cache = new Map<string, Promise<{ readonly client: IAMClient; readonly expiration: Date }>>();

  constructor(options: CrossAccountIamClientsOptions) {
    if (!ACCOUNT_ID.test(options.homeAccountId)) {
      throw new ConfigurationError(
        `homeAccountId must be a 12-digit account id, got ${options.homeAccountId}`,
      );
    }
    if (!ROLE_NAME.test(options.enforcementRoleName)) {
      throw new ConfigurationError(
        `enforcementRoleName must be an IAM role name (1–64 of [A-Za-z0-9+=,.@_-]), got ${options.enforcementRoleName}`,
      );
    }
    this.#options = options;
  }

  /** The enforcement role in the account of `roleArn` (same partition). */
  enforcementRoleArnFor(roleArn: string): string {
    const parsed = parseRoleArn(roleArn);
    if (!parsed) throw new InvalidInputError(`not an IAM role ARN: ${roleArn}`);
    return `arn:${parsed.partition}:iam::${parsed.accountId}:role/${this.#options.enforcementRoleName}`;
  }

  async clientFor(roleArn: string): Promise<IAMClient> {
    const parsed = parseRoleArn(roleArn);
    if (!parsed) throw new InvalidInputError(`not an IAM role ARN: ${roleArn}`);
    if (parsed.accountId === this.#options.homeAccountId) return this.#options.home;
    const key = `${parsed.partition}:${parsed.accountId}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      try {
        const entry = await cached;
        if (this.#fresh(entry.expiration)) return entry.client;
      } catch {
        // A failed assumption was already reported to its caller; try again below.
      }
      if (this.#cache.get(key) === cached) this.#cache.delete(key);
    }
    // One AssumeRole per account at a time: concurrent enforcements share it.
    const pending = this.#cache.get(key) ?? this.#assume(this.enforcementRoleArnFor(roleArn));
    this.#cache.set(key, pending);
    try {
      return (await pending).client;
    } catch (error) {
      if (this.#cache.get(key) === pending) this.#cache.delete(key);
      throw error;
    }
  }

  #fresh(expiration: Date): boolean {
    return (
      expiration.getTime() - ASSUMED_CREDENTIALS_REFRESH_SECONDS * 1000 > this.#options.clock.now().getTime()
    );
  }

  async #assume(
    enforcementRoleArn: string,
  ): Promise<{ readonly client: IAMClient; readonly expiration: Date }> {
    let output: AssumeRoleCommandOutput | undefined;
    try {
      output = await this.#options.sts.send(
        new AssumeRoleCommand({
          RoleArn: enforcementRoleArn,
          RoleSessionName: ENFORCER_SESSION_NAME,
          DurationSeconds: ASSUMED_SESSION_SECONDS,
        }),
      );
    } catch (error) {
      if (isNamed(error, 'AccessDenied', 'AccessDeniedException', 'RegionDisabledException')) {
        throw new EnforcementRoleUnavailableError(
          `cannot assume ${enforcementRoleArn} (is template-member.yaml deployed in that account, trusting this ` +
            `enforcer's role?): ${describeError(error).errorMessage ?? ''}`,
          { cause: error },
        );
      }
      throw error;
    }
    const credentials = output?.Credentials;
    const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = credentials ?? {};
    if (!AccessKeyId || !SecretAccessKey || !SessionToken || !(Expiration instanceof Date)) {
      throw new EnforcementRoleUnavailableError(
        `STS answered AssumeRole of ${enforcementRoleArn} without credentials`,
      );
    }
    const assumed: AssumedCredentials = {
      accessKeyId: AccessKeyId,
      secretAccessKey: SecretAccessKey,
      sessionToken: SessionToken,
      expiration: Expiration,
    };
    const client =
      this.#options.clientWith?.(assumed) ??
      new IAMClient({ ...this.#options.clientConfig, credentials: assumed });
    return { client, expiration: Expiration };
  }
}

/** The enforcer's own account only: every role is written with one client (no member accounts). */
export const singleAccountIam = (iam: IAMClient): IamClientProvider => ({ clientFor: async () => iam });
