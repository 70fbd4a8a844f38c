/**
 * Powertools Logger and Metrics, and the per-invocation work every handler needs, written once.
 * Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (template
 * Globals). Handler factories take an Observability, so a test or an embedding program can give each handler
 * its own logger (and capture its lines) instead of sharing module-level singletons.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** A logger and a metrics store of their own (one per handler built). */
export const createObservability = (options: { readonly serviceName?: string } = {}): Observability => ({
  logger: new Logger(options.serviceName ? { serviceName: options.serviceName } : {}),
  metrics: new Metrics(options.serviceName ? { serviceName: options.serviceName } : {}),
});

/** Counts `value` under `name` in the current invocation's EMF blob. */
export const counter =
  (metrics: Metrics) =>
  (name: string, value = 1): void => {
    metrics.addMetric(name, MetricUnit.Count, value);
  };

/**
 * Wraps a handler with what every invocation needs: the Lambda context on every log line, metrics flushed
 * at the end (only when there are some: an empty flush makes Powertools warn on every request), and the
 * request's own log keys (requestId, user, sessionId) dropped so they never leak into the next invocation.
 */
export const withObservability =
  <E, R>(
    { logger, metrics }: Observability,
    handler: (event: E, context: Context) => Promise<R>,
  ): ((event: E, context: Context) => Promise<R>) =>
  async (event, context) => {
    logger.addContext(context);
    try {
      return await handler(event, context);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
