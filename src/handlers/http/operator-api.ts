/**
 * The operator API behind the HTTP API: list, show, revoke one, revoke a user. Routes, authenticates with
 * the same IAM identity rules as vending, decides admin rights from the access policy, runs one use case
 * and maps its outcome. Everything AWS-specific arrives as ports, so tests and the local stack run this code.
 */
import type { Context } from 'aws-lambda';
import { type AccessPolicy, isAdmin } from '../../domain/access-policy.js';
import { describeError, InvalidCursorError } from '../../domain/errors.js';
import type { Operator } from '../../domain/operators.js';
import type { AccessPolicySource, Clock, SessionStore } from '../../ports.js';
import { listSessions } from '../../usecases/list-sessions.js';
import { revokeOneSession } from '../../usecases/revoke-session.js';
import { revokeUserSessions } from '../../usecases/revoke-user-sessions.js';
import { showSession } from '../../usecases/show-session.js';
import { HttpRequestError } from './errors.js';
import {
  type HttpApiEvent,
  type HttpResult,
  LIST_ROUTE,
  REVOKE_ROUTE,
  REVOKE_USER_ROUTE,
  SHOW_ROUTE,
} from './event.js';
import { parseListRequest, parseReasonBody, requireNoBody, sessionIdOf, userOf } from './operator-request.js';
import {
  type ExecutionLinks,
  listResponse,
  operatorRefusalResponse,
  revokedResponse,
  revokeUserResponse,
  showResponse,
} from './operator-response.js';
import { policyOrUnavailable } from './policy.js';
import { callerOf } from './request.js';
import { errorResponse } from './response.js';
import type { ApiTelemetry } from './telemetry.js';

/**
 * Time left in the invocation below which revoke-user starts no further revocation, so it can still
 * answer (with `complete: false`) before API Gateway's 30 s integration timeout or the function's own.
 */
export const REVOKE_USER_RESERVE_MS = 5_000;

export type OperatorMetric =
  /** Sessions revoked through the API (one revoke, or each of a revoke-user). */
  | 'SessionRevokedByOperator'
  /** Revocations of a revoke-user that failed (store errors); the run reports them. */
  | 'OperatorRevokeFailed';

export type OperatorApiTelemetry = ApiTelemetry<OperatorMetric>;

export interface OperatorApiDeps {
  readonly store: SessionStore;
  readonly clock: Clock;
  readonly policy: AccessPolicySource;
  readonly telemetry: OperatorApiTelemetry;
  readonly executions: ExecutionLinks;
}

export const createOperatorApi = (deps: OperatorApiDeps) => {
  const { telemetry } = deps;
  const list = listSessions(deps);
  const show = showSession(deps);
  const revoke = revokeOneSession(deps);
  const revokeUser = revokeUserSessions({
    ...deps,
    log: { failed: (sessionId, error) => telemetry.error('revocation failed', { sessionId, ...error }) },
  });

  const route = async (
    routeKey: string,
    event: HttpApiEvent,
    policy: AccessPolicy | undefined,
    context: Context | undefined,
  ): Promise<HttpResult> => {
    const identity = policy ? { identityRoles: policy.identityRoles } : {};
    const caller = callerOf(event, identity);
    telemetry.correlate({ user: caller.user });
    const operator: Operator = {
      caller,
      role: policy === undefined ? 'unknown' : isAdmin(policy, caller.principalArn) ? 'admin' : 'owner-only',
    };
    switch (routeKey) {
      case LIST_ROUTE: {
        requireNoBody(event);
        const request = parseListRequest(event, identity);
        const result = await list({ operator, ...request });
        return result.ok ? listResponse(result.value) : operatorRefusalResponse(result.refusal);
      }
      case SHOW_ROUTE: {
        requireNoBody(event);
        const sessionId = sessionIdOf(event);
        telemetry.session(sessionId);
        const result = await show({ operator, sessionId });
        return result.ok
          ? showResponse(result.value, deps.executions)
          : operatorRefusalResponse(result.refusal);
      }
      case REVOKE_ROUTE: {
        const sessionId = sessionIdOf(event);
        telemetry.session(sessionId);
        const { reason } = parseReasonBody(event);
        const result = await revoke({ operator, sessionId, reason });
        if (!result.ok) return operatorRefusalResponse(result.refusal);
        telemetry.count('SessionRevokedByOperator');
        telemetry.info('session revoked', {
          revokedBy: caller.principalArn,
          admin: operator.role === 'admin',
        });
        return revokedResponse(result.value);
      }
      default: {
        const user = userOf(event);
        const { reason } = parseReasonBody(event);
        const result = await revokeUser({
          operator,
          user,
          reason,
          ...(context
            ? { outOfTime: () => context.getRemainingTimeInMillis() < REVOKE_USER_RESERVE_MS }
            : {}),
        });
        if (!result.ok) return operatorRefusalResponse(result.refusal);
        const { revoked, alreadyTerminal, failed, complete } = result.value;
        telemetry.count('SessionRevokedByOperator', revoked);
        if (failed > 0) telemetry.count('OperatorRevokeFailed', failed);
        telemetry.info('user revoked', { revokedUser: user, revoked, alreadyTerminal, failed, complete });
        return revokeUserResponse(result.value);
      }
    }
  };

  return async (event: HttpApiEvent, context?: Context): Promise<HttpResult> => {
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    telemetry.correlate({ requestId });
    let response: HttpResult;
    try {
      const routeKey = event.routeKey ?? event.requestContext?.routeKey;
      if (
        routeKey !== LIST_ROUTE &&
        routeKey !== SHOW_ROUTE &&
        routeKey !== REVOKE_ROUTE &&
        routeKey !== REVOKE_USER_ROUTE
      ) {
        throw new HttpRequestError(404, 'RouteNotFound', 'no such route');
      }
      response = await route(routeKey, event, await policyOrUnavailable(deps.policy), context);
    } catch (error) {
      response = errorToResponse(error, telemetry);
    }
    const level = response.statusCode >= 500 ? 'error' : 'info';
    telemetry[level]('request done', { statusCode: response.statusCode });
    return response;
  };
};

/** An AWS SDK service error (it carries `$metadata`): the store is having trouble, the caller may retry. */
const isAwsServiceError = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && '$metadata' in error;

const errorToResponse = (error: unknown, telemetry: OperatorApiTelemetry): HttpResult => {
  if (error instanceof HttpRequestError) return errorResponse(error.statusCode, error.code, error.message);
  if (error instanceof InvalidCursorError)
    return errorResponse(400, 'InvalidCursor', 'the cursor is not one this API issued for this listing');
  if (isAwsServiceError(error)) {
    telemetry.error('session store failed', describeError(error));
    return errorResponse(503, 'SessionStoreUnavailable', 'the session store is unavailable; retry later');
  }
  telemetry.error('unexpected failure', describeError(error));
  return errorResponse(500, 'InternalError', 'internal error');
};
