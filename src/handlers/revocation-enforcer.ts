/**
 * Revocation enforcer Lambda, invoked by the revocation-fanout workflow (lambda:invoke) with
 * `{sessionId, roleArn, expiresAt}` (and `revokedAt` when the caller has it). It trusts none of it: the
 * session row is read again (strongly consistent) and the deny is written only for a row that is really
 * revoked or force-expired, on that role, a profile role of PROFILES, with times inside the profile's limits
 * (usecases/enforce-revocation `createVerifiedRevocationEnforcer`); anything else throws
 * EnforcementRefusedError, writing nothing. A profile role in another account is written through that
 * account's enforcement role (ENFORCEMENT_ROLE_NAME, deployed by template-member.yaml). Its result says how
 * the role's policy denies the session (`mode`: session-tag, or token-issue-time with the cut in
 * `tokenIssuedBefore`). Thin: configuration is parsed at init, clients are built once. Any error is thrown
 * under its own name (the workflow retries DenyListContentionError and fails loudly on the rest).
 * `createRevocationEnforcerHandler` builds one from explicit configuration and clients; `handler` is the
 * deployed one, built from the environment.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { CrossAccountIamClients } from '../adapters/cross-account-iam.js';
import { DynamoDbSessionStore } from '../adapters/dynamodb-session-store.js';
import { IamAccessEnforcer } from '../adapters/iam-access-enforcer.js';
import { documentClient, sdkClientConfig, stsClient } from '../commons/clients.js';
import { type Env, jsonEnv, requireEnv } from '../commons/env.js';
import {
  counter,
  createObservability,
  type Observability,
  withObservability,
} from '../commons/powertools.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { ConfigurationError, describeError } from '../domain/errors.js';
import { ACCOUNT_ID, ROLE_NAME } from '../domain/identity.js';
import {
  createVerifiedRevocationEnforcer,
  EnforcementRefusedError,
  type EnforcementResult,
} from '../usecases/enforce-revocation.js';
import { type Profiles, parseProfiles } from '../usecases/vend-profiles.js';

export interface RevocationEnforcerConfig {
  /** Deny-list table: one row per role, the list its deny policy is rendered from. */
  readonly denyListTableName: string;
  /** Sessions table: the row every input is checked against (GetItem only). */
  readonly sessionsTableName: string;
  /** The vend function's allowlist: the only roles a deny is written on, and their limits. */
  readonly profiles: Profiles;
  /** The account the function runs in: its profile roles are written with the function's own role. */
  readonly accountId: string;
  /** The enforcement role every member account deployed (template-member.yaml), assumed for its roles. */
  readonly enforcementRoleName: string;
}

const matchingEnv = (name: string, pattern: RegExp, what: string, env: Env): string => {
  const value = requireEnv(name, env);
  if (!pattern.test(value)) {
    throw new ConfigurationError(
      `environment variable ${name} must be ${what}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
};

/** The enforcer's configuration from the environment; anything missing or invalid fails naming the variable (ConfigurationError). */
export const revocationEnforcerConfigFromEnv = (env: Env = process.env): RevocationEnforcerConfig => ({
  denyListTableName: requireEnv('DENY_LIST_TABLE_NAME', env),
  sessionsTableName: requireEnv('SESSIONS_TABLE_NAME', env),
  profiles: jsonEnv('PROFILES', parseProfiles, env),
  accountId: matchingEnv('ENFORCER_ACCOUNT_ID', ACCOUNT_ID, 'a 12-digit AWS account id', env),
  enforcementRoleName: matchingEnv('ENFORCEMENT_ROLE_NAME', ROLE_NAME, 'an IAM role name', env),
});

export interface RevocationEnforcerClients {
  readonly iam: IAMClient;
  readonly sts: STSClient;
  readonly documentClient: DynamoDBDocumentClient;
}

export type RevocationEnforcerHandler = (event: unknown, context: Context) => Promise<EnforcementResult>;

export const createRevocationEnforcerHandler = (options: {
  readonly config: RevocationEnforcerConfig;
  readonly clients: RevocationEnforcerClients;
  readonly observability: Observability;
  readonly clock?: Clock;
}): RevocationEnforcerHandler => {
  const { config, clients, observability } = options;
  const { logger } = observability;
  const count = counter(observability.metrics);
  const clock = options.clock ?? systemClock;
  const enforce = createVerifiedRevocationEnforcer({
    enforcer: new IamAccessEnforcer({
      iam: clients.iam,
      iamFor: new CrossAccountIamClients({
        homeAccountId: config.accountId,
        home: clients.iam,
        sts: clients.sts,
        enforcementRoleName: config.enforcementRoleName,
        clock,
        clientConfig: sdkClientConfig,
      }),
      documentClient: clients.documentClient,
      tableName: config.denyListTableName,
      clock,
    }),
    sessions: new DynamoDbSessionStore({
      documentClient: clients.documentClient,
      tableName: config.sessionsTableName,
    }),
    profiles: config.profiles.values(),
    clock,
  });

  return withObservability(observability, async (event: unknown) => {
    try {
      const result = await enforce(event);
      count(result.alreadyDenied ? 'RevocationAlreadyEnforced' : 'RevocationEnforced');
      if (result.rowProblem !== undefined) {
        // Enforced anyway (a revocation is never skipped for its row's format), but someone edited it by hand.
        count('RevocationEnforcedOnMalformedRow');
        logger.warn('session row is malformed: enforced from what could be read of it', {
          sessionId: result.sessionId,
          rowProblem: result.rowProblem,
        });
      }
      if (result.mode === 'token-issue-time') {
        // The role's list no longer fits: every credential of the role issued before the cut is denied too.
        count('RevocationEnforcedByTokenIssueTime');
        logger.warn('deny list over its budget: the oldest revocations are enforced by token issue time', {
          ...result,
        });
      } else {
        logger.info('revoked session denied on its role', { ...result });
      }
      return result;
    } catch (error) {
      if (error instanceof EnforcementRefusedError) {
        // Forged, stale or buggy input: nothing was written. Loud, because something asked for it.
        count('RevocationEnforcementRefused');
        logger.error('revocation enforcement refused: the session row does not warrant a deny', {
          reason: error.reason,
          error: describeError(error),
          input: event,
        });
      } else {
        count('RevocationEnforcementFailed');
        logger.error('revocation enforcement failed', { error: describeError(error) });
      }
      throw error;
    }
  });
};

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
export const handler = createRevocationEnforcerHandler({
  config: revocationEnforcerConfigFromEnv(),
  clients: {
    // IAM is a global service: one endpoint whatever region the function runs in.
    iam: new IAMClient(sdkClientConfig),
    sts: stsClient(),
    documentClient: documentClient(),
  },
  observability: createObservability(),
});
