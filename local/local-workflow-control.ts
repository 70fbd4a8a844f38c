/**
 * WorkflowControl for the local stack: each execution runs statemachines/*.asl.json in the real ASL
 * interpreter (through the binder), keeps Step Functions' naming rules (one execution per name, a second
 * start is "already started") and can be stopped. The list of executions is the local stand-in for the
 * Step Functions console.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  AccessEnforcer,
  DomainEvent,
  EventPublisher,
  LifecycleInput,
  RevocationFanoutInput,
  WorkflowControl,
} from '../src/ports.js';
import { createRevocationEnforcer } from '../src/usecases/enforce-revocation.js';
import { InMemoryAccessEnforcer } from './in-memory-access-enforcer.js';
import { ScaledClock, type StackClock } from './scaled-clock.js';
import {
  type Json,
  type LocalServices,
  type PutEventsEntry,
  type PutEventsOutput,
  rawDefinitionOf,
  runLocalStateMachine,
  substitute,
} from './sfn-binder.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface LocalExecutionRecord {
  readonly stateMachine: 'SessionLifecycleStateMachine' | 'RevocationFanoutStateMachine';
  readonly name: string;
  readonly input: Record<string, string>;
  readonly startedAt: Date;
  status: ExecutionStatus;
  stoppedAt?: Date;
  error?: string;
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
  /** What the revocation enforcer function denies with; default an InMemoryAccessEnforcer. */
  readonly accessEnforcer?: AccessEnforcer;
  /**
   * The clock the workflows wait on: the lifecycle's Wait lasts until this clock reads the session's
   * expiresAt. Default: a ScaledClock of `timeScale`, started now.
   */
  readonly clock?: StackClock;
  /** Shorthand for `clock: new ScaledClock(timeScale)`: Waits run timeScale times faster (1 = real time). */
  readonly timeScale?: number;
  readonly onExecutionEnd?: (record: LocalExecutionRecord) => void;
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

/** The expiresAt of a DynamoDB GetItem result's Item, if it has one. */
const expiresAtOf = (result: Json): string | undefined => {
  const item = (result as { Item?: { expiresAt?: { S?: unknown } } } | null)?.Item;
  const value = item?.expiresAt?.S;
  return typeof value === 'string' ? value : undefined;
};

/** The local stand-in for RevocationEnforcerFunction's ARN (the fan-out's ${RevocationEnforcerFunctionArn}). */
export const LOCAL_REVOCATION_ENFORCER_ARN =
  'arn:aws:lambda:us-east-1:000000000000:function:sentinel-sessions-revocation-enforcer-local';

export class LocalWorkflowControl implements WorkflowControl {
  readonly executions = new Map<string, LocalExecutionRecord>();
  readonly accessEnforcer: AccessEnforcer;
  readonly #options: LocalWorkflowControlOptions;
  readonly #aborts = new Map<string, () => void>();
  readonly #definitions = new Map<LocalExecutionRecord['stateMachine'], ReturnType<typeof substitute>>();
  readonly #clock: StackClock;

  constructor(options: LocalWorkflowControlOptions) {
    this.#options = options;
    this.#clock = options.clock ?? new ScaledClock(options.timeScale ?? 1);
    this.accessEnforcer = options.accessEnforcer ?? new InMemoryAccessEnforcer({ clock: this.#clock });
  }

  async startLifecycle(input: LifecycleInput): Promise<{ readonly alreadyStarted: boolean }> {
    // WaitUntilExpiry sleeps until $.expiresAt: the input's at first, after a Reschedule the one ReadSession
    // has just read. Each pass waits until the stack's clock reaches it.
    let due = input.expiresAt;
    return this.#start(
      'SessionLifecycleStateMachine',
      input.sessionId,
      { ...input },
      {
        waitMs: (state) => (state === 'WaitUntilExpiry' ? this.#clock.msUntil(due) : undefined),
        onTaskResult: (state, result) => {
          const read = state === 'ReadSession' ? expiresAtOf(result) : undefined;
          if (read !== undefined) due = read;
        },
      },
    );
  }

  async stopLifecycle(sessionId: string, _cause: string): Promise<{ readonly stopped: boolean }> {
    const record = this.executions.get(`SessionLifecycleStateMachine/${sessionId}`);
    if (record?.status !== 'RUNNING') return { stopped: false };
    record.status = 'ABORTED';
    record.stoppedAt = this.#clock.now();
    this.#aborts.get(`SessionLifecycleStateMachine/${sessionId}`)?.();
    return { stopped: true };
  }

  async startRevocationFanout(input: RevocationFanoutInput): Promise<{ readonly alreadyStarted: boolean }> {
    return this.#start('RevocationFanoutStateMachine', `revoke-${input.sessionId}`, { ...input }, {});
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
        [LOCAL_REVOCATION_ENFORCER_ARN]: createRevocationEnforcer({ enforcer: this.accessEnforcer }),
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
  #definitionOf(stateMachine: LocalExecutionRecord['stateMachine']): ReturnType<typeof substitute> {
    let definition = this.#definitions.get(stateMachine);
    if (definition === undefined) {
      definition = substitute(rawDefinitionOf(stateMachine), {
        SessionsTableName: this.#options.sessionsTableName,
        EventBusName: this.#options.eventBusName,
        NotificationTopicArn:
          this.#options.notificationTopicArn ?? 'arn:aws:sns:us-east-1:000000000000:sentinel-sessions-local',
        RevocationEnforcerFunctionArn: LOCAL_REVOCATION_ENFORCER_ARN,
      });
      this.#definitions.set(stateMachine, definition);
    }
    return definition;
  }

  async #start(
    stateMachine: LocalExecutionRecord['stateMachine'],
    name: string,
    input: Record<string, string>,
    timing: Pick<Parameters<typeof runLocalStateMachine>[0], 'waitMs' | 'onTaskResult'>,
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
      done: execution.result.then(
        () => {
          if (record.status === 'RUNNING') record.status = 'SUCCEEDED';
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
