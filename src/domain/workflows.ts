/**
 * Inputs of the two Step Functions workflows, as the domain decides them (see session-changes.ts). The
 * WorkflowControl port takes these; the state machines read exactly these fields.
 */

/** Input of a session-lifecycle execution (statemachines/session-lifecycle.asl.json). */
export interface LifecycleInput {
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly user: string;
  readonly profile: string;
}

/** Input of a revocation-fanout execution (statemachines/revocation-fanout.asl.json). */
export interface RevocationFanoutInput {
  readonly sessionId: string;
  readonly user: string;
  readonly profile: string;
  readonly revokedAt: string;
  readonly revokedBy: string;
  readonly reason: string;
}
