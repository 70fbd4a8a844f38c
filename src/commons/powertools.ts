/**
 * One Powertools Logger and one Metrics per Lambda container, shared by every handler. Service name and
 * namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (template Globals).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics();
export { MetricUnit };

/** Counts `value` under `name` in the current invocation's EMF blob. */
export const countMetric = (name: string, value = 1): void => {
  metrics.addMetric(name, MetricUnit.Count, value);
};

/** Flushes metrics only when there are some (an empty flush makes Powertools warn on every request). */
export const flushMetrics = (): void => {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
};
