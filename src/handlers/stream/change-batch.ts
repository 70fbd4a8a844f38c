/**
 * The state one batch of Sessions-table stream records shares while its records run in parallel (each
 * through Powertools' BatchProcessor):
 *  - audit events of every record are collected and sent together (≤ 10 entries / 256 KB per PutEvents),
 *    not one call per record; a record succeeds only if its own events were accepted;
 *  - records of one session run in stream order: workflow calls wait for the session's earlier records,
 *    its events go out in stream order (one publish wave per change of the session in the batch; a
 *    terminal announcement in the wave after its record's audit events), and once one fails every later
 *    record of that session is reported failed without being sent, so a retry cannot overtake it.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import type { DomainEvent, EventPublisher, PublishResult } from '../../ports.js';
import { sessionKeyOf } from './record.js';

/** A record not processed because an earlier record of the same session in this batch failed. */
export class DependentRecordFailedError extends Error {
  override readonly name = 'DependentRecordFailedError';
}

/** The bus did not accept some of a record's audit events after the publisher's retries. */
export class EventsNotPublishedError extends Error {
  override readonly name = 'EventsNotPublishedError';
}

/** Error code of an event held back because an earlier event of its session was refused. */
export const NOT_SENT_AFTER_EARLIER_FAILURE = 'NotSentAfterEarlierFailure';

class Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  constructor() {
    let resolve: (value: T) => void = () => undefined;
    // The executor runs synchronously, so `resolve` is the real one before the constructor returns.
    this.promise = new Promise<T>((settle) => {
      resolve = settle;
    });
    this.resolve = resolve;
  }
}

/** One record's place in the batch. */
export class RecordSlot {
  failed = false;
  /** Has published its events or said it has none: the batched publish waits for every slot. */
  joined = false;
  /** No more workflow calls will come from this record (a later record of its session may start). */
  readonly workflowDone = new Deferred<void>();
  /** Its outcome, including the ordering rule, is final. */
  readonly finished = new Deferred<void>();
  constructor(
    readonly index: number,
    readonly sessionKey: string,
  ) {}
}

interface Contribution {
  readonly slot: RecordSlot;
  /** Sent one after the other: a part goes out only once the parts before it were accepted. */
  readonly parts: readonly (readonly DomainEvent[])[];
  readonly reply: Deferred<PublishResult>;
}

/** One part of a contribution, in its session's publish sequence. */
interface Step {
  readonly contribution: Contribution;
  readonly events: readonly DomainEvent[];
}

/**
 * The state of one invocation: slots in stream order, per-session predecessors, and the publish barrier
 * that turns every record's events into one batched publish.
 */
export class ChangeBatch {
  readonly #slots = new Map<DynamoDBRecord, RecordSlot>();
  readonly #bySession = new Map<string, RecordSlot[]>();
  readonly #publisher: EventPublisher;
  readonly #contributions: Contribution[] = [];
  #joined = 0;

  constructor(records: readonly DynamoDBRecord[], publisher: EventPublisher) {
    this.#publisher = publisher;
    records.forEach((record, index) => {
      // Records without a readable key are their own "session": they fail alone.
      const key = sessionKeyOf(record) ?? `?${record.eventID ?? index}`;
      const slot = new RecordSlot(index, key);
      this.#slots.set(record, slot);
      const list = this.#bySession.get(key) ?? [];
      list.push(slot);
      this.#bySession.set(key, list);
    });
  }

  slotOf(record: DynamoDBRecord): RecordSlot {
    const slot = this.#slots.get(record);
    if (!slot) throw new Error('record is not part of this batch');
    return slot;
  }

  #predecessors(slot: RecordSlot): RecordSlot[] {
    return (this.#bySession.get(slot.sessionKey) ?? []).filter((s) => s.index < slot.index);
  }

  /** Waits until earlier records of the session are past their workflow calls; throws if one failed. */
  async afterPredecessorsWorkflow(slot: RecordSlot): Promise<void> {
    const earlier = this.#predecessors(slot);
    await Promise.all(earlier.map((s) => s.workflowDone.promise));
    if (earlier.some((s) => s.failed)) {
      throw new DependentRecordFailedError(`an earlier record of session ${slot.sessionKey} failed`);
    }
  }

  /** Waits for the final outcome of earlier records of the session; true if any failed. */
  async predecessorFailed(slot: RecordSlot): Promise<boolean> {
    const earlier = this.#predecessors(slot);
    await Promise.all(earlier.map((s) => s.finished.promise));
    return earlier.some((s) => s.failed);
  }

  /**
   * Adds the slot's events to the batched publish and resolves with its own share of the outcome. `parts`
   * go out in sequence: a later part is sent only after every event of the earlier ones was accepted.
   */
  publish(slot: RecordSlot, parts: readonly (readonly DomainEvent[])[]): Promise<PublishResult> {
    if (slot.joined) throw new Error('a record publishes once per batch');
    const reply = new Deferred<PublishResult>();
    this.#contributions.push({ slot, parts: parts.filter((p) => p.length > 0), reply });
    this.#join(slot);
    return reply.promise;
  }

  /** The slot has nothing (more) to publish. No-op after publish. */
  leave(slot: RecordSlot): void {
    if (!slot.joined) this.#join(slot);
  }

  #join(slot: RecordSlot): void {
    slot.joined = true;
    this.#joined++;
    if (this.#joined === this.#slots.size && this.#contributions.length > 0) void this.#flush();
  }

  /**
   * Publishes in waves: wave n holds the n-th step of every session (a step is one part of one record's
   * contribution, records in stream order), so a session's events reach the bus in stream order and a
   * record's terminal event only after its audit events. Once a session has an event refused, its later
   * steps are not sent at all (their records fail and are retried after it). A batch with one single-part
   * change per session is one wave.
   */
  async #flush(): Promise<void> {
    const bySession = new Map<string, Step[]>();
    const failures = new Map<Contribution, { event: DomainEvent; errorCode: string }[]>();
    for (const c of [...this.#contributions].sort((a, b) => a.slot.index - b.slot.index)) {
      failures.set(c, []);
      const steps = bySession.get(c.slot.sessionKey) ?? [];
      for (const events of c.parts) steps.push({ contribution: c, events });
      bySession.set(c.slot.sessionKey, steps);
    }
    const blocked = new Set<string>();
    const failEvents = (step: Step, failed: { event: DomainEvent; errorCode: string }[]): void => {
      if (failed.length === 0) return;
      blocked.add(step.contribution.slot.sessionKey);
      failures.get(step.contribution)?.push(...failed);
    };
    const waves = Math.max(0, ...[...bySession.values()].map((steps) => steps.length));
    for (let wave = 0; wave < waves; wave++) {
      const sending: Step[] = [];
      for (const [session, steps] of bySession) {
        const step = steps[wave];
        if (!step) continue;
        if (blocked.has(session)) {
          failEvents(
            step,
            step.events.map((event) => ({ event, errorCode: NOT_SENT_AFTER_EARLIER_FAILURE })),
          );
        } else {
          sending.push(step);
        }
      }
      if (sending.length === 0) continue;
      sending.sort((a, b) => a.contribution.slot.index - b.contribution.slot.index);
      const failedCodes = await this.#publishAll(sending.flatMap((step) => step.events));
      for (const step of sending) {
        failEvents(
          step,
          step.events.flatMap((event) => {
            const errorCode = failedCodes.get(event);
            return errorCode === undefined ? [] : [{ event, errorCode }];
          }),
        );
      }
    }
    // Mark failures on every slot before waking any of them, so ordering checks see the whole picture.
    for (const [c, failed] of failures) if (failed.length > 0) c.slot.failed = true;
    for (const [c, failed] of failures) c.reply.resolve({ failed });
  }

  /** Error code per event the bus did not accept (a thrown publish fails them all). */
  async #publishAll(events: readonly DomainEvent[]): Promise<Map<DomainEvent, string>> {
    try {
      const result = await this.#publisher.publish(events);
      return new Map(result.failed.map((f) => [f.event, f.errorCode]));
    } catch (error) {
      const code = error instanceof Error ? error.name : 'PublishError';
      return new Map(events.map((e) => [e, code]));
    }
  }
}
