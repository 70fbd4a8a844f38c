/**
 * Vend Lambda (HTTP API, payload 2.0, AWS_IAM authorizer): POST /v1/sessions and
 * POST /v1/sessions/{sessionId}/credentials. Thin: configuration and clients at init, the rest in http/vend-api.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { DynamoDbSessionStore } from '../adapters/dynamodb-session-store.js';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher.js';
import { StsCredentialIssuer } from '../adapters/sts-credential-issuer.js';
import {
  documentClient,
  dynamoDbClient,
  FAST_PATH_PUBLISH_RETRY,
  fastPathEventBridgeClient,
  stsClient,
} from '../commons/clients.js';
import { enumEnv, intEnv, jsonEnv, requireEnv } from '../commons/env.js';
import { countMetric, flushMetrics, logger } from '../commons/powertools.js';
import { systemClock } from '../domain/clock.js';
import { DEFAULT_AUDIT_RETENTION_SECONDS } from '../domain/durations.js';
import { randomIds } from '../domain/ids.js';
import { parseProfiles } from '../usecases/vend-profiles.js';
import { STORE_FAILURE_MODES } from '../usecases/vend-types.js';
import type { HttpApiEvent, HttpResult } from './http/event.js';
import { powertoolsTelemetry } from './http/telemetry.js';
import { createVendApi } from './http/vend-api.js';

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
const profiles = jsonEnv('PROFILES', parseProfiles);
const storeFailure = enumEnv('SESSION_STORE_FAILURE', STORE_FAILURE_MODES, 'deny');
// In days, as the template parameter is (CloudFormation cannot multiply it into seconds).
const auditRetentionSeconds =
  intEnv('AUDIT_RETENTION_DAYS', { min: 1, max: 365, fallback: DEFAULT_AUDIT_RETENTION_SECONDS / 86_400 }) *
  86_400;

const api = createVendApi({
  store: new DynamoDbSessionStore({
    documentClient: documentClient(),
    tableName: requireEnv('SESSIONS_TABLE_NAME'),
    auditRetentionSeconds,
  }),
  issuer: new StsCredentialIssuer({ client: stsClient() }),
  // A small budget: these events are the fast path, the stream is the guarantee (see FAST_PATH_SDK_CONFIG).
  publisher: new EventBridgePublisher({
    client: fastPathEventBridgeClient(),
    eventBusName: requireEnv('EVENT_BUS_NAME'),
    ...FAST_PATH_PUBLISH_RETRY,
  }),
  clock: systemClock,
  ids: randomIds,
  profiles,
  storeFailure,
  auditRetentionSeconds,
  telemetry: powertoolsTelemetry(logger, countMetric),
  idempotency: {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: requireEnv('IDEMPOTENCY_TABLE_NAME'),
      awsSdkV3Client: dynamoDbClient(),
    }),
  },
});

export const handler = async (event: HttpApiEvent, context: Context): Promise<HttpResult> => {
  logger.addContext(context);
  try {
    return await api(event, context);
  } finally {
    flushMetrics();
    // Per-request keys (requestId, user, sessionId) must not leak into the next invocation's lines.
    logger.resetKeys();
  }
};
