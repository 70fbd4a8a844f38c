/** The local stack's Powertools logger, its timestamps on the stack's clock like every other time it shows. */
import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { StackClock } from './scaled-clock.js';

/** Powertools' default layout (level, message, timestamp, service, sampling_rate, then the attributes). */
class StackClockLogFormatter extends LogFormatter {
  readonly #clock: StackClock;

  constructor(clock: StackClock) {
    super();
    this.#clock = clock;
  }

  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(this.#clock.at(attributes.timestamp)),
        service: attributes.serviceName,
        sampling_rate: attributes.sampleRateValue,
      },
    }).addAttributes(additional);
  }
}

export const stackLogger = (options: {
  readonly clock: StackClock;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}): Logger =>
  new Logger({
    serviceName: 'sentinel-sessions-local',
    logLevel: options.logLevel,
    logFormatter: new StackClockLogFormatter(options.clock),
  });
