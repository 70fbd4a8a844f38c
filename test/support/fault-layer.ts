/**
 * Fault injection around the real adapters of the local stack (test/reliability/faults.test.ts):
 *
 * - DynamoDB: SDK middleware on the stack's one DynamoDBClient (the session store, both idempotency layers
 *   and the workflows' Tasks), added at the `initialize` step, above the SDK's own retries, so every
 *   injected fault reaches the adapter as if those retries were spent. Throttling fails before the call;
 *   a timeout fails after the write happened; a lost response of a conditional write is retried as the SDK
 *   does and the caller sees what the retry sees (ConditionalCheckFailedException when the first attempt
 *   changed what the condition checks). Faults are also counted per table (`faultsOn`).
 * - Step Functions: the consumer's WorkflowControl is the real SfnWorkflowControl, on an SFNClient mocked
 *   (aws-sdk-client-mock) into the stack's LocalWorkflowControl. Injected: ThrottlingException before the
 *   call, and ExecutionAlreadyExists after a StartExecution that succeeded (the SDK's retry of a start whose
 *   answer was lost).
 * - EventBridge: the local bus rejects entries (PutEvents partial failure, `InternalFailure` or
 *   `ThrottlingException` per entry), for every publisher: vend, the consumer, the fan-out.
 *
 * Every decision comes from one seeded PRNG, so a run can be replayed; the counts say what was injected.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  ThrottlingException as DynamoDbThrottlingException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { LocalEventBus } from '../../local/event-bus.js';
import type { LocalWorkflowControl } from '../../local/local-workflow-control.js';
import { LOCAL_STATE_MACHINE_ARNS } from '../../local/stack.js';
import { SfnWorkflowControl } from '../../src/adapters/sfn-workflow-control.js';
import type { LifecycleInput, RevocationFanoutInput, WorkflowControl } from '../../src/ports.js';
import { prng } from './prng.js';

export type FaultKind =
  | 'dynamodb-throttled'
  | 'dynamodb-timeout-after-write'
  | 'dynamodb-conditional-check-after-write'
  | 'putevents-entry-failed'
  | 'sfn-throttled'
  | 'sfn-already-exists-after-start';

export interface FaultPlanOptions {
  readonly seed: number;
  /** The share of calls (and of PutEvents entries) that get a fault, e.g. 0.2. */
  readonly rate: number;
}

/** The seeded dice and the tally of what was injected. */
export class FaultPlan {
  readonly injected = new Map<FaultKind, number>();
  /** Off: every call goes through untouched (setup, and the final reads of the checks). */
  enabled = false;
  readonly #next: () => number;
  readonly #rate: number;
  readonly #armed: {
    readonly matches: (command: string, input: Readonly<Record<string, unknown>>) => boolean;
    readonly error: () => Error;
    readonly fired: () => void;
  }[] = [];

  constructor(options: FaultPlanOptions) {
    this.#next = prng(options.seed);
    this.#rate = options.rate;
  }

  /** Whether this call gets a fault: a draw under the rate, while enabled. */
  strikes(): boolean {
    return this.enabled && this.#next() < this.#rate;
  }

  /** One of `kinds`, chosen by the same PRNG. */
  pick<T>(kinds: readonly T[]): T {
    const kind = kinds[Math.floor(this.#next() * kinds.length)];
    if (kind === undefined) throw new Error('pick from no kinds');
    return kind;
  }

  /**
   * One targeted fault, whether or not the plan is enabled: the first DynamoDB call `matches` accepts is sent,
   * then fails with `error()` (a task or request retried after it succeeded). Resolves once it has fired.
   */
  failAfterWriteOnce(
    matches: (command: string, input: Readonly<Record<string, unknown>>) => boolean,
    error: () => Error,
  ): Promise<void> {
    return new Promise((fired) => this.#armed.push({ matches, error, fired }));
  }

  /** The armed fault for this call, if any (it is disarmed by being taken). */
  takeArmed(command: string, input: Readonly<Record<string, unknown>>): (() => Error) | undefined {
    const index = this.#armed.findIndex((armed) => armed.matches(command, input));
    const armed = this.#armed[index];
    if (armed === undefined) return undefined;
    this.#armed.splice(index, 1);
    armed.fired();
    return armed.error;
  }

  /** Faults injected per DynamoDB table, whatever their kind. */
  readonly #byTable = new Map<string, number>();

  record(kind: FaultKind, table?: string): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
    if (table !== undefined) this.#byTable.set(table, (this.#byTable.get(table) ?? 0) + 1);
  }

  /** How many faults struck calls on `table`. */
  faultsOn(table: string): number {
    return this.#byTable.get(table) ?? 0;
  }

  get total(): number {
    return [...this.injected.values()].reduce((sum, n) => sum + n, 0);
  }
}

const FAULTED_DYNAMODB_COMMANDS = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
]);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/** As the SDK's HTTP handler reports a request whose response did not arrive in time. */
const timeoutError = (): Error =>
  Object.assign(new Error('Connection timed out after the request was sent'), { name: 'TimeoutError' });

/** Adds the fault middleware to `client` (give it to the stack as `wrap.dynamodb`). */
export const injectDynamoDbFaults =
  (plan: FaultPlan) =>
  (client: DynamoDBClient): void => {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? '';
        const armed = plan.takeArmed(command, args.input as Readonly<Record<string, unknown>>);
        if (armed) {
          await next(args);
          throw armed();
        }
        if (!FAULTED_DYNAMODB_COMMANDS.has(command) || !plan.strikes()) return next(args);
        const input = args.input as { readonly ConditionExpression?: unknown; readonly TableName?: unknown };
        const table = typeof input.TableName === 'string' ? input.TableName : undefined;
        const kinds: FaultKind[] = ['dynamodb-throttled'];
        if (WRITES.has(command)) kinds.push('dynamodb-timeout-after-write');
        if (WRITES.has(command) && input.ConditionExpression !== undefined)
          kinds.push('dynamodb-conditional-check-after-write');
        const kind = plan.pick(kinds);
        switch (kind) {
          case 'dynamodb-throttled': {
            plan.record(kind, table);
            const options = { message: 'Injected: throughput exceeded', $metadata: {} };
            throw plan.pick([0, 1]) === 0
              ? new ProvisionedThroughputExceededException(options)
              : new DynamoDbThrottlingException(options);
          }
          case 'dynamodb-timeout-after-write':
            await next(args);
            plan.record(kind, table);
            throw timeoutError();
          default: {
            // The first attempt wrote; its answer was lost and the SDK sent the request again.
            await next(args);
            try {
              return await next(args);
            } catch (error) {
              if (error instanceof ConditionalCheckFailedException) plan.record(kind, table);
              throw error;
            }
          }
        }
      },
      { step: 'initialize', name: 'injectFaults', override: true },
    );
  };

/** Makes the bus reject entries at the plan's rate, as PutEvents reports a partial failure. */
export const injectPutEventsFaults = (plan: FaultPlan, bus: LocalEventBus): void => {
  bus.injectFailures(() => {
    if (!plan.strikes()) return undefined;
    plan.record('putevents-entry-failed');
    return plan.pick(['InternalFailure', 'ThrottlingException']);
  });
};

const sfnThrottled = (): Error =>
  Object.assign(new Error('Injected: rate exceeded'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: {},
  });

const executionNameOf = (executionArn: string): string =>
  executionArn.slice(executionArn.lastIndexOf(':') + 1);

/**
 * The real SfnWorkflowControl, its SFNClient answered by `local` (the stack's executions) with faults
 * injected. Give it to the stack as `wrap.consumerWorkflows`.
 */
export const faultySfnWorkflowControl = (plan: FaultPlan, local: LocalWorkflowControl): WorkflowControl => {
  const client = new SFNClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
  });
  const sfn = mockClient(client);
  const { lifecycleStateMachineArn, revocationFanoutStateMachineArn } = LOCAL_STATE_MACHINE_ARNS;
  const throttleFirst = (): void => {
    if (plan.strikes() && plan.pick([true, false])) {
      plan.record('sfn-throttled');
      throw sfnThrottled();
    }
  };
  const alreadyExists = (name: string) =>
    new ExecutionAlreadyExists({ message: `Execution Already Exists: '${name}'`, $metadata: {} });

  sfn
    .on(StartExecutionCommand)
    .callsFake(async (input: { stateMachineArn: string; name: string; input: string }) => {
      throttleFirst();
      const body = JSON.parse(input.input) as Record<string, string>;
      let started: boolean;
      if (input.stateMachineArn === lifecycleStateMachineArn) {
        started = !(await local.startLifecycle(body as unknown as LifecycleInput)).alreadyStarted;
      } else if (input.stateMachineArn === revocationFanoutStateMachineArn) {
        // The local control starts the first attempt name not taken: the one SfnWorkflowControl asks for.
        started =
          !local.executions.has(`RevocationFanoutStateMachine/${input.name}`) &&
          (await local.startRevocationFanout(body as unknown as RevocationFanoutInput)).executionName ===
            input.name;
      } else {
        throw new Error(`unknown state machine ${input.stateMachineArn}`);
      }
      if (!started) throw alreadyExists(input.name);
      if (plan.strikes()) {
        plan.record('sfn-already-exists-after-start');
        throw alreadyExists(input.name);
      }
      return { executionArn: `${input.stateMachineArn}:${input.name}`, startDate: new Date() };
    });

  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
    throttleFirst();
    const name = executionNameOf(input.executionArn);
    const record = local.executions.get(`RevocationFanoutStateMachine/${name}`);
    if (record === undefined)
      throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${name}'`, $metadata: {} });
    return { executionArn: input.executionArn, status: record.status, startDate: record.startedAt };
  });

  sfn.on(StopExecutionCommand).callsFake(async (input: { executionArn: string; cause?: string }) => {
    throttleFirst();
    const sessionId = executionNameOf(input.executionArn);
    if (!local.executions.has(`SessionLifecycleStateMachine/${sessionId}`))
      throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${sessionId}'`, $metadata: {} });
    await local.stopLifecycle(sessionId, input.cause ?? '');
    return { stopDate: new Date() };
  });

  return new SfnWorkflowControl({ client, lifecycleStateMachineArn, revocationFanoutStateMachineArn });
};
