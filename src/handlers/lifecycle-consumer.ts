/**
 * Lifecycle consumer Lambda (DynamoDB Streams on the Sessions table, ReportBatchItemFailures). Thin:
 * configuration is parsed and checked at init, clients are built once, and the batch semantics live in
 * stream/. `createLifecycleConsumerHandler` builds one from explicit configuration and clients (tests, an
 * embedding program); `handler` is the one the template deploys, built from the environment.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher.js';
import { SfnWorkflowControl } from '../adapters/sfn-workflow-control.js';
import { dynamoDbClient, eventBridgeClient, sdkClientConfig } from '../commons/clients.js';
import { type Env, enumEnv, requireEnv } from '../commons/env.js';
import {
  counter,
  createObservability,
  type Observability,
  withObservability,
} from '../commons/powertools.js';
import { type Clock, systemClock } from '../domain/clock.js';
import { ConfigurationError } from '../domain/errors.js';
import { executionArnFor } from '../domain/executions.js';
import { PER_SESSION_EXECUTIONS_MODES, type PerSessionExecutionsMode } from '../domain/workflows.js';
import { createLifecycleConsumer } from './stream/consume.js';
import {
  oncePerStreamRecord,
  registerStreamInvocation,
  streamIdempotencyConfig,
} from './stream/idempotency.js';

export interface LifecycleConsumerConfig {
  readonly lifecycleStateMachineArn: string;
  readonly revocationFanoutStateMachineArn: string;
  readonly eventBusName: string;
  /** StreamIdempotencyTable: the consumer's own, never vend's (whose records hold credentials). */
  readonly idempotencyTableName: string;
  /** PerSessionExecutions: `disabled` starts and stops no lifecycle execution (sweeper-only expiry). */
  readonly perSessionExecutions: PerSessionExecutionsMode;
}

/** A state machine ARN, checked now so a bad deployment fails at init rather than on the first revocation. */
const stateMachineArnEnv = (name: string, env: Env): string => {
  const value = requireEnv(name, env);
  try {
    executionArnFor(value, 'probe');
  } catch (error) {
    throw new ConfigurationError(`environment variable ${name} is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return value;
};

/** The consumer's configuration from the environment; anything invalid fails naming the variable (ConfigurationError). */
export const lifecycleConsumerConfigFromEnv = (env: Env = process.env): LifecycleConsumerConfig => ({
  lifecycleStateMachineArn: stateMachineArnEnv('LIFECYCLE_STATE_MACHINE_ARN', env),
  revocationFanoutStateMachineArn: stateMachineArnEnv('REVOCATION_FANOUT_STATE_MACHINE_ARN', env),
  eventBusName: requireEnv('EVENT_BUS_NAME', env),
  idempotencyTableName: requireEnv('IDEMPOTENCY_TABLE_NAME', env),
  perSessionExecutions: enumEnv('PER_SESSION_EXECUTIONS', PER_SESSION_EXECUTIONS_MODES, 'enabled', env),
});

export interface LifecycleConsumerClients {
  readonly sfn: SFNClient;
  readonly eventBridge: EventBridgeClient;
  /** For the idempotency table. */
  readonly dynamoDb: DynamoDBClient;
}

export type LifecycleConsumerHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse>;

export const createLifecycleConsumerHandler = (options: {
  readonly config: LifecycleConsumerConfig;
  readonly clients: LifecycleConsumerClients;
  readonly observability: Observability;
  readonly clock?: Clock;
}): LifecycleConsumerHandler => {
  const { config, clients, observability } = options;
  const { logger } = observability;
  const count = counter(observability.metrics);
  // One per handler: it holds the invocation's Lambda context (registered below).
  const idempotencyConfig = streamIdempotencyConfig();
  const consume = createLifecycleConsumer({
    workflows: new SfnWorkflowControl({
      client: clients.sfn,
      lifecycleStateMachineArn: config.lifecycleStateMachineArn,
      revocationFanoutStateMachineArn: config.revocationFanoutStateMachineArn,
    }),
    events: new EventBridgePublisher({ client: clients.eventBridge, eventBusName: config.eventBusName }),
    clock: options.clock ?? systemClock,
    once: oncePerStreamRecord(
      new DynamoDBPersistenceLayer({
        tableName: config.idempotencyTableName,
        awsSdkV3Client: clients.dynamoDb,
      }),
      idempotencyConfig,
    ),
    log: {
      warn: (message, attributes) => logger.warn(message, attributes),
      error: (message, attributes) => logger.error(message, attributes),
    },
    count,
    perSessionExecutions: config.perSessionExecutions,
  });

  return withObservability(observability, async (event: DynamoDBStreamEvent, context) => {
    // A redelivered record takes over the in-progress marker a failed attempt left (registerStreamInvocation).
    registerStreamInvocation(idempotencyConfig, context);
    count('StreamRecordsReceived', event.Records.length);
    try {
      const response = await consume(event, context);
      count('StreamRecordsFailed', response.batchItemFailures.length);
      return response;
    } catch (error) {
      // Every record failed: Powertools throws so the event source mapping retries (and bisects) the batch.
      count('StreamRecordsFailed', event.Records.length);
      logger.error('stream batch failed entirely', {
        error: error instanceof Error ? error.message : 'unknown',
      });
      throw error;
    }
  });
};

// Invalid configuration fails the cold start, naming the variable (ConfigurationError).
export const handler = createLifecycleConsumerHandler({
  config: lifecycleConsumerConfigFromEnv(),
  clients: {
    sfn: new SFNClient(sdkClientConfig),
    eventBridge: eventBridgeClient(),
    dynamoDb: dynamoDbClient(),
  },
  observability: createObservability(),
});
