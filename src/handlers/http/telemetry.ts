/** VendApiTelemetry on Powertools: correlation keys on every log line, counters as EMF metrics. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { VendApiTelemetry } from './vend-api.js';

export const powertoolsTelemetry = (
  logger: Logger,
  count: (name: string, value?: number) => void,
): VendApiTelemetry => ({
  correlate: (keys) => logger.appendKeys(keys),
  session: (sessionId) => logger.appendKeys({ sessionId }),
  count: (metric, value) => count(metric, value),
  info: (message, attributes) => logger.info(message, { ...attributes }),
  warn: (message, attributes) => logger.warn(message, { ...attributes }),
  error: (message, attributes) => logger.error(message, { ...attributes }),
});
