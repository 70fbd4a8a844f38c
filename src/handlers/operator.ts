/**
 * Operator Lambda (same HTTP API and AWS_IAM authorizer as vend): GET /v1/sessions, GET /v1/sessions/{id},
 * POST /v1/sessions/{id}/revoke and POST /v1/users/{user}/revoke. Its own function so that vending keeps its
 * small bundle and neither role carries the other's permissions (this one may query the byUser and active
 * indexes; vend reads no index). Configuration is checked at init; the rest is http/operator-api.
 */
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { DEFAULT_POLICY_MAX_AGE_SECONDS, ssmPolicySource } from '../adapters/access-policy-source.js';
import { DynamoDbSessionStore } from '../adapters/dynamodb-session-store.js';
import { documentClient, sdkClientConfig } from '../commons/clients.js';
import { type Env, intEnv, optionalEnv, requireEnv } from '../commons/env.js';
import {
  counter,
  createObservability,
  type Observability,
  withObservability,
} from '../commons/powertools.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { ConfigurationError } from '../domain/errors.js';
import { executionArnFor, InvalidStateMachineArnError } from '../domain/executions.js';
import type { HttpApiEvent, HttpResult } from './http/event.js';
import { createOperatorApi, type OperatorMetric } from './http/operator-api.js';
import type { ExecutionLinks } from './http/operator-response.js';
import { powertoolsTelemetry } from './http/telemetry.js';

export interface OperatorConfig {
  readonly sessionsTableName: string;
  readonly accessPolicyParameterName: string;
  readonly accessPolicyMaxAgeSeconds: number;
  readonly executions: ExecutionLinks;
}

const stateMachineArnEnv = (name: string, value: string): string => {
  try {
    executionArnFor(value, 'probe');
    return value;
  } catch (error) {
    if (error instanceof InvalidStateMachineArnError) {
      throw new ConfigurationError(
        `environment variable ${name} must be a state machine ARN, got ${JSON.stringify(value)}`,
      );
    }
    throw error;
  }
};

/** The operator configuration from the environment; anything invalid fails naming the variable. */
export const operatorConfigFromEnv = (env: Env = process.env): OperatorConfig => {
  // Empty when per-session lifecycle executions are switched off: show then links no lifecycle execution.
  const lifecycle = optionalEnv('LIFECYCLE_STATE_MACHINE_ARN', '', env);
  return {
    sessionsTableName: requireEnv('SESSIONS_TABLE_NAME', env),
    accessPolicyParameterName: requireEnv('ACCESS_POLICY_PARAMETER', env),
    accessPolicyMaxAgeSeconds: intEnv(
      'ACCESS_POLICY_MAX_AGE_SECONDS',
      { min: 0, max: 3600, fallback: DEFAULT_POLICY_MAX_AGE_SECONDS },
      env,
    ),
    executions: {
      ...(lifecycle === ''
        ? {}
        : { lifecycleStateMachineArn: stateMachineArnEnv('LIFECYCLE_STATE_MACHINE_ARN', lifecycle) }),
      revocationFanoutStateMachineArn: stateMachineArnEnv(
        'REVOCATION_FANOUT_STATE_MACHINE_ARN',
        requireEnv('REVOCATION_FANOUT_STATE_MACHINE_ARN', env),
      ),
    },
  };
};

export interface OperatorClients {
  readonly documentClient: DynamoDBDocumentClient;
  readonly ssm: SSMProvider;
}

export const createOperatorHandler = (options: {
  readonly config: OperatorConfig;
  readonly clients: OperatorClients;
  readonly observability: Observability;
  readonly clock?: Clock;
}): ((event: HttpApiEvent, context: Context) => Promise<HttpResult>) => {
  const { config, clients, observability } = options;
  const clock = options.clock ?? systemClock;
  const api = createOperatorApi({
    store: new DynamoDbSessionStore({
      documentClient: clients.documentClient,
      tableName: config.sessionsTableName,
    }),
    clock,
    policy: ssmPolicySource({
      ssm: clients.ssm,
      parameterName: config.accessPolicyParameterName,
      maxAgeSeconds: config.accessPolicyMaxAgeSeconds,
      clock,
      logger: observability.logger,
    }),
    telemetry: powertoolsTelemetry<OperatorMetric>(observability.logger, counter(observability.metrics)),
    executions: config.executions,
  });
  return withObservability(observability, (event: HttpApiEvent, context) => api(event, context));
};

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
export const handler = createOperatorHandler({
  config: operatorConfigFromEnv(),
  clients: {
    documentClient: documentClient(),
    ssm: new SSMProvider({ clientConfig: sdkClientConfig }),
  },
  observability: createObservability(),
});
