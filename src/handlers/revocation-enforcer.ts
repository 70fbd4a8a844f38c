/**
 * Revocation enforcer Lambda, invoked by the revocation-fanout workflow (lambda:invoke) with
 * `{sessionId, roleArn, expiresAt}` read from the session row. Thin: configuration is parsed at init, clients
 * are built once, the work is usecases/enforce-revocation. Any error is thrown under its own name (the
 * workflow retries DenyListContentionError and fails loudly on the rest). `createRevocationEnforcerHandler`
 * builds one from explicit configuration and clients; `handler` is the deployed one, built from the environment.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { IamAccessEnforcer } from '../adapters/iam-access-enforcer.js';
import { documentClient, sdkClientConfig } from '../commons/clients.js';
import { type Env, requireEnv } from '../commons/env.js';
import {
  counter,
  createObservability,
  type Observability,
  withObservability,
} from '../commons/powertools.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { createRevocationEnforcer, type EnforcementResult } from '../usecases/enforce-revocation.js';

export interface RevocationEnforcerConfig {
  /** Deny-list table: one row per role, the list its deny policy is rendered from. */
  readonly denyListTableName: string;
}

/** The enforcer's configuration from the environment; anything missing fails naming the variable (ConfigurationError). */
export const revocationEnforcerConfigFromEnv = (env: Env = process.env): RevocationEnforcerConfig => ({
  denyListTableName: requireEnv('DENY_LIST_TABLE_NAME', env),
});

export interface RevocationEnforcerClients {
  readonly iam: IAMClient;
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
  const enforce = createRevocationEnforcer({
    enforcer: new IamAccessEnforcer({
      iam: clients.iam,
      documentClient: clients.documentClient,
      tableName: config.denyListTableName,
      clock: options.clock ?? systemClock,
    }),
  });

  return withObservability(observability, async (event: unknown) => {
    try {
      const result = await enforce(event);
      count(result.alreadyDenied ? 'RevocationAlreadyEnforced' : 'RevocationEnforced');
      logger.info('revoked session denied on its role', { ...result });
      return result;
    } catch (error) {
      count('RevocationEnforcementFailed');
      logger.error('revocation enforcement failed', {
        error: error instanceof Error ? { name: error.name, message: error.message } : 'unknown',
      });
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
    documentClient: documentClient(),
  },
  observability: createObservability(),
});
