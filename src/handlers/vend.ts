/**
 * Vend Lambda (HTTP API, payload 2.0, AWS_IAM authorizer): POST /v1/sessions and
 * POST /v1/sessions/{sessionId}/credentials. Thin: configuration is parsed and checked at init, clients are
 * built once, and the rest is http/vend-api. `createVendHandler` builds one from explicit configuration and
 * clients (tests, an embedding program); `handler` is the one the template deploys, built from the environment.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { DEFAULT_POLICY_MAX_AGE_SECONDS, ssmPolicySource } from '../adapters/access-policy-source.js';
import { DynamoDbSessionStore } from '../adapters/dynamodb-session-store.js';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher.js';
import { StsCredentialIssuer } from '../adapters/sts-credential-issuer.js';
import {
  documentClient,
  dynamoDbClient,
  FAST_PATH_PUBLISH_RETRY,
  fastPathEventBridgeClient,
  sdkClientConfig,
  stsClient,
} from '../commons/clients.js';
import { type Env, enumEnv, intEnv, jsonEnv, requireEnv } from '../commons/env.js';
import {
  counter,
  createObservability,
  type Observability,
  withObservability,
} from '../commons/powertools.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { DEFAULT_AUDIT_RETENTION_SECONDS } from '../domain/durations.js';
import { type IdGenerator, randomIds } from '../domain/ids.js';
import { STORE_FAILURE_MODES, type StoreFailureMode } from '../usecases/store-failure.js';
import { type Profiles, parseProfiles } from '../usecases/vend-profiles.js';
import type { VendMetric } from '../usecases/vend-telemetry.js';
import type { HttpApiEvent, HttpResult } from './http/event.js';
import { powertoolsTelemetry } from './http/telemetry.js';
import { createVendApi } from './http/vend-api.js';

export interface VendConfig {
  readonly profiles: Profiles;
  readonly storeFailure: StoreFailureMode;
  readonly auditRetentionSeconds: number;
  readonly sessionsTableName: string;
  readonly idempotencyTableName: string;
  readonly eventBusName: string;
  /** The SSM parameter holding the access policy (JSON), and how long a read of it is trusted. */
  readonly accessPolicyParameterName: string;
  readonly accessPolicyMaxAgeSeconds: number;
}

/** The vend configuration from the environment; anything invalid fails naming the variable (ConfigurationError). */
export const vendConfigFromEnv = (env: Env = process.env): VendConfig => ({
  profiles: jsonEnv('PROFILES', parseProfiles, env),
  storeFailure: enumEnv('SESSION_STORE_FAILURE', STORE_FAILURE_MODES, 'deny', env),
  // In days, as the template parameter is (CloudFormation cannot multiply it into seconds).
  auditRetentionSeconds:
    intEnv(
      'AUDIT_RETENTION_DAYS',
      { min: 1, max: 365, fallback: DEFAULT_AUDIT_RETENTION_SECONDS / 86_400 },
      env,
    ) * 86_400,
  sessionsTableName: requireEnv('SESSIONS_TABLE_NAME', env),
  idempotencyTableName: requireEnv('IDEMPOTENCY_TABLE_NAME', env),
  eventBusName: requireEnv('EVENT_BUS_NAME', env),
  accessPolicyParameterName: requireEnv('ACCESS_POLICY_PARAMETER', env),
  accessPolicyMaxAgeSeconds: intEnv(
    'ACCESS_POLICY_MAX_AGE_SECONDS',
    { min: 0, max: 3600, fallback: DEFAULT_POLICY_MAX_AGE_SECONDS },
    env,
  ),
});

export interface VendClients {
  readonly dynamoDb: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly sts: STSClient;
  /** Configured for the fast path's small budget (see FAST_PATH_SDK_CONFIG). */
  readonly eventBridge: EventBridgeClient;
  readonly ssm: SSMProvider;
}

export const createVendHandler = (options: {
  readonly config: VendConfig;
  readonly clients: VendClients;
  readonly observability: Observability;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
}): ((event: HttpApiEvent, context: Context) => Promise<HttpResult>) => {
  const { config, clients, observability } = options;
  const clock = options.clock ?? systemClock;
  const policy = ssmPolicySource({
    ssm: clients.ssm,
    parameterName: config.accessPolicyParameterName,
    maxAgeSeconds: config.accessPolicyMaxAgeSeconds,
    clock,
    logger: observability.logger,
  });
  const api = createVendApi({
    policy,
    store: new DynamoDbSessionStore({
      documentClient: clients.documentClient,
      tableName: config.sessionsTableName,
      auditRetentionSeconds: config.auditRetentionSeconds,
    }),
    issuer: new StsCredentialIssuer({ client: clients.sts }),
    // A small budget: these events are the fast path, the stream is the guarantee (see FAST_PATH_SDK_CONFIG).
    publisher: new EventBridgePublisher({
      client: clients.eventBridge,
      eventBusName: config.eventBusName,
      ...FAST_PATH_PUBLISH_RETRY,
    }),
    clock,
    ids: options.ids ?? randomIds,
    profiles: config.profiles,
    storeFailure: config.storeFailure,
    auditRetentionSeconds: config.auditRetentionSeconds,
    telemetry: powertoolsTelemetry<VendMetric>(observability.logger, counter(observability.metrics)),
    idempotency: {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: config.idempotencyTableName,
        awsSdkV3Client: clients.dynamoDb,
      }),
    },
  });
  return withObservability(observability, (event: HttpApiEvent, context) => api(event, context));
};

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
export const handler = createVendHandler({
  config: vendConfigFromEnv(),
  clients: {
    dynamoDb: dynamoDbClient(),
    documentClient: documentClient(),
    sts: stsClient(),
    eventBridge: fastPathEventBridgeClient(),
    // Powertools Parameters over SSM; the access policy's own loader (CachedPolicySource) is its one cache.
    ssm: new SSMProvider({ clientConfig: sdkClientConfig }),
  },
  observability: createObservability(),
});
