import { revocationExecutionName } from './executions.js';

/**
 * Inputs of the two Step Functions workflows, as the domain decides them (see session-changes.ts). The
 * WorkflowControl port takes these; the state machines read exactly these fields.
 */

/**
 * Input of a session-lifecycle execution (statemachines/session-lifecycle.asl.json). It sleeps until
 * `maxExpiresAt`, the hard cap no refresh moves, so a refresh never has to reach it.
 */
export interface LifecycleInput {
  readonly sessionId: string;
  readonly maxExpiresAt: string;
  readonly user: string;
  readonly profile: string;
}

/** Whether each session gets its own lifecycle execution (template parameter PerSessionExecutions). */
export const PER_SESSION_EXECUTIONS_MODES = ['enabled', 'disabled'] as const;
export type PerSessionExecutionsMode = (typeof PER_SESSION_EXECUTIONS_MODES)[number];

/** Input of a revocation-fanout execution (statemachines/revocation-fanout.asl.json). */
export interface RevocationFanoutInput {
  readonly sessionId: string;
  readonly user: string;
  readonly profile: string;
  readonly revokedAt: string;
  readonly revokedBy: string;
  readonly reason: string;
}

/**
 * How many retry executions (`revoke-<sessionId>-r1` … `-r3`) the consumer starts after the fan-out of a
 * session ended FAILED, TIMED_OUT or ABORTED. Bounded so a fan-out that always fails cannot loop: past it
 * the reconciler re-enforces the deny list, and every failed execution has already raised its alarm.
 */
export const MAX_REVOCATION_FANOUT_RETRIES = 3;

/** Execution names one session's fan-out may use, in the order they are tried: the first, then each retry. */
export const revocationFanoutAttemptNames = (sessionId: string): string[] => [
  revocationExecutionName(sessionId),
  ...Array.from(
    { length: MAX_REVOCATION_FANOUT_RETRIES },
    (_, index) => `${revocationExecutionName(sessionId)}-r${index + 1}`,
  ),
];

/** Step Functions execution statuses under which an existing fan-out still does (or did) its work. */
const LIVE_OR_DONE = new Set(['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE']);

/**
 * Whether an existing execution of that name counts as the fan-out having started: RUNNING, SUCCEEDED (or
 * being redriven). FAILED, TIMED_OUT and ABORTED did not enforce, so a retry is due; an unknown status too
 * (fail closed: a redundant fan-out is harmless, it is idempotent).
 */
export const fanoutStillCounts = (status: string | undefined): boolean =>
  status !== undefined && LIVE_OR_DONE.has(status);

/** What starting a session's revocation fan-out did. */
export interface RevocationFanoutStart {
  /** An execution that runs or ran successfully already existed: nothing was started. */
  readonly alreadyStarted: boolean;
  /** The execution that now stands for the fan-out (started or found). */
  readonly executionName?: string;
  /** Earlier executions of the session that ended without success (a retry was started after them). */
  readonly failedBefore?: readonly string[];
  /** Every allowed name is taken by a failed execution: nothing started, left to the reconciler. */
  readonly retriesExhausted?: boolean;
}
