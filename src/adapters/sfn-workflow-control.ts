/**
 * WorkflowControl on AWS Step Functions (Standard workflows). Executions are named after the session, so
 * starting twice is harmless and stopping needs no lookup: the execution ARN follows from the state machine
 * ARN and the session id. A lifecycle that exists counts as started. A fan-out that exists counts only if it
 * runs or succeeded (DescribeExecution): after a FAILED, TIMED_OUT or ABORTED one, a retry execution
 * `revoke-<sessionId>-r<n>` is started, at most MAX_REVOCATION_FANOUT_RETRIES of them.
 */
import {
  DescribeExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { isNamed } from '../domain/errors.js';
import { executionArnFor } from '../domain/executions.js';
import {
  fanoutStillCounts,
  type RevocationFanoutStart,
  revocationFanoutAttemptNames,
} from '../domain/workflows.js';
import type { LifecycleInput, RevocationFanoutInput, WorkflowControl } from '../ports.js';

export interface SfnWorkflowControlOptions {
  readonly client: SFNClient;
  readonly lifecycleStateMachineArn: string;
  readonly revocationFanoutStateMachineArn: string;
}

export class SfnWorkflowControl implements WorkflowControl {
  readonly #client: SFNClient;
  readonly #lifecycleArn: string;
  readonly #fanoutArn: string;

  constructor(options: SfnWorkflowControlOptions) {
    // Validate both ARNs now so a bad deployment fails at init, not on the first revocation.
    executionArnFor(options.lifecycleStateMachineArn, 'probe');
    executionArnFor(options.revocationFanoutStateMachineArn, 'probe');
    this.#client = options.client;
    this.#lifecycleArn = options.lifecycleStateMachineArn;
    this.#fanoutArn = options.revocationFanoutStateMachineArn;
  }

  startLifecycle(input: LifecycleInput): Promise<{ readonly alreadyStarted: boolean }> {
    return this.#start(this.#lifecycleArn, input.sessionId, {
      sessionId: input.sessionId,
      maxExpiresAt: input.maxExpiresAt,
      user: input.user,
      profile: input.profile,
    });
  }

  async stopLifecycle(sessionId: string, cause: string): Promise<{ readonly stopped: boolean }> {
    try {
      await this.#client.send(
        new StopExecutionCommand({
          executionArn: executionArnFor(this.#lifecycleArn, sessionId),
          error: 'SessionEnded',
          // StopExecution caps cause at 32768 characters.
          cause: cause.slice(0, 32_768),
        }),
      );
      return { stopped: true };
    } catch (error) {
      // Never started (or already gone from history): nothing to stop.
      if (isNamed(error, 'ExecutionDoesNotExist')) return { stopped: false };
      throw error;
    }
  }

  async startRevocationFanout(input: RevocationFanoutInput): Promise<RevocationFanoutStart> {
    const body = {
      sessionId: input.sessionId,
      user: input.user,
      profile: input.profile,
      revokedAt: input.revokedAt,
      revokedBy: input.revokedBy,
      reason: input.reason,
    };
    const failedBefore: string[] = [];
    const names = revocationFanoutAttemptNames(input.sessionId);
    for (const name of names) {
      const { alreadyStarted } = await this.#start(this.#fanoutArn, name, body);
      if (!alreadyStarted) return { alreadyStarted: false, executionName: name, failedBefore };
      // The name is taken: it counts only if that execution is doing, or did, the work.
      const { status } = await this.#client.send(
        new DescribeExecutionCommand({ executionArn: executionArnFor(this.#fanoutArn, name) }),
      );
      if (fanoutStillCounts(status)) return { alreadyStarted: true, executionName: name, failedBefore };
      failedBefore.push(name);
    }
    return { alreadyStarted: false, failedBefore, retriesExhausted: true };
  }

  async #start(
    stateMachineArn: string,
    name: string,
    input: Record<string, string>,
  ): Promise<{ readonly alreadyStarted: boolean }> {
    try {
      await this.#client.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return { alreadyStarted: false };
    } catch (error) {
      // A re-delivered stream record: the execution with this name exists (running or finished).
      if (isNamed(error, 'ExecutionAlreadyExists')) return { alreadyStarted: true };
      throw error;
    }
  }
}
