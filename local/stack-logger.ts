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

/** Writes each log line (the JSON Powertools would print) to `sink` instead of stdout. */
class SinkLogger extends Logger {
  readonly #sink: (line: string) => void;

  constructor(options: ConstructorParameters<typeof Logger>[0], sink: (line: string) => void) {
    super(options);
    this.#sink = sink;
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    this.#sink(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}

export const stackLogger = (options: {
  readonly clock: StackClock;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Receives every line instead of stdout (tests that read the logs, e.g. the secrets scan). */
  readonly logSink?: (line: string) => void;
}): Logger => {
  const settings = {
    serviceName: 'sentinel-sessions-local',
    logLevel: options.logLevel,
    logFormatter: new StackClockLogFormatter(options.clock),
  };
  return options.logSink ? new SinkLogger(settings, options.logSink) : new Logger(settings);
};
