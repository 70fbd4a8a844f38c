/**
 * The vend API behind the HTTP API: route, authenticate, parse, run the use case, map the outcome.
 * Everything AWS-specific arrives as ports, so tests and the local stack run the very same code.
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyUnknownError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { AccessPolicy } from '../../domain/access-policy.js';
import { describeError } from '../../domain/errors.js';
import type { CallerIdentity } from '../../domain/identity.js';
import type { AccessPolicySource } from '../../ports.js';
import { type CreateSessionInput, createSession, validateCreate } from '../../usecases/create-session.js';
import { LastKnownSessions } from '../../usecases/last-known-sessions.js';
import { refreshSession } from '../../usecases/refresh-session.js';
import type { VendDeps } from '../../usecases/vend-deps.js';
import type { Vended, VendRefusal } from '../../usecases/vend-outcome.js';
import type { VendTelemetry } from '../../usecases/vend-telemetry.js';
import { HttpRequestError } from './errors.js';
import { CREATE_ROUTE, type HttpApiEvent, type HttpResult, REFRESH_ROUTE } from './event.js';
import { policyOrUnavailable } from './policy.js';
import { callerOf, idempotencyKeyOf, parseCreateRequest, parseRefreshRequest } from './request.js';
import { errorResponse, refusalResponse, vendedResponse } from './response.js';

/**
 * How long a completed create stays replayable under its Idempotency-Key. The record holds no secret (only
 * the session id and its expiry), so the window is about client retries, not exposure: five minutes covers a
 * retry after a timeout.
 */
export const IDEMPOTENCY_TTL_SECONDS = 300;

export interface VendApiTelemetry extends VendTelemetry {
  /** Keys added to every log line of this request (requestId, user, sessionId). */
  correlate(keys: Readonly<Record<string, string>>): void;
}

export interface VendApiDeps extends Omit<VendDeps, 'telemetry' | 'lastKnown'> {
  readonly telemetry: VendApiTelemetry;
  /** The access policy: read (from its cache) on every request, before the caller is even named. */
  readonly policy: AccessPolicySource;
  /** Without it, an Idempotency-Key header is refused (the API never pretends to be idempotent). */
  readonly idempotency?: {
    readonly persistenceStore: BasePersistenceLayer;
    readonly expiresAfterSeconds?: number;
  };
}

/** A create refused by the use case, thrown through the idempotency wrapper so no record is kept for it. */
class CreateRefusedError extends Error {
  override readonly name = 'CreateRefusedError';
  constructor(readonly refusal: VendRefusal) {
    super(`create refused: ${refusal.kind}`);
  }
}

/**
 * What the idempotency record is keyed and checked on. The key is scoped by the caller (user, principal ARN
 * and the client's key): another principal sending the same Idempotency-Key gets its own record and can
 * never replay someone else's session. The request part is the payload validation: the same key with a
 * different body is refused instead of answered with the first body's session.
 */
interface IdempotentCreatePayload {
  readonly scope: { readonly user: string; readonly principalArn: string; readonly key: string };
  readonly request: { readonly profile: string; readonly durationSeconds: number };
}

/**
 * What the idempotency record holds: enough to answer a replay, never a credential. A replay is answered
 * with fresh credentials for the same session through the refresh path, or with its terminal status.
 */
interface CreatedRecord {
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly replayed?: boolean;
}

/** Hands the first answer's credentials to the caller outside the idempotency record. */
interface CredentialsSink {
  vended?: Vended;
}

export const createVendApi = (deps: VendApiDeps) => {
  const lastKnown = new LastKnownSessions();
  const { telemetry } = deps;
  const create = createSession({ ...deps, lastKnown });
  const refresh = refreshSession({ ...deps, lastKnown });

  const idempotencyConfig = deps.idempotency
    ? new IdempotencyConfig({
        eventKeyJmesPath: 'scope',
        payloadValidationJmesPath: 'request',
        expiresAfterSeconds: Math.min(
          deps.idempotency.expiresAfterSeconds ?? IDEMPOTENCY_TTL_SECONDS,
          IDEMPOTENCY_TTL_SECONDS,
        ),
        hashFunction: 'sha256',
        throwOnNoIdempotencyKey: true,
        // Marks answers served from the record: they are answered through the refresh path.
        responseHook: (response) =>
          typeof response === 'object' && response !== null && !Array.isArray(response)
            ? { ...response, replayed: true }
            : response,
      })
    : undefined;

  const createOrThrow = async (
    _payload: IdempotentCreatePayload,
    input: CreateSessionInput,
    sink: CredentialsSink,
  ): Promise<CreatedRecord> => {
    const result = await create(input);
    if (!result.ok) throw new CreateRefusedError(result.refusal);
    sink.vended = result.value;
    return { sessionId: result.value.sessionId, expiresAt: result.value.expiresAt };
  };
  const idempotentCreate =
    deps.idempotency && idempotencyConfig
      ? makeIdempotent(createOrThrow, {
          persistenceStore: deps.idempotency.persistenceStore,
          config: idempotencyConfig,
          keyPrefix: 'vend.create',
          dataIndexArgument: 0,
        })
      : undefined;

  const handleCreate = async (
    event: HttpApiEvent,
    caller: CallerIdentity,
    policy: AccessPolicy,
    requestId: string,
    context?: Context,
  ): Promise<HttpResult> => {
    const request = parseCreateRequest(event);
    const key = idempotencyKeyOf(event);
    // Refusals that need no AWS call come first, so a bad request never reaches the idempotency table either.
    const checked = validateCreate(deps.profiles, request);
    if (!checked.ok) return refusalResponse(checked.refusal);
    const input: CreateSessionInput = {
      caller,
      policy,
      profile: request.profile,
      durationSeconds: request.durationSeconds,
      requestId,
    };
    if (key === undefined) {
      const result = await create(input);
      return result.ok ? vendedResponse(201, result.value) : refusalResponse(result.refusal);
    }
    if (!idempotentCreate || !idempotencyConfig) {
      throw new HttpRequestError(
        400,
        'IdempotencyNotSupported',
        'this deployment does not accept Idempotency-Key',
      );
    }
    if (context) idempotencyConfig.registerLambdaContext(context);
    const payload: IdempotentCreatePayload = {
      scope: { user: caller.user, principalArn: caller.principalArn, key },
      request: { profile: checked.value.profile.name, durationSeconds: checked.value.durationSeconds },
    };
    const sink: CredentialsSink = {};
    const record = await idempotentCreate(payload, input, sink);
    if (!record.replayed && sink.vended) return vendedResponse(201, sink.vended);
    // A replay: fresh credentials under the same session (refresh path, policy re-checked), or why not.
    telemetry.session(record.sessionId);
    telemetry.info('idempotent replay of a create');
    const replay = await refresh({
      caller,
      policy,
      sessionId: record.sessionId,
      profile: checked.value.profile.name,
    });
    if (!replay.ok) return refusalResponse(replay.refusal);
    const response = vendedResponse(201, replay.value);
    return { ...response, headers: { ...response.headers, 'idempotent-replayed': 'true' } };
  };

  const handleRefresh = async (
    event: HttpApiEvent,
    caller: CallerIdentity,
    policy: AccessPolicy,
  ): Promise<HttpResult> => {
    const request = parseRefreshRequest(event);
    telemetry.correlate({ sessionId: request.sessionId });
    if (idempotencyKeyOf(event) !== undefined) {
      throw new HttpRequestError(400, 'IdempotencyNotSupported', 'refresh does not take an Idempotency-Key');
    }
    const result = await refresh({ caller, policy, ...request });
    return result.ok ? vendedResponse(200, result.value) : refusalResponse(result.refusal);
  };

  return async (event: HttpApiEvent, context?: Context): Promise<HttpResult> => {
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
    telemetry.correlate({ requestId });
    let response: HttpResult;
    try {
      const route = event.routeKey ?? event.requestContext?.routeKey;
      if (route !== CREATE_ROUTE && route !== REFRESH_ROUTE) {
        throw new HttpRequestError(404, 'RouteNotFound', 'no such route');
      }
      const policy = await policyOrUnavailable(deps.policy);
      // Which roles name their user comes from the policy; without one, only the built-in identity roles.
      const caller = callerOf(event, policy ? { identityRoles: policy.identityRoles } : {});
      telemetry.correlate({ user: caller.user });
      if (!policy) {
        // Bad input still gets its 4xx; a well-formed vend is then refused for want of a policy.
        if (route === CREATE_ROUTE) parseCreateRequest(event);
        else parseRefreshRequest(event);
        telemetry.count('PolicyUnavailable');
        response = refusalResponse({ kind: 'PolicyUnavailable' });
      } else {
        response =
          route === CREATE_ROUTE
            ? await handleCreate(event, caller, policy, requestId, context)
            : await handleRefresh(event, caller, policy);
      }
    } catch (error) {
      response = errorToResponse(error, telemetry);
    }
    const level = response.statusCode >= 500 ? 'error' : 'info';
    telemetry[level]('request done', { statusCode: response.statusCode, ...codeOf(response) });
    return response;
  };
};

const codeOf = (response: HttpResult): { code?: string } => {
  if (response.statusCode < 400) return {};
  try {
    const { code } = JSON.parse(response.body) as { code?: unknown };
    return typeof code === 'string' ? { code } : {};
  } catch {
    return {};
  }
};

const errorToResponse = (error: unknown, telemetry: VendTelemetry): HttpResult => {
  if (error instanceof HttpRequestError) return errorResponse(error.statusCode, error.code, error.message);
  if (error instanceof CreateRefusedError) return refusalResponse(error.refusal);
  if (error instanceof IdempotencyValidationError) {
    return errorResponse(
      422,
      'IdempotencyKeyReused',
      'this Idempotency-Key was used with a different request body',
    );
  }
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return errorResponse(
      409,
      'IdempotencyRequestInProgress',
      'a request with this Idempotency-Key is still in progress; retry shortly',
    );
  }
  if (error instanceof IdempotencyUnknownError) {
    telemetry.error('idempotency store failed', describeError(error));
    return errorResponse(
      503,
      'IdempotencyStoreUnavailable',
      'the idempotency store is unavailable; retry later',
    );
  }
  telemetry.error('unexpected failure', describeError(error));
  return errorResponse(500, 'InternalError', 'internal error');
};
