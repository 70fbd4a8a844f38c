/**
 * The revocation reconciler (docs/design.md, "Reconciler"): every revoked or force-expired session whose
 * credentials may still be live is compared with its role's deny list, and what is missing is re-enforced
 * through the enforcer's own use case (same IAM path, same idempotency). So a fan-out that failed, or never
 * started, heals by itself on the next pass.
 *
 * Bounded per run: at most `maxHeals` re-enforcements (each is several IAM and DynamoDB calls) and
 * `maxSessions` sessions checked, newest revocation first (their credentials have the longest left to live),
 * and it stops starting work when `shouldStop` says the time is up. Nothing is remembered between runs: a
 * healed session reads as covered on the next pass, so a backlog drains run after run. An error on one session
 * is recorded in the report and the run goes on; only a listing that fails fails the run.
 */
import type { Clock } from '../domain/clock.js';
import { describeError } from '../domain/errors.js';
import {
  type Coverage,
  coverageOf,
  type DenyListState,
  enforceableSince,
  enforcementTargetOf,
  fanOutMayBeRunning,
  type MissingReason,
} from '../domain/reconcile.js';
import type { DenyListSource, RevocationEnforcement, SessionStore } from '../ports.js';

export interface ReconcileLimits {
  /** Re-enforcements attempted per run (healed or failed). */
  readonly maxHeals: number;
  /** Sessions checked per run. */
  readonly maxSessions: number;
  /** Sessions per listing page. */
  readonly pageSize: number;
}

export const DEFAULT_RECONCILE_LIMITS: ReconcileLimits = { maxHeals: 100, maxSessions: 5000, pageSize: 100 };

export interface ReconcileDeps {
  readonly store: Pick<SessionStore, 'listEnforceable'>;
  readonly denyLists: DenyListSource;
  /** The enforcer: the deployed function (src/adapters/lambda-revocation-enforcer.ts), or its use case. */
  readonly enforce: RevocationEnforcement;
  readonly clock: Clock;
  readonly limits?: ReconcileLimits;
  /** True when the run must start no more work (the Lambda's time is nearly up). */
  readonly shouldStop?: () => boolean;
}

export interface HealedSession {
  readonly sessionId: string;
  readonly roleArn: string;
  readonly reason: MissingReason;
  readonly deniedUntil: string;
  /** The enforcer found it denied already (a fan-out finished meanwhile). */
  readonly alreadyDenied: boolean;
}

export interface FailedSession {
  readonly sessionId: string;
  readonly roleArn: string;
  /** `check`: its role's deny list could not be read; `heal`: the re-enforcement failed. */
  readonly stage: 'check' | 'heal';
  readonly error: Readonly<Record<string, string>>;
}

export interface ReconcileReport {
  /** Sessions enforced after this instant were checked. */
  readonly since: string;
  readonly checked: number;
  /** On the list IAM accepted, until late enough. */
  readonly denied: number;
  /** Not listed, but under the role-wide token-issue-time cut IAM accepted. */
  readonly deniedByTokenIssueTime: number;
  /** No credential of theirs can be alive any more. */
  readonly lapsed: number;
  /** Enforced less than a minute ago, their fan-out possibly still running: checked by the next run. */
  readonly inFlight: number;
  readonly healed: readonly HealedSession[];
  readonly failed: readonly FailedSession[];
  /** Missing, but left for the next run (the heal bound was reached). */
  readonly deferred: number;
  /** Why the run stopped before the end of the listing, if it did. */
  readonly stoppedBy?: 'session-limit' | 'deadline';
}

export const createRevocationReconciler = (deps: ReconcileDeps) => async (): Promise<ReconcileReport> => {
  const limits = deps.limits ?? DEFAULT_RECONCILE_LIMITS;
  const now = deps.clock.now();
  const since = enforceableSince(now);
  // One read per role and run; a heal re-reads its role (the row moved on).
  const rows = new Map<string, Promise<DenyListState>>();
  const stateOf = (roleArn: string): Promise<DenyListState> => {
    let row = rows.get(roleArn);
    if (row === undefined) {
      row = deps.denyLists.read(roleArn);
      rows.set(roleArn, row);
    }
    return row;
  };

  const healed: HealedSession[] = [];
  const failed: FailedSession[] = [];
  const tally = { checked: 0, denied: 0, deniedByTokenIssueTime: 0, lapsed: 0, inFlight: 0, deferred: 0 };
  let healAttempts = 0;
  let stoppedBy: ReconcileReport['stoppedBy'];
  let cursor: string | undefined;

  listing: do {
    const page = await deps.store.listEnforceable(since, {
      limit: limits.pageSize,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const session of page.items) {
      if (tally.checked >= limits.maxSessions) {
        stoppedBy = 'session-limit';
        break listing;
      }
      if (deps.shouldStop?.()) {
        stoppedBy = 'deadline';
        break listing;
      }
      const target = enforcementTargetOf(session, now);
      if (target === undefined) continue;
      if (fanOutMayBeRunning(target.since, now)) {
        tally.inFlight++;
        continue;
      }
      tally.checked++;
      const { sessionId, roleArn } = target;
      let coverage: Coverage;
      try {
        coverage = coverageOf(target, await stateOf(roleArn), now);
      } catch (error) {
        failed.push({ sessionId, roleArn, stage: 'check', error: describeError(error) });
        continue;
      }
      if (coverage.kind === 'lapsed') tally.lapsed++;
      else if (coverage.kind === 'listed') tally.denied++;
      else if (coverage.kind === 'token-issue-time') tally.deniedByTokenIssueTime++;
      else if (healAttempts >= limits.maxHeals) tally.deferred++;
      else {
        healAttempts++;
        try {
          const result = await deps.enforce({
            sessionId,
            roleArn,
            expiresAt: target.expiresAt,
            // The enforcement start (revocation or forced expiry) bounds the deny; the enforcer never
            // shortens it below its own clock's reading.
            revokedAt: target.since,
          });
          healed.push({
            sessionId,
            roleArn,
            reason: coverage.reason,
            deniedUntil: result.deniedUntil,
            alreadyDenied: result.alreadyDenied,
          });
        } catch (error) {
          failed.push({ sessionId, roleArn, stage: 'heal', error: describeError(error) });
        }
        rows.delete(roleArn);
      }
    }
    cursor = page.cursor;
  } while (cursor !== undefined);

  return {
    since: since.toISOString(),
    ...tally,
    healed,
    failed,
    ...(stoppedBy === undefined ? {} : { stoppedBy }),
  };
};
