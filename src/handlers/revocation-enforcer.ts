/**
 * Revocation enforcer Lambda, invoked by the revocation-fanout workflow (lambda:invoke) with
 * `{sessionId, roleArn, expiresAt}` read from the session row. Thin: clients and configuration at init,
 * the work in usecases/enforce-revocation. Any error is thrown under its own name (the workflow retries
 * DenyListContentionError and fails loudly on the rest).
 */
import { IAMClient } from '@aws-sdk/client-iam';
import type { Context } from 'aws-lambda';
import { IamAccessEnforcer } from '../adapters/iam-access-enforcer.js';
import { documentClient, sdkClientConfig } from '../commons/clients.js';
import { requireEnv } from '../commons/env.js';
import { countMetric, flushMetrics, logger } from '../commons/powertools.js';
import { systemClock } from '../domain/clock.js';
import { createRevocationEnforcer, type EnforcementResult } from '../usecases/enforce-revocation.js';

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
const enforce = createRevocationEnforcer({
  enforcer: new IamAccessEnforcer({
    // IAM is a global service: one endpoint whatever region the function runs in.
    iam: new IAMClient(sdkClientConfig),
    documentClient: documentClient(),
    tableName: requireEnv('DENY_LIST_TABLE_NAME'),
    clock: systemClock,
  }),
});

export const handler = async (event: unknown, context: Context): Promise<EnforcementResult> => {
  logger.addContext(context);
  try {
    const result = await enforce(event);
    countMetric(result.alreadyDenied ? 'RevocationAlreadyEnforced' : 'RevocationEnforced');
    logger.info('revoked session denied on its role', { ...result });
    return result;
  } catch (error) {
    countMetric('RevocationEnforcementFailed');
    logger.error('revocation enforcement failed', {
      error: error instanceof Error ? { name: error.name, message: error.message } : 'unknown',
    });
    throw error;
  } finally {
    flushMetrics();
  }
};
