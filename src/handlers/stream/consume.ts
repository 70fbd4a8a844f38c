/**
 * One batch of Sessions-table stream records → workflow calls and audit events, with Lambda's partial-batch
 * contract (invariant 7). Per record: read the change (./record.ts), let the domain decide its effects
 * (src/domain/session-changes.ts), run its workflow calls and publish its events through the batch's
 * ordering and publish barrier (./change-batch.ts). `once` (./idempotency.ts) remembers finished records,
 * so a re-delivered record does not run or publish again.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Clock } from '../../domain/clock.js';
import { effectsOf, eventsOf, type SessionChange, type WorkflowStep } from '../../domain/session-changes.js';
import type { PerSessionExecutionsMode, RevocationFanoutStart } from '../../domain/workflows.js';
import type { EventPublisher, WorkflowControl } from '../../ports.js';
import { ChangeBatch, DependentRecordFailedError, EventsNotPublishedError } from './change-batch.js';
import { MalformedStreamRecordError, parseStreamRecord, sessionKeyOf } from './record.js';

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
  /** Something that must never happen (an alarm goes with it); defaults to `warn`. */
  error?(message: string, attributes: Record<string, unknown>): void;
}

/**
 * Counts what the consumer found, by metric name: `StreamRecordMalformed` (acted on a row read with gaps),
 * `TerminalToActive` (alarmed), `RevocationFanoutRetried`, `RevocationFanoutRetriesExhausted`.
 */
export type ConsumerCount = (name: string, value?: number) => void;

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
  readonly count?: ConsumerCount;
  /** `disabled`: no lifecycle execution is started or stopped (sweeper-only expiry). Default `enabled`. */
  readonly perSessionExecutions?: PerSessionExecutionsMode;
}

const runStep = async (
  workflows: WorkflowControl,
  step: WorkflowStep,
  report: (step: WorkflowStep & { kind: 'startRevocationFanout' }, start: RevocationFanoutStart) => void,
): Promise<void> => {
  switch (step.kind) {
    case 'startLifecycle':
      await workflows.startLifecycle(step.input);
      return;
    case 'stopLifecycle':
      await workflows.stopLifecycle(step.sessionId, step.cause);
      return;
    case 'startRevocationFanout':
      report(step, await workflows.startRevocationFanout(step.input));
      return;
  }
};

export type LifecycleConsumer = (
  event: DynamoDBStreamEvent,
  context?: Context,
) => Promise<DynamoDBBatchResponse>;

export const createLifecycleConsumer = (deps: LifecycleConsumerDeps): LifecycleConsumer => {
  const count: ConsumerCount = deps.count ?? (() => undefined);
  const logError = (message: string, attributes: Record<string, unknown>): void =>
    deps.log?.error ? deps.log.error(message, attributes) : deps.log?.warn(message, attributes);

  /** A fan-out that had to be retried, or could not be, is loud; the record itself still succeeds. */
  const reportFanout = (
    step: WorkflowStep & { kind: 'startRevocationFanout' },
    start: RevocationFanoutStart,
  ): void => {
    const attributes = { sessionId: step.input.sessionId, ...start };
    if (start.retriesExhausted) {
      count('RevocationFanoutRetriesExhausted');
      logError('every revocation fan-out of the session failed; the reconciler re-enforces it', attributes);
    } else if ((start.failedBefore?.length ?? 0) > 0 && !start.alreadyStarted) {
      count('RevocationFanoutRetried');
      deps.log?.warn('revocation fan-out failed before; a retry execution was started', attributes);
    }
  };

  const work: RecordWork = async (record, batch) => {
    const slot = batch.slotOf(record);
    const change = parseStreamRecord(record, deps.clock.now());
    const where = { sessionId: change.sessionId, eventId: change.eventId };
    if (change.problems) {
      // Acted on all the same (a revocation is never skipped for its row's shape), but someone must look.
      count('StreamRecordMalformed');
      deps.log?.warn('stream record images are not well-formed rows; acted on what could be read', {
        ...where,
        change: change.kind,
        problems: change.problems,
      });
    }
    const effects = effectsOf(change, {
      perSessionExecutions: deps.perSessionExecutions ?? 'enabled',
    });
    if (effects.notice) deps.log?.warn(effects.notice, where);
    if (effects.alarm) {
      count(effects.alarm.metric);
      logError(effects.alarm.message, { ...where, alarm: effects.alarm.metric });
    }
    await batch.afterPredecessorsWorkflow(slot);
    for (const step of effects.workflow) await runStep(deps.workflows, step, reportFanout);
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
    const response = await processPartialResponse(
      event,
      (record: DynamoDBRecord) => handleRecord(record, batch),
      processor,
      // In parallel, always: the batched publish waits for every record of the batch.
      { context, processInParallel: true },
    );
    // Powertools names a failed record by its SequenceNumber and leaves out one without it, which Lambda
    // would then count as done (invariant 7). Fail the whole batch instead: it is retried, and bisected.
    const unnamed = event.Records.filter((r) => batch.slotOf(r).failed && !r.dynamodb?.SequenceNumber);
    if (unnamed.length > 0) {
      throw new MalformedStreamRecordError(
        `${unnamed.length} failed stream record(s) without a SequenceNumber: the whole batch fails`,
      );
    }
    return response;
  };
};
