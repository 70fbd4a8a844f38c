/**
 * Enforcing a revocation: the revoked session's id goes on its profile role's deny list until no credential
 * carrying its tag can be alive (expiresAt + the role-chaining hour). Called by the revocation-fanout
 * workflow with the session row's roleArn and expiresAt.
 */
import { isRoleArn } from '../domain/arn.js';
import { denyUntil } from '../domain/deny-list.js';
import { DomainError } from '../domain/errors.js';
import { isSessionId } from '../domain/ids.js';
import type { AccessEnforcer } from '../ports.js';

/** The workflow passed something that is not `{sessionId, roleArn, expiresAt}`: a bug, never retried. */
export class InvalidEnforcementInputError extends DomainError {
  override readonly name = 'InvalidEnforcementInputError';
  readonly code = 'InvalidEnforcementInput';
}

export interface EnforcementInput {
  readonly sessionId: string;
  readonly roleArn: string;
  readonly expiresAt: string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

export const parseEnforcementInput = (value: unknown): EnforcementInput => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidEnforcementInputError('input must be an object {sessionId, roleArn, expiresAt}');
  }
  const { sessionId, roleArn, expiresAt } = value as Record<string, unknown>;
  if (!isSessionId(sessionId)) {
    throw new InvalidEnforcementInputError('sessionId must be 32 lowercase hex characters');
  }
  if (!isRoleArn(roleArn)) {
    throw new InvalidEnforcementInputError('roleArn must be an IAM role ARN');
  }
  if (typeof expiresAt !== 'string' || !ISO_INSTANT.test(expiresAt) || Number.isNaN(Date.parse(expiresAt))) {
    throw new InvalidEnforcementInputError('expiresAt must be an ISO-8601 UTC instant');
  }
  return { sessionId, roleArn, expiresAt };
};

export interface EnforcementResult {
  readonly sessionId: string;
  readonly roleArn: string;
  readonly deniedUntil: string;
  readonly alreadyDenied: boolean;
}

export const createRevocationEnforcer =
  (deps: { readonly enforcer: AccessEnforcer }) =>
  async (raw: unknown): Promise<EnforcementResult> => {
    const input = parseEnforcementInput(raw);
    const until = denyUntil(input.expiresAt);
    const { alreadyDenied } = await deps.enforcer.denySession({
      roleArn: input.roleArn,
      sessionId: input.sessionId,
      until,
    });
    return { sessionId: input.sessionId, roleArn: input.roleArn, deniedUntil: until, alreadyDenied };
  };
