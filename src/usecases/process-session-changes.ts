/**
 * The lifecycle consumer's use case: one batch of Sessions-table stream records → workflow calls and audit
 * events, with Lambda's partial-batch contract.
 *
 * Each record goes through Powertools' BatchProcessor (in parallel), but three things span the batch:
 *  - audit events of every record are collected and sent together (≤ 10 entries / 256 KB per PutEvents),
 *    not one call per record; a record succeeds only if its own events were accepted;
 *  - records of one session run in stream order: workflow calls wait for the session's earlier records,
 *    its events go out in stream order (one publish wave per change of the session in the batch; a
 *    terminal announcement in the wave after its record's audit events), and once one fails every later
 *    record of that session is reported failed without being sent, so a retry cannot overtake it;
 *  - `once` (Powertools idempotency keyed on the stream eventID) remembers finished records, so a
 *    re-delivered record does not run or publish again.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { parseStreamRecord, type SessionChange, sessionKeyOf } from '../adapters/stream-record.js';
import type { Clock } from '../domain/clock.js';
import { sessionExpired, sessionPurged, sessionRevoked, sessionStateChanged } from '../domain/events.js';
import type { DomainEvent, EventPublisher, PublishResult, WorkflowControl } from '../ports.js';

/** A workflow call a change asks for, run in order. */
export type WorkflowStep =
  | { readonly kind: 'startLifecycle'; readonly input: Parameters<WorkflowControl['startLifecycle']>[0] }
  | { readonly kind: 'stopLifecycle'; readonly sessionId: string; readonly cause: string }
  | {
      readonly kind: 'startRevocationFanout';
      readonly input: Parameters<WorkflowControl['startRevocationFanout']>[0];
    };

export interface ChangeEffects {
  readonly workflow: readonly WorkflowStep[];
  /** Audit events of the change, published first. */
  readonly events: readonly DomainEvent[];
  /**
   * The session's one terminal announcement (SessionExpired | SessionRevoked), published only after the
   * record's audit events were accepted: if an audit event is refused the record is retried with the
   * terminal event never sent, and once the terminal event is accepted nothing of the record is re-sent
   * (the stream eventID is remembered), so it reaches the bus once (invariant 2).
   */
  readonly terminal?: DomainEvent;
  /** Something an operator should look at, though it is not a failure. */
  readonly notice?: string;
}

/** Every event of the change, in publish order. */
export const eventsOf = (effects: ChangeEffects): DomainEvent[] =>
  effects.terminal ? [...effects.events, effects.terminal] : [...effects.events];

/**
 * What one session change means (pure). INSERT starts the lifecycle; active → revoked stops it, starts
 * the fan-out and announces SessionRevoked; active → expired announces SessionExpired (whoever expired
 * it: workflow, lazy refresh, operator); every status change is audited; touches are silent. A row
 * removed by TTL is audited, and an active one is the safety net's SessionExpired (ttl); a row deleted by
 * a caller is audited and flagged, never announced (no terminal transition happened).
 */
export const effectsOf = (change: SessionChange): ChangeEffects => {
  const streamEventId = change.eventId;
  switch (change.kind) {
    case 'inserted': {
      const { session } = change;
      const audit = sessionStateChanged(session, { fromStatus: null, streamEventId, at: change.at });
      if (session.status !== 'active') {
        return { workflow: [], events: [audit], notice: `session inserted as ${session.status}` };
      }
      const { sessionId, expiresAt, user, profile } = session;
      return {
        workflow: [{ kind: 'startLifecycle', input: { sessionId, expiresAt, user, profile } }],
        events: [audit],
      };
    }
    case 'modified': {
      const { before, after } = change;
      if (before.status === after.status) return { workflow: [], events: [] };
      const audit = sessionStateChanged(after, { fromStatus: before.status, streamEventId, at: change.at });
      if (before.status !== 'active') {
        const notice = `terminal session moved ${before.status} → ${after.status}`;
        return { workflow: [], events: [audit], notice };
      }
      if (after.status === 'revoked') {
        const revokedBy = after.revokedBy ?? 'unknown';
        const revokedAt = after.revokedAt ?? change.at.toISOString();
        const reason = after.revokedReason ?? '';
        return {
          workflow: [
            { kind: 'stopLifecycle', sessionId: after.sessionId, cause: `Session revoked by ${revokedBy}` },
            {
              kind: 'startRevocationFanout',
              input: {
                sessionId: after.sessionId,
                user: after.user,
                profile: after.profile,
                revokedAt,
                revokedBy,
                reason,
              },
            },
          ],
          events: [audit],
          terminal: sessionRevoked({ ...after, revokedAt, revokedBy, reason }, new Date(revokedAt)),
        };
      }
      // active → expired needs no workflow call: the lifecycle execution (possibly the expirer itself)
      // ends on its own. The store always writes expiredReason; a row without one was expired by hand.
      const reason = after.expiredReason ?? 'forced';
      const terminal = sessionExpired(after, reason, after.expiredAt ? new Date(after.expiredAt) : change.at);
      return {
        workflow: [],
        events: [audit],
        terminal,
        ...(after.expiredReason
          ? {}
          : { notice: 'session expired without expiredReason (announced as forced)' }),
      };
    }
    case 'removed': {
      const { before } = change;
      const purged = sessionPurged(before, { streamEventId, at: change.at });
      if (!change.byTtl) {
        // Not a lifecycle transition: audit it and say so, but announce nothing (a 'forced' expiry here
        // would be a terminal event no conditional write stands behind).
        const notice =
          before.status === 'active'
            ? 'active session row deleted by a caller, not by TTL: audited as SessionPurged, no terminal event'
            : `session row (${before.status}) deleted by a caller, not by TTL: audited as SessionPurged`;
        return { workflow: [], events: [purged], notice };
      }
      if (before.status !== 'active') return { workflow: [], events: [purged] };
      return { workflow: [], events: [purged], terminal: sessionExpired(before, 'ttl', change.at) };
    }
  }
};

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

/** What a processed record leaves in the idempotency store (JSON). */
export interface RecordSummary {
  readonly eventId: string;
  readonly sessionId: string;
  readonly change: SessionChange['kind'];
  readonly workflowCalls: number;
  readonly eventsPublished: number;
}

export type RecordWork = (record: DynamoDBRecord, batch: ChangeBatch) => Promise<RecordSummary>;

export interface ConsumerLog {
  warn(message: string, attributes: Record<string, unknown>): void;
}

export interface LifecycleConsumerDeps {
  readonly workflows: WorkflowControl;
  readonly events: EventPublisher;
  readonly clock: Clock;
  /**
   * Makes the per-record work run once per stream eventID (Powertools `makeIdempotent` keyed on
   * `eventID`). Omitted = no deduplication (unit tests of the ordering rules).
   */
  readonly once?: (work: RecordWork) => RecordWork;
  readonly log?: ConsumerLog;
}

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
class RecordSlot {
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

const runStep = async (workflows: WorkflowControl, step: WorkflowStep): Promise<void> => {
  switch (step.kind) {
    case 'startLifecycle':
      await workflows.startLifecycle(step.input);
      return;
    case 'stopLifecycle':
      await workflows.stopLifecycle(step.sessionId, step.cause);
      return;
    case 'startRevocationFanout':
      await workflows.startRevocationFanout(step.input);
      return;
  }
};

export type LifecycleConsumer = (
  event: DynamoDBStreamEvent,
  context?: Context,
) => Promise<DynamoDBBatchResponse>;

export const createLifecycleConsumer = (deps: LifecycleConsumerDeps): LifecycleConsumer => {
  const work: RecordWork = async (record, batch) => {
    const slot = batch.slotOf(record);
    const change = parseStreamRecord(record, deps.clock.now());
    const effects = effectsOf(change);
    if (effects.notice) {
      deps.log?.warn(effects.notice, { sessionId: change.sessionId, eventId: change.eventId });
    }
    await batch.afterPredecessorsWorkflow(slot);
    for (const step of effects.workflow) await runStep(deps.workflows, step);
    slot.workflowDone.resolve();
    const all = eventsOf(effects);
    if (all.length > 0) {
      const { failed } = await batch.publish(slot, [
        effects.events,
        effects.terminal ? [effects.terminal] : [],
      ]);
      if (failed.length > 0) {
        const codes = [...new Set(failed.map((f) => f.errorCode))].join(', ');
        throw new EventsNotPublishedError(
          `${failed.length} of ${all.length} events of ${change.eventId} not accepted (${codes})`,
        );
      }
    }
    return {
      eventId: change.eventId,
      sessionId: change.sessionId,
      change: change.kind,
      workflowCalls: effects.workflow.length,
      eventsPublished: all.length,
    };
  };
  const doOnce = deps.once ? deps.once(work) : work;

  const handleRecord = async (record: DynamoDBRecord, batch: ChangeBatch): Promise<RecordSummary> => {
    const slot = batch.slotOf(record);
    let outcome: { ok: true; value: RecordSummary } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await doOnce(record, batch) };
    } catch (error) {
      slot.failed = true;
      outcome = { ok: false, error };
    }
    // Whatever happened (done before, failed early, cached), release the ones waiting on this record.
    slot.workflowDone.resolve();
    batch.leave(slot);
    try {
      if (!outcome.ok) {
        deps.log?.warn('stream record failed', {
          eventId: record.eventID,
          sessionId: sessionKeyOf(record),
          error:
            outcome.error instanceof Error ? `${outcome.error.name}: ${outcome.error.message}` : 'unknown',
        });
        throw outcome.error;
      }
      if (await batch.predecessorFailed(slot)) {
        slot.failed = true;
        throw new DependentRecordFailedError(
          `record ${record.eventID ?? '?'} is done but follows a failed record of its session`,
        );
      }
      return outcome.value;
    } finally {
      slot.finished.resolve();
    }
  };

  return async (event, context) => {
    const batch = new ChangeBatch(event.Records, deps.events);
    // A processor per invocation: its state is per batch, and the local poller may run shards concurrently.
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    return processPartialResponse(
      event,
      (record: DynamoDBRecord) => handleRecord(record, batch),
      processor,
      // In parallel, always: the batched publish waits for every record of the batch.
      { context, processInParallel: true },
    );
  };
};

/**
 * Stream records live 24 h and the event source mapping retries within that window: remembering a record
 * for 25 h covers every re-delivery Lambda can make.
 */
export const STREAM_RECORD_MEMORY_SECONDS = 25 * 3600;

/** Idempotency keyed on the stream record's eventID (unique per change, identical on re-delivery). */
export const streamIdempotencyConfig = (): IdempotencyConfig =>
  new IdempotencyConfig({
    eventKeyJmesPath: 'eventID',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: STREAM_RECORD_MEMORY_SECONDS,
  });

/** `once` for the consumer: Powertools makeIdempotent over the given persistence layer. */
export const oncePerStreamRecord =
  (persistenceStore: BasePersistenceLayer, config: IdempotencyConfig): ((work: RecordWork) => RecordWork) =>
  (work) =>
    makeIdempotent(work, { persistenceStore, config, keyPrefix: 'lifecycle-consumer' });
