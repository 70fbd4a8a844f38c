/**
 * Session authorizer Lambda: a downstream service puts it in front of its own API so that only callers whose
 * sentinel session is active get through (docs/design.md, "Downstream verifier"). One function serves:
 * - HTTP APIs: Lambda authorizer, payload format 2.0, simple responses (`{isAuthorized, context}`);
 * - REST APIs: TOKEN or REQUEST Lambda authorizer, answered with an IAM policy that allows or denies
 *   execute-api:Invoke on the one method called.
 *
 * The caller proves who it is with a presigned STS GetCallerIdentity request in the Authorization header
 * (http/caller-identity-token.ts); STS names the caller's ARN, and usecases/verify-session decides. Every
 * failure is a deny (fail closed), logged without the token, and counted under its outcome.
 * Set the API's authorizer result cache to 0 s (or at most VERIFIER_ALLOW_CACHE_SECONDS): API Gateway caches
 * by token, and a cached allow outlives a revocation.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoDbSessionStore } from '../adapters/dynamodb-session-store.js';
import { documentClient } from '../commons/clients.js';
import { type Env, intEnv, requireEnv } from '../commons/env.js';
import {
  counter,
  createObservability,
  type Observability,
  withObservability,
} from '../commons/powertools.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { ConfigurationError } from '../domain/errors.js';
import {
  createSessionVerifier,
  DEFAULT_ALLOW_CACHE_SECONDS,
  MAX_ALLOW_CACHE_SECONDS,
  type VerifyDecision,
} from '../usecases/verify-session.js';
import {
  CallerIdentityUnavailableError,
  type FetchLike,
  InvalidCallerTokenError,
  resolveCallerArn,
} from './http/caller-identity-token.js';

export interface SessionAuthorizerConfig {
  readonly sessionsTableName: string;
  /** Seconds an allow is reused without reading the table (0-5; 0 = never). */
  readonly allowCacheSeconds: number;
  /** What callers sign into x-sentinel-audience: unique per protected API (its id or URL). */
  readonly audience: string;
}

const AUDIENCE = /^[\x21-\x7e]{1,256}$/;

/** Configuration from the environment; anything invalid fails the cold start naming the variable. */
export const sessionAuthorizerConfigFromEnv = (env: Env = process.env): SessionAuthorizerConfig => {
  const audience = requireEnv('VERIFIER_AUDIENCE', env).trim();
  if (!AUDIENCE.test(audience)) {
    throw new ConfigurationError(
      'environment variable VERIFIER_AUDIENCE must be 1-256 printable ASCII characters',
    );
  }
  return {
    sessionsTableName: requireEnv('SESSIONS_TABLE_NAME', env),
    allowCacheSeconds: intEnv(
      'VERIFIER_ALLOW_CACHE_SECONDS',
      { min: 0, max: MAX_ALLOW_CACHE_SECONDS, fallback: DEFAULT_ALLOW_CACHE_SECONDS },
      env,
    ),
    audience,
  };
};

export interface SessionAuthorizerClients {
  readonly documentClient: DynamoDBDocumentClient;
  /** How STS is asked who signed a token (global fetch in Lambda; a fake in tests). */
  readonly fetch: FetchLike;
}

/** HTTP API Lambda authorizer event, payload format 2.0 (the fields read here). */
export interface HttpApiAuthorizerEvent {
  readonly version: '2.0';
  readonly type?: string;
  readonly routeArn?: string;
  readonly identitySource?: readonly string[] | null;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
}

/** REST API Lambda authorizer event, TOKEN or REQUEST (the fields read here). */
export interface RestAuthorizerEvent {
  readonly type: 'TOKEN' | 'REQUEST';
  readonly methodArn: string;
  /** TOKEN: the token source header's value. */
  readonly authorizationToken?: string;
  /** REQUEST: the request's headers, names as the caller wrote them. */
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
}

export interface HttpApiSimpleResponse {
  readonly isAuthorized: boolean;
  readonly context: Readonly<Record<string, string>>;
}

export interface RestAuthorizerResponse {
  readonly principalId: string;
  readonly policyDocument: {
    readonly Version: '2012-10-17';
    readonly Statement: readonly [
      { readonly Action: 'execute-api:Invoke'; readonly Effect: 'Allow' | 'Deny'; readonly Resource: string },
    ];
  };
  readonly context: Readonly<Record<string, string>>;
}

export type AuthorizerOutcome =
  | VerifyDecision['outcome']
  | 'MissingCallerToken'
  | 'InvalidCallerToken'
  | 'CallerIdentityUnavailable';

export type SessionAuthorizerHandler = (
  event: HttpApiAuthorizerEvent | RestAuthorizerEvent,
  context: Context,
) => Promise<HttpApiSimpleResponse | RestAuthorizerResponse>;

/** How long STS gets to answer: well inside the authorizer's 10 s. */
const STS_TIMEOUT_MS = 3000;

const headerOf = (headers: Readonly<Record<string, string | undefined>> | null | undefined, name: string) =>
  Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];

const isRestEvent = (event: unknown): event is RestAuthorizerEvent => {
  const e = event as Partial<RestAuthorizerEvent> | null;
  return (e?.type === 'TOKEN' || e?.type === 'REQUEST') && typeof e.methodArn === 'string';
};

interface Verdict {
  readonly outcome: AuthorizerOutcome;
  readonly callerArn?: string;
  readonly decision?: VerifyDecision;
}

export const createSessionAuthorizerHandler = (options: {
  readonly config: SessionAuthorizerConfig;
  readonly clients: SessionAuthorizerClients;
  readonly observability: Observability;
  readonly clock?: Clock;
}): SessionAuthorizerHandler => {
  const { config, clients, observability } = options;
  const { logger } = observability;
  const clock = options.clock ?? systemClock;
  const count = counter(observability.metrics);
  const verifier = createSessionVerifier({
    store: new DynamoDbSessionStore({
      documentClient: clients.documentClient,
      tableName: config.sessionsTableName,
    }),
    clock,
    allowCacheSeconds: config.allowCacheSeconds,
  });

  const judge = async (token: string | undefined): Promise<Verdict> => {
    if (token === undefined || token.trim() === '') return { outcome: 'MissingCallerToken' };
    let callerArn: string;
    try {
      callerArn = await resolveCallerArn(token, {
        audience: config.audience,
        now: clock.now(),
        fetch: clients.fetch,
        timeoutMs: STS_TIMEOUT_MS,
      });
    } catch (error) {
      const outcome =
        error instanceof InvalidCallerTokenError ? 'InvalidCallerToken' : 'CallerIdentityUnavailable';
      if (error instanceof InvalidCallerTokenError || error instanceof CallerIdentityUnavailableError) {
        // Our own messages: they describe the token's shape or STS's answer, never echo the token.
        logger.warn('session authorizer denied', { outcome, detail: error.message });
      } else {
        // Anything else is a bug; its message is not ours to vouch for, so only its name is logged.
        logger.error('session authorizer denied: caller identity check failed unexpectedly', {
          outcome,
          errorName: error instanceof Error ? error.name : typeof error,
        });
      }
      return { outcome };
    }
    const decision = await verifier.verify(callerArn);
    const facts = {
      outcome: decision.outcome,
      callerArn,
      ...(decision.allowed
        ? { sessionId: decision.session.sessionId, cached: decision.cached }
        : { sessionId: decision.sessionId, detail: decision.detail }),
    };
    if (decision.allowed) logger.info('session authorizer allowed', facts);
    else logger.warn('session authorizer denied', facts);
    return { outcome: decision.outcome, callerArn, decision };
  };

  const contextOf = (verdict: Verdict): Record<string, string> =>
    verdict.decision?.allowed
      ? {
          outcome: verdict.outcome,
          sessionId: verdict.decision.session.sessionId,
          user: verdict.decision.session.user,
          profile: verdict.decision.session.profile,
          expiresAt: verdict.decision.session.expiresAt,
        }
      : { outcome: verdict.outcome };

  return withObservability(observability, async (event: HttpApiAuthorizerEvent | RestAuthorizerEvent) => {
    if (isRestEvent(event)) {
      const token =
        event.type === 'TOKEN' ? event.authorizationToken : headerOf(event.headers, 'authorization');
      const verdict = await judge(token);
      count(`SessionAuthorizer${verdict.outcome}`);
      const allowed = verdict.decision?.allowed === true;
      return {
        principalId: allowed && verdict.callerArn !== undefined ? verdict.callerArn : 'unauthenticated',
        policyDocument: {
          Version: '2012-10-17',
          // The one method called, never a wildcard: a cached policy must not open other methods.
          Statement: [
            { Action: 'execute-api:Invoke', Effect: allowed ? 'Allow' : 'Deny', Resource: event.methodArn },
          ],
        },
        context: contextOf(verdict),
      } satisfies RestAuthorizerResponse;
    }
    if ((event as Partial<HttpApiAuthorizerEvent> | null)?.version === '2.0') {
      const verdict = await judge(headerOf(event.headers, 'authorization') ?? event.identitySource?.[0]);
      count(`SessionAuthorizer${verdict.outcome}`);
      return { isAuthorized: verdict.decision?.allowed === true, context: contextOf(verdict) };
    }
    // Neither shape: nothing to answer with but a deny in the HTTP API's simple form.
    count('SessionAuthorizerUnrecognisedEvent');
    logger.error('session authorizer got an event it does not recognise');
    return { isAuthorized: false, context: { outcome: 'UnrecognisedEvent' } };
  });
};

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
export const handler = createSessionAuthorizerHandler({
  config: sessionAuthorizerConfigFromEnv(),
  clients: { documentClient: documentClient(), fetch: (url, init) => fetch(url, init) },
  observability: createObservability(),
});
