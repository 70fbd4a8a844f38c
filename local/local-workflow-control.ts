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
import {
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
   * Compresses Wait states: a wait of w ms lasts w / timeScale ms (1 = real time). The lifecycle's first
   * wait is computed from the execution's expiresAt at start; re-scheduled waits reuse it.
   */
  readonly timeScale?: number;
  readonly now?: () => Date;
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

/** The local stand-in for RevocationEnforcerFunction's ARN (the fan-out's ${RevocationEnforcerFunctionArn}). */
export const LOCAL_REVOCATION_ENFORCER_ARN =
  'arn:aws:lambda:us-east-1:000000000000:function:sentinel-sessions-revocation-enforcer-local';

export class LocalWorkflowControl implements WorkflowControl {
  readonly executions = new Map<string, LocalExecutionRecord>();
  readonly accessEnforcer: AccessEnforcer;
  readonly #options: LocalWorkflowControlOptions;
  readonly #aborts = new Map<string, () => void>();
  readonly #definitions = new Map<LocalExecutionRecord['stateMachine'], ReturnType<typeof substitute>>();

  constructor(options: LocalWorkflowControlOptions) {
    this.#options = options;
    this.accessEnforcer = options.accessEnforcer ?? new InMemoryAccessEnforcer();
  }

  async startLifecycle(input: LifecycleInput): Promise<{ readonly alreadyStarted: boolean }> {
    const now = (this.#options.now ?? (() => new Date()))();
    const scale = this.#options.timeScale ?? 1;
    const waitMs = Math.max(0, (new Date(input.expiresAt).getTime() - now.getTime()) / scale);
    return this.#start('SessionLifecycleStateMachine', input.sessionId, { ...input }, waitMs);
  }

  async stopLifecycle(sessionId: string, _cause: string): Promise<{ readonly stopped: boolean }> {
    const record = this.executions.get(`SessionLifecycleStateMachine/${sessionId}`);
    if (record?.status !== 'RUNNING') return { stopped: false };
    record.status = 'ABORTED';
    record.stoppedAt = new Date();
    this.#aborts.get(`SessionLifecycleStateMachine/${sessionId}`)?.();
    return { stopped: true };
  }

  async startRevocationFanout(input: RevocationFanoutInput): Promise<{ readonly alreadyStarted: boolean }> {
    return this.#start('RevocationFanoutStateMachine', `revoke-${input.sessionId}`, { ...input }, 0);
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
    waitMs: number,
  ): Promise<{ readonly alreadyStarted: boolean }> {
    const key = `${stateMachine}/${name}`;
    if (this.executions.has(key)) return { alreadyStarted: true };
    const definition = this.#definitionOf(stateMachine);
    const execution = runLocalStateMachine({
      definition,
      services: this.#services(),
      executionInput: input,
      waitMs: (state) => (state === 'WaitUntilExpiry' ? waitMs : undefined),
      retryMs: 50,
    });
    const record: LocalExecutionRecord = {
      stateMachine,
      name,
      input,
      startedAt: new Date(),
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
      record.stoppedAt ??= new Date();
      this.#aborts.delete(key);
      this.#options.onExecutionEnd?.(record);
    });
    this.executions.set(key, record);
    this.#aborts.set(key, execution.abort);
    return { alreadyStarted: false };
  }
}
