import { describeError } from '../domain/errors.js';
import type { DomainEvent, EventPublisher } from '../ports.js';
import type { VendTelemetry } from './vend-telemetry.js';

/**
 * The fast path of events: the publisher already retried failed entries; what is still refused is logged and
 * counted, never thrown at the caller, whose session is already recorded (the audit path from the table's
 * stream is the guarantee, invariant 7).
 */
export const publishSafely = async (
  deps: { readonly publisher: EventPublisher; readonly telemetry: VendTelemetry },
  events: readonly DomainEvent[],
): Promise<void> => {
  try {
    const { failed } = await deps.publisher.publish(events);
    if (failed.length > 0) {
      deps.telemetry.count('EventPublishFailed', failed.length);
      deps.telemetry.error('events not accepted by the bus after retries', {
        failed: failed.map((f) => ({
          detailType: f.event.detailType,
          sessionId: f.event.detail.sessionId,
          errorCode: f.errorCode,
        })),
      });
    }
  } catch (error) {
    deps.telemetry.count('EventPublishFailed', events.length);
    deps.telemetry.error('publishing events failed', {
      ...describeError(error),
      detailTypes: events.map((e) => e.detailType),
    });
  }
};
