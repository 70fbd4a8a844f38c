/** API telemetry on Powertools: correlation keys on every log line, counters as EMF metrics. */
import type { Logger } from '@aws-lambda-powertools/logger';

/** What an API handler logs and counts; `M` names the metrics it may emit. */
export interface ApiTelemetry<M extends string> {
  /** Keys added to every log line of this request (requestId, user, sessionId). */
  correlate(keys: Readonly<Record<string, string>>): void;
  /** The session this request is about, as soon as it is known (log correlation). */
  session(sessionId: string): void;
  count(metric: M, value?: number): void;
  info(message: string, attributes?: Readonly<Record<string, unknown>>): void;
  warn(message: string, attributes?: Readonly<Record<string, unknown>>): void;
  error(message: string, attributes?: Readonly<Record<string, unknown>>): void;
}

export const powertoolsTelemetry = <M extends string>(
  logger: Logger,
  count: (name: string, value?: number) => void,
): ApiTelemetry<M> => ({
  correlate: (keys) => logger.appendKeys(keys),
  session: (sessionId) => logger.appendKeys({ sessionId }),
  count: (metric, value) => count(metric, value),
  info: (message, attributes) => logger.info(message, { ...attributes }),
  warn: (message, attributes) => logger.warn(message, { ...attributes }),
  error: (message, attributes) => logger.error(message, { ...attributes }),
});
