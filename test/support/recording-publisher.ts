/**
 * An EventPublisher that records what it was asked to publish. Make entries fail with `failNext(code, n)`
 * (those events come back in `failed`, as after the real publisher's retries) or make the whole call throw
 * with `throwNext(error)`. `events` holds only the events the "bus" accepted.
 */
import type { DetailType } from '../../src/domain/events.js';
import type { DomainEvent, EventPublisher, PublishResult } from '../../src/ports.js';

export class RecordingPublisher implements EventPublisher {
  readonly events: DomainEvent[] = [];
  readonly failedEvents: DomainEvent[] = [];
  #failCodes: string[] = [];
  #throws: unknown[] = [];

  /** The next `count` entries are refused with `errorCode`. */
  failNext(errorCode = 'InternalFailure', count = 1): this {
    for (let i = 0; i < count; i++) this.#failCodes.push(errorCode);
    return this;
  }

  /** The next publish call throws `error` (a PutEvents outage). */
  throwNext(error: unknown): this {
    this.#throws.push(error);
    return this;
  }

  async publish(events: readonly DomainEvent[]): Promise<PublishResult> {
    if (this.#throws.length > 0) throw this.#throws.shift();
    const failed: { event: DomainEvent; errorCode: string }[] = [];
    for (const event of events) {
      const code = this.#failCodes.shift();
      if (code === undefined) this.events.push(event);
      else {
        failed.push({ event, errorCode: code });
        this.failedEvents.push(event);
      }
    }
    return { failed };
  }

  ofType<T extends DetailType>(detailType: T): DomainEvent[] {
    return this.events.filter((event) => event.detailType === detailType);
  }
}
