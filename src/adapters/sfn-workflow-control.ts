/**
 * WorkflowControl on AWS Step Functions (Standard workflows). Executions are named after the session, so
 * starting twice is harmless (`ExecutionAlreadyExists` means it is already running or ran) and stopping
 * needs no lookup: the execution ARN follows from the state machine ARN and the session id.
 */
import { type SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { isNamed } from '../domain/errors.js';
import { executionArnFor, revocationExecutionName } from '../domain/executions.js';
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
      expiresAt: input.expiresAt,
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

  startRevocationFanout(input: RevocationFanoutInput): Promise<{ readonly alreadyStarted: boolean }> {
    return this.#start(this.#fanoutArn, revocationExecutionName(input.sessionId), {
      sessionId: input.sessionId,
      user: input.user,
      profile: input.profile,
      revokedAt: input.revokedAt,
      revokedBy: input.revokedBy,
      reason: input.reason,
    });
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
