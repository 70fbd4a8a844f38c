/**
 * Revocation reconciler Lambda, run every 5 minutes by an EventBridge Scheduler schedule: re-enforces every
 * revoked (or early-expired) session whose credentials may still be live and that its role's deny list does
 * not cover, so a failed fan-out heals by itself (usecases/reconcile-revocations). It heals by invoking the
 * revocation enforcer function (REVOCATION_ENFORCER_FUNCTION_ARN), which re-reads the row and writes IAM,
 * in a member account through its enforcement role. Every heal is logged and counted; a session that cannot
 * be checked or healed is logged, counted as ReconcilerHealFailed (alarmed) and does not stop the run. Only a
 * run that cannot list the sessions throws (the function's Errors are alarmed; the next run retries).
 * `createRevocationReconcilerHandler` builds one from explicit configuration and clients; `handler` is the
 * deployed one, built from the environment.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoDbDenyListSource } from '../adapters/dynamodb-deny-list-source.js';
import { DynamoDbSessionStore } from '../adapters/dynamodb-session-store.js';
import { lambdaRevocationEnforcer } from '../adapters/lambda-revocation-enforcer.js';
import { documentClient, sdkClientConfig } from '../commons/clients.js';
import { type Env, intEnv, requireEnv } from '../commons/env.js';
import {
  counter,
  createObservability,
  type Observability,
  withObservability,
} from '../commons/powertools.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { InvalidInputError } from '../domain/errors.js';
import {
  createRevocationReconciler,
  DEFAULT_RECONCILE_LIMITS,
  type ReconcileReport,
} from '../usecases/reconcile-revocations.js';

export interface RevocationReconcilerConfig {
  readonly sessionsTableName: string;
  /** Deny-list table: one row per role, read to compare (the enforcer writes it). */
  readonly denyListTableName: string;
  /** The revocation enforcer function every heal is asked of. */
  readonly enforcerFunctionArn: string;
  /** Re-enforcements per run (RECONCILER_MAX_HEALS_PER_RUN). */
  readonly maxHealsPerRun: number;
  /** Sessions checked per run (RECONCILER_MAX_SESSIONS_PER_RUN). */
  readonly maxSessionsPerRun: number;
}

/** The reconciler's configuration from the environment; anything invalid fails naming the variable. */
export const revocationReconcilerConfigFromEnv = (env: Env = process.env): RevocationReconcilerConfig => ({
  sessionsTableName: requireEnv('SESSIONS_TABLE_NAME', env),
  denyListTableName: requireEnv('DENY_LIST_TABLE_NAME', env),
  enforcerFunctionArn: requireEnv('REVOCATION_ENFORCER_FUNCTION_ARN', env),
  maxHealsPerRun: intEnv(
    'RECONCILER_MAX_HEALS_PER_RUN',
    { min: 1, max: 1000, fallback: DEFAULT_RECONCILE_LIMITS.maxHeals },
    env,
  ),
  maxSessionsPerRun: intEnv(
    'RECONCILER_MAX_SESSIONS_PER_RUN',
    { min: 1, max: 100_000, fallback: DEFAULT_RECONCILE_LIMITS.maxSessions },
    env,
  ),
});

export interface RevocationReconcilerClients {
  readonly lambda: LambdaClient;
  readonly documentClient: DynamoDBDocumentClient;
}

export type RevocationReconcilerHandler = (event: unknown, context: Context) => Promise<ReconcileReport>;

/** Longer than the enforcer function's Timeout (30 s in template.yaml), so its answer is always awaited. */
export const ENFORCER_INVOKE_TIMEOUT_MS = 35_000;

/** No new work is started with less time left than this: a heal is one enforcer invocation. */
export const RECONCILER_STOP_MARGIN_MS = 40_000;

export const createRevocationReconcilerHandler = (options: {
  readonly config: RevocationReconcilerConfig;
  readonly clients: RevocationReconcilerClients;
  readonly observability: Observability;
  readonly clock?: Clock;
}): RevocationReconcilerHandler => {
  const { config, clients, observability } = options;
  const { logger } = observability;
  const count = counter(observability.metrics);
  const clock = options.clock ?? systemClock;
  const enforce = lambdaRevocationEnforcer({
    lambda: clients.lambda,
    functionName: config.enforcerFunctionArn,
  });
  const store = new DynamoDbSessionStore({
    documentClient: clients.documentClient,
    tableName: config.sessionsTableName,
  });
  const denyLists = new DynamoDbDenyListSource({
    documentClient: clients.documentClient,
    tableName: config.denyListTableName,
  });

  return withObservability(observability, async (event: unknown, context: Context) => {
    // The schedule sends `{}`; the run takes no input, so anything but an object is a wiring mistake.
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new InvalidInputError('the reconciler takes an object (its schedule sends {}); nothing was done');
    }
    const reconcile = createRevocationReconciler({
      store,
      denyLists,
      enforce,
      clock,
      limits: {
        ...DEFAULT_RECONCILE_LIMITS,
        maxHeals: config.maxHealsPerRun,
        maxSessions: config.maxSessionsPerRun,
      },
      shouldStop: () => context.getRemainingTimeInMillis() < RECONCILER_STOP_MARGIN_MS,
    });
    let report: ReconcileReport;
    try {
      report = await reconcile();
    } catch (error) {
      count('ReconcilerRunFailed');
      logger.error('revocation reconciler run failed: the enforceable sessions could not be listed', {
        error: error instanceof Error ? { name: error.name, message: error.message } : 'unknown',
      });
      throw error;
    }
    for (const healed of report.healed) {
      logger.warn('revoked session was missing from its deny list: re-enforced', { ...healed });
    }
    for (const failure of report.failed) {
      logger.error('revoked session could not be reconciled; the next run tries again', { ...failure });
    }
    count('ReconcilerSessionsChecked', report.checked);
    count('ReconcilerSessionsDenied', report.denied + report.deniedByTokenIssueTime);
    count('ReconcilerSessionsHealed', report.healed.length);
    count('ReconcilerHealFailed', report.failed.length);
    count('ReconcilerSessionsDeferred', report.deferred);
    if (report.stoppedBy !== undefined) count('ReconcilerRunCutShort');
    const summary = {
      since: report.since,
      checked: report.checked,
      denied: report.denied,
      deniedByTokenIssueTime: report.deniedByTokenIssueTime,
      lapsed: report.lapsed,
      inFlight: report.inFlight,
      healed: report.healed.length,
      failed: report.failed.length,
      deferred: report.deferred,
      ...(report.stoppedBy === undefined ? {} : { stoppedBy: report.stoppedBy }),
    };
    if (report.deferred > 0 || report.stoppedBy !== undefined) {
      logger.warn('revocation reconciler left work for the next run', summary);
    } else {
      logger.info('revocation reconciler run done', summary);
    }
    return report;
  });
};

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
export const handler = createRevocationReconcilerHandler({
  config: revocationReconcilerConfigFromEnv(),
  clients: {
    // The enforcer may take up to its 30 s timeout; a retry re-invokes it, which is idempotent.
    lambda: new LambdaClient({
      ...sdkClientConfig,
      requestHandler: { ...sdkClientConfig.requestHandler, requestTimeout: ENFORCER_INVOKE_TIMEOUT_MS },
    }),
    documentClient: documentClient(),
  },
  observability: createObservability(),
});
