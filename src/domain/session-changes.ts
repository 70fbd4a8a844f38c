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
import { expiryNeedsEnforcement } from './reconcile.js';
import type { Session } from './session.js';
import type { LifecycleInput, PerSessionExecutionsMode, RevocationFanoutInput } from './workflows.js';

interface ChangeCommon {
  readonly eventId: string;
  readonly sessionId: string;
  /** When the write happened, to the second (the stream's ApproximateCreationDateTime). */
  readonly at: Date;
  /**
   * What was wrong with the images when they were not well-formed rows (each named): the change was read
   * as far as possible, with the gaps filled in, so a revocation is never skipped for a malformed row.
   */
  readonly problems?: readonly string[];
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
  /** Something that must never happen and did: logged as an error and counted under `metric` (alarmed). */
  readonly alarm?: { readonly metric: 'TerminalToActive'; readonly message: string };
}

/** Every event of the change, in publish order. */
export const eventsOf = (effects: ChangeEffects): SessionEvent[] =>
  effects.terminal ? [...effects.events, effects.terminal] : [...effects.events];

export interface EffectsOptions {
  /**
   * `disabled`: sessions get no lifecycle execution (the sweeper and lazy expiry do all expiry), so none is
   * started or stopped; revocation fan-out is unchanged. Default `enabled`.
   */
  readonly perSessionExecutions?: PerSessionExecutionsMode;
}

/** The StopExecution cause of a lifecycle execution whose session ended another way (shown in the console). */
export const stopCauseOf = (
  ended:
    | { readonly kind: 'revoked'; readonly by: string }
    | { readonly kind: 'expired'; readonly reason: string }
    | { readonly kind: 'purged' },
): string => {
  switch (ended.kind) {
    case 'revoked':
      return `Session revoked by ${ended.by}`;
    case 'expired':
      return `Session expired (${ended.reason})`;
    case 'purged':
      return 'Session row removed by TTL while still active';
  }
};

/** `revokedBy` of the fan-out input of an early expiry: the row names no operator for an expiry. */
export const expiryEnforcedBy = (reason: string): string => `expiry:${reason}`;

/**
 * What one session change means (pure). INSERT starts the lifecycle; active → revoked stops it, starts
 * the fan-out and announces SessionRevoked; active → expired stops it (unless it is the expirer itself)
 * and announces SessionExpired (whoever expired it: workflow, sweeper, lazy refresh, operator); every
 * status change is audited; touches are silent and never reach a workflow. A row removed by TTL is
 * audited, and an active one is the safety net's SessionExpired (ttl); a row deleted by a caller is audited
 * and flagged, never announced (no terminal transition happened). An early expiry (expiryNeedsEnforcement)
 * also starts the fan-out, so the session lands on the deny list. A terminal row that turns active again is
 * an alarm and is not acted on (invariant 1 says it cannot happen).
 */
export const effectsOf = (change: SessionChange, options: EffectsOptions = {}): ChangeEffects => {
  const effects = decideEffects(change);
  if (options.perSessionExecutions !== 'disabled') return effects;
  const workflow = effects.workflow.filter(
    (step) => step.kind !== 'startLifecycle' && step.kind !== 'stopLifecycle',
  );
  return { ...effects, workflow };
};

const decideEffects = (change: SessionChange): ChangeEffects => {
  const streamEventId = change.eventId;
  switch (change.kind) {
    case 'inserted': {
      const { session } = change;
      const audit = sessionStateChanged(session, { fromStatus: null, streamEventId, at: change.at });
      if (session.status !== 'active') {
        return { workflow: [], events: [audit], notice: `session inserted as ${session.status}` };
      }
      const { sessionId, maxExpiresAt, user, profile } = session;
      return {
        workflow: [{ kind: 'startLifecycle', input: { sessionId, maxExpiresAt, user, profile } }],
        events: [audit],
      };
    }
    case 'modified': {
      const { before, after } = change;
      if (before.status === after.status) return { workflow: [], events: [] };
      const audit = sessionStateChanged(after, { fromStatus: before.status, streamEventId, at: change.at });
      if (before.status !== 'active') {
        const message = `terminal session moved ${before.status} → ${after.status}`;
        // Never a new session: no lifecycle, no announcement. Whoever wrote it bypassed every API path.
        if (after.status === 'active') {
          return { workflow: [], events: [audit], alarm: { metric: 'TerminalToActive', message } };
        }
        return { workflow: [], events: [audit], notice: message };
      }
      if (after.status === 'revoked') {
        const revokedBy = after.revokedBy ?? 'unknown';
        const revokedAt = after.revokedAt ?? change.at.toISOString();
        const reason = after.revokedReason ?? '';
        return {
          workflow: [
            {
              kind: 'stopLifecycle',
              sessionId: after.sessionId,
              cause: stopCauseOf({ kind: 'revoked', by: revokedBy }),
            },
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
      // The store always writes expiredReason; a row without one was expired by hand. The lifecycle
      // execution sleeps until the hard cap, so whoever expired the session first stops it, unless it was
      // the execution itself (reason workflow), which has ended already.
      const reason = after.expiredReason ?? 'forced';
      const endedAt = after.expiredAt ? new Date(after.expiredAt) : change.at;
      const terminal = sessionExpired(after, reason, endedAt);
      const workflow: WorkflowStep[] =
        reason === 'workflow'
          ? []
          : [
              {
                kind: 'stopLifecycle',
                sessionId: after.sessionId,
                cause: stopCauseOf({ kind: 'expired', reason }),
              },
            ];
      if (expiryNeedsEnforcement(after, reason, endedAt)) {
        workflow.push({
          kind: 'startRevocationFanout',
          input: {
            sessionId: after.sessionId,
            user: after.user,
            profile: after.profile,
            revokedAt: endedAt.toISOString(),
            revokedBy: expiryEnforcedBy(reason),
            reason: `expired early (${reason})`,
          },
        });
      }
      return {
        workflow,
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
      return {
        workflow: [
          { kind: 'stopLifecycle', sessionId: before.sessionId, cause: stopCauseOf({ kind: 'purged' }) },
        ],
        events: [purged],
        terminal: sessionExpired(before, 'ttl', change.at),
      };
    }
  }
};
