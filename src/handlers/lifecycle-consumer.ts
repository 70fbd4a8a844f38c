/**
 * Lifecycle consumer Lambda (DynamoDB Streams on the Sessions table, ReportBatchItemFailures). Thin:
 * configuration, clients and Powertools at init; the batch semantics live in usecases/process-session-changes.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher.js';
import { SfnWorkflowControl } from '../adapters/sfn-workflow-control.js';
import { dynamoDbClient, eventBridgeClient, sdkClientConfig } from '../commons/clients.js';
import { requireEnv } from '../commons/env.js';
import { countMetric, flushMetrics, logger } from '../commons/powertools.js';
import { systemClock } from '../domain/clock.js';
import {
  createLifecycleConsumer,
  oncePerStreamRecord,
  streamIdempotencyConfig,
} from '../usecases/process-session-changes.js';

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
const idempotencyConfig = streamIdempotencyConfig();

const consume = createLifecycleConsumer({
  workflows: new SfnWorkflowControl({
    client: new SFNClient(sdkClientConfig),
    lifecycleStateMachineArn: requireEnv('LIFECYCLE_STATE_MACHINE_ARN'),
    revocationFanoutStateMachineArn: requireEnv('REVOCATION_FANOUT_STATE_MACHINE_ARN'),
  }),
  events: new EventBridgePublisher({
    client: eventBridgeClient(),
    eventBusName: requireEnv('EVENT_BUS_NAME'),
  }),
  clock: systemClock,
  once: oncePerStreamRecord(
    // StreamIdempotencyTable: the consumer's own, never vend's (whose records hold credentials).
    new DynamoDBPersistenceLayer({
      tableName: requireEnv('IDEMPOTENCY_TABLE_NAME'),
      awsSdkV3Client: dynamoDbClient(),
    }),
    idempotencyConfig,
  ),
  log: { warn: (message, attributes) => logger.warn(message, attributes) },
});

export const handler = async (
  event: DynamoDBStreamEvent,
  context: Context,
): Promise<DynamoDBBatchResponse> => {
  logger.addContext(context);
  // In-progress idempotency records expire with this invocation, so a timed-out record can be retried.
  idempotencyConfig.registerLambdaContext(context);
  countMetric('StreamRecordsReceived', event.Records.length);
  try {
    const response = await consume(event, context);
    countMetric('StreamRecordsFailed', response.batchItemFailures.length);
    return response;
  } catch (error) {
    // Every record failed: Powertools throws so the event source mapping retries (and bisects) the batch.
    countMetric('StreamRecordsFailed', event.Records.length);
    logger.error('stream batch failed entirely', {
      error: error instanceof Error ? error.message : 'unknown',
    });
    throw error;
  } finally {
    flushMetrics();
  }
};
