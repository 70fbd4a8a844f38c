/**
 * POST /v1/sessions/{id}/revoke: the canonical conditional revoke (active → revoked, `revokedBy` the
 * caller's principal ARN, `revokedAt` in the stored format) by the session's owner or an admin. The stream
 * consumer then announces it and starts the fan-out, exactly as for any other revocation.
 */
import type { Operator } from '../domain/operators.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { Session } from '../domain/session.js';
import type { Clock, SessionStore } from '../ports.js';
import type { OperatorRefusal } from './operator-outcome.js';
import { visibleSession } from './show-session.js';

export interface RevokeSessionInput {
  readonly operator: Operator;
  readonly sessionId: string;
  /** Already validated (revokeReasonProblem). */
  readonly reason: string;
}

export const revokeOneSession =
  (deps: { readonly store: Pick<SessionStore, 'get' | 'revoke'>; readonly clock: Clock }) =>
  async (input: RevokeSessionInput): Promise<Result<Session, OperatorRefusal>> => {
    const visible = await visibleSession(deps.store, input.operator, input.sessionId);
    if (!visible.ok) return visible;
    if (visible.value.status !== 'active') {
      return refuse({ kind: 'AlreadyTerminal', status: visible.value.status, session: visible.value });
    }
    const revoked = await deps.store.revoke(input.sessionId, {
      by: input.operator.caller.principalArn,
      reason: input.reason,
      now: deps.clock.now(),
    });
    if (revoked.ok) return ok(revoked.value);
    switch (revoked.refusal.kind) {
      // Ended (or purged) between the read and the write: answer with what it is now.
      case 'AlreadyTerminal':
        return refuse({
          kind: 'AlreadyTerminal',
          status: revoked.refusal.status,
          session: revoked.refusal.session,
        });
      default:
        return refuse({ kind: 'SessionNotFound' });
    }
  };
