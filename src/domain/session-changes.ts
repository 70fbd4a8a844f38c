/**
 * What one change of a session row means, decided without I/O: the workflow calls it asks for and the
 * events it produces. The stream consumer (src/handlers/stream) reads the change from a stream record, runs
 * the calls and publishes the events.
 */
import {
  type SessionEvent,
  sessionExpired,
  sessionPurged,
  sessionRevoked,
  sessionStateChanged,
} from './events.js';
import type { Session } from './session.js';
import type { LifecycleInput, RevocationFanoutInput } from './workflows.js';

interface ChangeCommon {
  readonly eventId: string;
  readonly sessionId: string;
  /** When the write happened, to the second (the stream's ApproximateCreationDateTime). */
  readonly at: Date;
}

/** One write to a session row, as the table's stream reports it. */
export type SessionChange =
  | (ChangeCommon & { readonly kind: 'inserted'; readonly session: Session })
  | (ChangeCommon & { readonly kind: 'modified'; readonly before: Session; readonly after: Session })
  | (ChangeCommon & { readonly kind: 'removed'; readonly before: Session; readonly byTtl: boolean });

/** A workflow call a change asks for, run in order. */
export type WorkflowStep =
  | { readonly kind: 'startLifecycle'; readonly input: LifecycleInput }
  | { readonly kind: 'stopLifecycle'; readonly sessionId: string; readonly cause: string }
  | { readonly kind: 'startRevocationFanout'; readonly input: RevocationFanoutInput };

export interface ChangeEffects {
  readonly workflow: readonly WorkflowStep[];
  /** Audit events of the change, published first. */
  readonly events: readonly SessionEvent[];
  /**
   * The session's one terminal announcement (SessionExpired | SessionRevoked), published only after the
   * record's audit events were accepted: if an audit event is refused the record is retried with the
   * terminal event never sent, and once the terminal event is accepted nothing of the record is re-sent
   * (the stream eventID is remembered), so it reaches the bus once (invariant 2).
   */
  readonly terminal?: SessionEvent;
  /** Something an operator should look at, though it is not a failure. */
  readonly notice?: string;
}

/** Every event of the change, in publish order. */
export const eventsOf = (effects: ChangeEffects): SessionEvent[] =>
  effects.terminal ? [...effects.events, effects.terminal] : [...effects.events];

/**
 * What one session change means (pure). INSERT starts the lifecycle; active → revoked stops it, starts
 * the fan-out and announces SessionRevoked; active → expired announces SessionExpired (whoever expired
 * it: workflow, lazy refresh, operator); every status change is audited; touches are silent. A row
 * removed by TTL is audited, and an active one is the safety net's SessionExpired (ttl); a row deleted by
 * a caller is audited and flagged, never announced (no terminal transition happened).
 */
export const effectsOf = (change: SessionChange): ChangeEffects => {
  const streamEventId = change.eventId;
  switch (change.kind) {
    case 'inserted': {
      const { session } = change;
      const audit = sessionStateChanged(session, { fromStatus: null, streamEventId, at: change.at });
      if (session.status !== 'active') {
        return { workflow: [], events: [audit], notice: `session inserted as ${session.status}` };
      }
      const { sessionId, expiresAt, user, profile } = session;
      return {
        workflow: [{ kind: 'startLifecycle', input: { sessionId, expiresAt, user, profile } }],
        events: [audit],
      };
    }
    case 'modified': {
      const { before, after } = change;
      if (before.status === after.status) return { workflow: [], events: [] };
      const audit = sessionStateChanged(after, { fromStatus: before.status, streamEventId, at: change.at });
      if (before.status !== 'active') {
        const notice = `terminal session moved ${before.status} → ${after.status}`;
        return { workflow: [], events: [audit], notice };
      }
      if (after.status === 'revoked') {
        const revokedBy = after.revokedBy ?? 'unknown';
        const revokedAt = after.revokedAt ?? change.at.toISOString();
        const reason = after.revokedReason ?? '';
        return {
          workflow: [
            { kind: 'stopLifecycle', sessionId: after.sessionId, cause: `Session revoked by ${revokedBy}` },
            {
              kind: 'startRevocationFanout',
              input: {
                sessionId: after.sessionId,
                user: after.user,
                profile: after.profile,
                revokedAt,
                revokedBy,
                reason,
              },
            },
          ],
          events: [audit],
          terminal: sessionRevoked({ ...after, revokedAt, revokedBy, reason }, new Date(revokedAt)),
        };
      }
      // active → expired needs no workflow call: the lifecycle execution (possibly the expirer itself)
      // ends on its own. The store always writes expiredReason; a row without one was expired by hand.
      const reason = after.expiredReason ?? 'forced';
      const terminal = sessionExpired(after, reason, after.expiredAt ? new Date(after.expiredAt) : change.at);
      return {
        workflow: [],
        events: [audit],
        terminal,
        ...(after.expiredReason
          ? {}
          : { notice: 'session expired without expiredReason (announced as forced)' }),
      };
    }
    case 'removed': {
      const { before } = change;
      const purged = sessionPurged(before, { streamEventId, at: change.at });
      if (!change.byTtl) {
        // Not a lifecycle transition: audit it and say so, but announce nothing (a 'forced' expiry here
        // would be a terminal event no conditional write stands behind).
        const notice =
          before.status === 'active'
            ? 'active session row deleted by a caller, not by TTL: audited as SessionPurged, no terminal event'
            : `session row (${before.status}) deleted by a caller, not by TTL: audited as SessionPurged`;
        return { workflow: [], events: [purged], notice };
      }
      if (before.status !== 'active') return { workflow: [], events: [purged] };
      return { workflow: [], events: [purged], terminal: sessionExpired(before, 'ttl', change.at) };
    }
  }
};
