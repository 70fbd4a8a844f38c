/**
 * The access policy's say on one vend (create or refresh), before anything is written or issued. A refusal
 * is published as VendDenied on the fast path (denials are what auditors ask for first), counted and logged.
 */
import { type AccessPolicy, type Decision, evaluate } from '../domain/access-policy.js';
import { vendDenied } from '../domain/events.js';
import type { CallerIdentity } from '../domain/identity.js';
import { ok, type Result, refuse } from '../domain/result.js';
import type { VendDeps } from './vend-deps.js';
import type { VendRefusal } from './vend-outcome.js';
import { publishSafely } from './vend-publish.js';

export interface VendAttempt {
  readonly action: 'create' | 'refresh';
  readonly caller: CallerIdentity;
  readonly profile: string;
  /** The session a refresh is for; null for a create. */
  readonly sessionId: string | null;
  readonly at: Date;
}

export type AllowDecision = Decision & { readonly effect: 'allow'; readonly rule: string };

export const authorizeVend = async (
  deps: Pick<VendDeps, 'publisher' | 'telemetry'>,
  policy: AccessPolicy,
  attempt: VendAttempt,
): Promise<Result<AllowDecision, VendRefusal>> => {
  const { caller, profile, at } = attempt;
  const decision = evaluate(policy, {
    principalArn: caller.principalArn,
    accountId: caller.accountId,
    orgId: caller.orgId,
    user: caller.user,
    profile,
    at,
  });
  if (decision.effect === 'allow' && decision.rule !== undefined) {
    return ok({ ...decision, effect: 'allow', rule: decision.rule });
  }
  await denied(deps, attempt, {
    rule: decision.rule ?? null,
    reason: decision.reason,
    policyVersion: String(decision.policyVersion),
  });
  return refuse({ kind: 'AccessDenied', rule: decision.rule ?? null, reason: decision.reason });
};

/** A vend refused by the access policy (or for want of one): counted, logged and announced as VendDenied. */
const denied = async (
  deps: Pick<VendDeps, 'publisher' | 'telemetry'>,
  attempt: VendAttempt,
  why: { readonly rule: string | null; readonly reason: string; readonly policyVersion: string | null },
): Promise<void> => {
  deps.telemetry.count('VendDenied');
  deps.telemetry.warn('vend denied by the access policy', {
    action: attempt.action,
    profile: attempt.profile,
    rule: why.rule,
    reason: why.reason,
    policyVersion: why.policyVersion,
  });
  await publishSafely(deps, [
    vendDenied({
      principalArn: attempt.caller.principalArn,
      user: attempt.caller.user,
      profile: attempt.profile,
      sessionId: attempt.sessionId,
      action: attempt.action,
      rule: why.rule,
      reason: why.reason,
      policyVersion: why.policyVersion,
      at: attempt.at,
    }),
  ]);
};
