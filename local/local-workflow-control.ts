/**
 * WorkflowControl for the local stack: each execution runs statemachines/*.asl.json in the real ASL
 * interpreter (through the binder), keeps Step Functions' naming rules (one execution per name, a second
 * start is "already started") and can be stopped with a cause. The list of executions (states entered,
 * end state, stop cause) is the local stand-in for the Step Functions console. It also runs the sweeper,
 * as EventBridge Scheduler does in AWS, when the stack asks it to.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  fanoutStillCounts,
  type RevocationFanoutStart,
  revocationFanoutAttemptNames,
} from '../src/domain/workflows.js';
import type {
  AccessEnforcer,
  DomainEvent,
  EventPublisher,
  LifecycleInput,
  RevocationFanoutInput,
  WorkflowControl,
} from '../src/ports.js';
import {
  createRevocationEnforcer,
  createVerifiedRevocationEnforcer,
  type ProfileRoles,
  type SessionReader,
} from '../src/usecases/enforce-revocation.js';
import { InMemoryAccessEnforcer } from './in-memory-access-enforcer.js';
import { ScaledClock, type StackClock } from './scaled-clock.js';
import {
  type LocalServices,
  type PutEventsEntry,
  type PutEventsOutput,
  rawDefinitionOf,
  runLocalStateMachine,
  substitute,
  templateSubstitutions,
} from './sfn-binder.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export type LocalStateMachine =
  | 'SessionLifecycleStateMachine'
  | 'RevocationFanoutStateMachine'
  | 'SessionSweeperStateMachine';

export interface LocalExecutionRecord {
  readonly stateMachine: LocalStateMachine;
  readonly name: string;
  readonly input: Record<string, string>;
  readonly startedAt: Date;
  status: ExecutionStatus;
  stoppedAt?: Date;
  error?: string;
  /** The StopExecution cause, for an execution stopped from outside (ABORTED). */
  cause?: string;
  /** What a SUCCEEDED execution returned (its output, as DescribeExecution shows it). */
  output?: unknown;
  /** Every state entered, in order: its length is the execution's state transitions. */
  readonly statesEntered: readonly string[];
  /** Settles when the execution ends, whatever the outcome. */
  readonly done: Promise<void>;
}

export interface LocalWorkflowControlOptions {
  readonly dynamodb: DynamoDBClient;
  readonly sessionsTableName: string;
  readonly eventBusName: string;
  readonly bus: EventPublisher;
  readonly notificationTopicArn?: string;
  readonly snsPublish?: LocalServices['snsPublish'];
  /** The fan-out's Slack and Teams webhooks (e.g. a LocalWebhookReceiver's URLs); unset = that channel off. */
  readonly slackWebhookUrl?: string;
  readonly teamsWebhookUrl?: string;
  /** What the revocation enforcer function denies with; default an InMemoryAccessEnforcer. */
  readonly accessEnforcer?: AccessEnforcer;
  /**
   * The store and profiles the enforcer re-reads and checks each request against, as the deployed function
   * does (createVerifiedRevocationEnforcer). Unset = it trusts its input: only for tests that drive the
   * fan-out with sessions that have no row.
   */
  readonly verifyAgainst?: { readonly sessions: SessionReader; readonly profiles: ProfileRoles };
  /**
   * The clock the workflows wait on: the lifecycle's Wait lasts until this clock reads the session's
   * expiresAt. Default: a ScaledClock of `timeScale`, started now.
   */
  readonly clock?: StackClock;
  /** Shorthand for `clock: new ScaledClock(timeScale)`: Waits run timeScale times faster (1 = real time). */
  readonly timeScale?: number;
  readonly onExecutionEnd?: (record: LocalExecutionRecord) => void;
  /**
   * The sweeper's DefinitionSubstitutions besides the table: default the template's (ActiveShardCount,
   * SweepPageSize, SweepPagesPerShard). ActiveShardCount must match the session store's shard count.
   */
  readonly sweeper?: Partial<SweeperSettings>;
}

export interface SweeperSettings {
  readonly ActiveShardCount: string;
  readonly SweepPageSize: string;
  readonly SweepPagesPerShard: string;
}

/** An ASL PutEvents entry as the bus's own event, refusing one that is not a sentinel session event. */
const toDomainEvent = (entry: PutEventsEntry): DomainEvent => {
  const detail = JSON.parse(entry.Detail) as unknown;
  if (
    typeof detail !== 'object' ||
    detail === null ||
    typeof (detail as { sessionId?: unknown }).sessionId !== 'string'
  ) {
    throw new Error(`PutEvents entry ${entry.DetailType} has no detail.sessionId`);
  }
  // The workflow builds the detail in ASL; its contract is pinned by the event-contract tests.
  return { detailType: entry.DetailType, detail } as DomainEvent;
};

/** The local stand-in for RevocationEnforcerFunction's ARN (the fan-out's ${RevocationEnforcerFunctionArn}). */
export const LOCAL_REVOCATION_ENFORCER_ARN =
  'arn:aws:lambda:us-east-1:000000000000:function:sentinel-sessions-revocation-enforcer-local';

export class LocalWorkflowControl implements WorkflowControl {
  readonly executions = new Map<string, LocalExecutionRecord>();
  readonly accessEnforcer: AccessEnforcer;
  readonly #options: LocalWorkflowControlOptions;
  readonly #aborts = new Map<string, () => void>();
  readonly #definitions = new Map<LocalStateMachine, ReturnType<typeof substitute>>();
  readonly #clock: StackClock;
  #sweeps = 0;

  constructor(options: LocalWorkflowControlOptions) {
    this.#options = options;
    this.#clock = options.clock ?? new ScaledClock(options.timeScale ?? 1);
    this.accessEnforcer = options.accessEnforcer ?? new InMemoryAccessEnforcer({ clock: this.#clock });
  }

  async startLifecycle(input: LifecycleInput): Promise<{ readonly alreadyStarted: boolean }> {
    // WaitUntilMaxLifetime sleeps until $.maxExpiresAt, on the stack's clock.
    return this.#start(
      'SessionLifecycleStateMachine',
      input.sessionId,
      { ...input },
      {
        waitMs: (state) =>
          state === 'WaitUntilMaxLifetime' ? this.#clock.msUntil(input.maxExpiresAt) : undefined,
      },
    );
  }

  async stopLifecycle(sessionId: string, cause: string): Promise<{ readonly stopped: boolean }> {
    const record = this.executions.get(`SessionLifecycleStateMachine/${sessionId}`);
    if (record?.status !== 'RUNNING') return { stopped: false };
    record.status = 'ABORTED';
    record.stoppedAt = this.#clock.now();
    record.cause = cause;
    this.#aborts.get(`SessionLifecycleStateMachine/${sessionId}`)?.();
    return { stopped: true };
  }

  /**
   * One sweeper run, as the schedule starts it in AWS (an Express execution), at `at` (default the stack
   * clock's now): what its first state reads as `$$.State.EnteredTime`. Resolves with its record once it
   * has ended.
   */
  async runSweeper(at: Date = this.#clock.now()): Promise<LocalExecutionRecord> {
    const name = `sweep-${++this.#sweeps}`;
    await this.#start('SessionSweeperStateMachine', name, {}, { enteredTime: at.toISOString() });
    const record = this.executions.get(`SessionSweeperStateMachine/${name}`);
    if (record === undefined) throw new Error(`sweeper execution ${name} was not recorded`);
    await record.done;
    // Runs every minute: keeping them all would grow without bound.
    this.executions.delete(`SessionSweeperStateMachine/${name}`);
    return record;
  }

  /** As SfnWorkflowControl: an existing fan-out counts only if RUNNING or SUCCEEDED; else a bounded retry. */
  async startRevocationFanout(input: RevocationFanoutInput): Promise<RevocationFanoutStart> {
    const failedBefore: string[] = [];
    for (const name of revocationFanoutAttemptNames(input.sessionId)) {
      const existing = this.executions.get(`RevocationFanoutStateMachine/${name}`);
      if (existing === undefined) {
        await this.#start('RevocationFanoutStateMachine', name, { ...input }, {});
        return { alreadyStarted: false, executionName: name, failedBefore };
      }
      if (fanoutStillCounts(existing.status))
        return { alreadyStarted: true, executionName: name, failedBefore };
      failedBefore.push(name);
    }
    return { alreadyStarted: false, failedBefore, retriesExhausted: true };
  }

  /** Resolves when every execution started so far has ended (tests, graceful shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }

  abortAll(): void {
    for (const [key, abort] of this.#aborts) {
      const record = this.executions.get(key);
      if (record?.status === 'RUNNING') {
        record.status = 'ABORTED';
        abort();
      }
    }
  }

  #services(): LocalServices {
    const { bus } = this.#options;
    return {
      dynamodb: this.#options.dynamodb,
      putEvents: async (entries): Promise<PutEventsOutput> => {
        const events = entries.map(toDomainEvent);
        const { failed } = await bus.publish(events);
        return {
          FailedEntryCount: failed.length,
          Entries: events.map((event) => {
            const failure = failed.find((f) => f.event === event);
            return failure
              ? { ErrorCode: failure.errorCode }
              : { EventId: `local-${event.detail.sessionId}` };
          }),
        };
      },
      // The same use case as src/handlers/revocation-enforcer.ts, on the local enforcer.
      lambdas: {
        // With the stack's clock, as the deployed handler passes its own: ids are kept from the revocation on.
        [LOCAL_REVOCATION_ENFORCER_ARN]:
          this.#options.verifyAgainst === undefined
            ? createRevocationEnforcer({ enforcer: this.accessEnforcer, clock: this.#clock })
            : createVerifiedRevocationEnforcer({
                enforcer: this.accessEnforcer,
                clock: this.#clock,
                ...this.#options.verifyAgainst,
              }),
      },
      snsPublish:
        this.#options.snsPublish ??
        (async ({ Subject }) => {
          console.log(`[local sns] ${Subject ?? ''}`);
          return { MessageId: `local-${Date.now()}` };
        }),
    };
  }

  /** Read and substituted once per state machine, not once per execution. */
  #definitionOf(stateMachine: LocalStateMachine): ReturnType<typeof substitute> {
    let definition = this.#definitions.get(stateMachine);
    if (definition === undefined) {
      const sweeperSettings =
        stateMachine === 'SessionSweeperStateMachine'
          ? {
              ...templateSubstitutions(stateMachine, [
                'ActiveShardCount',
                'SweepPageSize',
                'SweepPagesPerShard',
              ]),
              ...this.#options.sweeper,
            }
          : {};
      definition = substitute(rawDefinitionOf(stateMachine), {
        ...sweeperSettings,
        SessionsTableName: this.#options.sessionsTableName,
        EventBusName: this.#options.eventBusName,
        NotificationTopicArn:
          this.#options.notificationTopicArn ?? 'arn:aws:sns:us-east-1:000000000000:sentinel-sessions-local',
        RevocationEnforcerFunctionArn: LOCAL_REVOCATION_ENFORCER_ARN,
        // Empty = the channel is off, as the template's empty parameter; the connection is not used locally.
        SlackWebhookUrl: this.#options.slackWebhookUrl ?? '',
        TeamsWebhookUrl: this.#options.teamsWebhookUrl ?? '',
        WebhookConnectionArn:
          'arn:aws:events:us-east-1:000000000000:connection/sentinel-sessions-webhooks-local/local',
      });
      this.#definitions.set(stateMachine, definition);
    }
    return definition;
  }

  async #start(
    stateMachine: LocalStateMachine,
    name: string,
    input: Record<string, string>,
    timing: Pick<Parameters<typeof runLocalStateMachine>[0], 'waitMs' | 'enteredTime'>,
  ): Promise<{ readonly alreadyStarted: boolean }> {
    const key = `${stateMachine}/${name}`;
    if (this.executions.has(key)) return { alreadyStarted: true };
    const definition = this.#definitionOf(stateMachine);
    const execution = runLocalStateMachine({
      definition,
      services: this.#services(),
      executionInput: input,
      ...timing,
      retryMs: 50,
    });
    const record: LocalExecutionRecord = {
      stateMachine,
      name,
      input,
      startedAt: this.#clock.now(),
      status: 'RUNNING',
      statesEntered: execution.statesEntered,
      done: execution.result.then(
        (output) => {
          if (record.status === 'RUNNING') {
            record.status = 'SUCCEEDED';
            record.output = output;
          }
        },
        (error: unknown) => {
          if (record.status === 'RUNNING') {
            record.status = 'FAILED';
            record.error = error instanceof Error ? error.message : String(error);
          }
        },
      ),
    };
    void record.done.then(() => {
      record.stoppedAt ??= this.#clock.now();
      this.#aborts.delete(key);
      this.#options.onExecutionEnd?.(record);
    });
    this.executions.set(key, record);
    this.#aborts.set(key, execution.abort);
    return { alreadyStarted: false };
  }
}
