/**
 * The whole pipeline on this machine, wired from the same use cases and adapters the Lambdas use:
 * DynamoDB Local (tables from template.yaml) → stream poller → lifecycle consumer → workflows in the real ASL
 * interpreter → a local EventBridge bus evaluating the template's rules. Only STS is replaced, by the offline
 * issuer whose credentials are loudly fake. Used by `npm start` and by the end-to-end test.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { CachedPolicySource, loggerPolicyLog } from '../src/adapters/access-policy-source.js';
import { DynamoDbSessionStore } from '../src/adapters/dynamodb-session-store.js';
import { parsePolicyDocument } from '../src/domain/access-policy-yaml.js';
import { systemClock } from '../src/domain/clock.js';
import { randomIds } from '../src/domain/ids.js';
import type { PerSessionExecutionsMode } from '../src/domain/workflows.js';
import type { HttpApiEvent, HttpResult } from '../src/handlers/http/event.js';
import { createOperatorApi, type OperatorMetric } from '../src/handlers/http/operator-api.js';
import { powertoolsTelemetry } from '../src/handlers/http/telemetry.js';
import { createVendApi } from '../src/handlers/http/vend-api.js';
import { createLifecycleConsumer } from '../src/handlers/stream/consume.js';
import {
  oncePerStreamRecord,
  registerStreamInvocation,
  streamIdempotencyConfig,
} from '../src/handlers/stream/idempotency.js';
import type { CredentialIssuer, WorkflowControl } from '../src/ports.js';
import { parseProfiles } from '../src/usecases/vend-profiles.js';
import {
  createTemplateTables,
  localClientConfig,
  type RunningDynamoDb,
  startDynamoDbLocal,
} from './dynamodb-local.js';
import { type EventEnvelope, jsonLinesFileTarget, LocalEventBus, rulesFromTemplate } from './event-bus.js';
import { startHttpApi } from './http-api.js';
import { LocalWorkflowControl } from './local-workflow-control.js';
import { OfflineCredentialIssuer } from './offline-credential-issuer.js';
import { assertPortFree } from './ports.js';
import { ScaledClock } from './scaled-clock.js';
import { stackLogger } from './stack-logger.js';
import { type StreamPoller, startStreamPoller } from './stream-poller.js';
import { startSweeperSchedule } from './sweeper-schedule.js';
import { loadTemplate, REPO_ROOT, streamEventSourceOf } from './template.js';
import { LocalWebhookReceiver } from './webhook-receiver.js';

/** Profiles for the local stack when PROFILES is not set: the roles do not exist; the issuer is offline. */
export const LOCAL_PROFILES = {
  dev: {
    roleArn: 'arn:aws:iam::123456789012:role/sentinel-local-dev',
    maxDurationSeconds: 3600,
    // The shortest window PROFILES accepts: 900 s (STS minimum) + 30 s safety margin + 1 s of rounding.
    idleTimeoutSeconds: 960,
    maxLifetimeSeconds: 3600,
  },
};

/** Stand-ins for the state machines' ARNs, named like the template's; the operator API links executions by them. */
export const LOCAL_STATE_MACHINE_ARNS = {
  lifecycleStateMachineArn:
    'arn:aws:states:us-east-1:000000000000:stateMachine:sentinel-sessions-lifecycle-local',
  revocationFanoutStateMachineArn:
    'arn:aws:states:us-east-1:000000000000:stateMachine:sentinel-sessions-revocation-fanout-local',
} as const;

export interface LocalStackOptions {
  readonly dynamoPort?: number;
  /**
   * A DynamoDB Local already running (e.g. the test run's, test/support/global-setup.ts): the stack's tables
   * are made there under a prefix of their own, and it is left running on stop. Unset: the stack starts its own.
   */
  readonly dynamoEndpoint?: string;
  readonly httpPort?: number;
  /** How much faster the stack's clock runs than the wall clock (Waits, expiries, every time it shows). */
  readonly timeScale?: number;
  readonly profiles?: unknown;
  /** The access policy file (YAML or JSON); default local/policy.yaml, re-read at most every 5 s. */
  readonly policyFile?: string;
  readonly auditLogPath?: string;
  readonly onNotification?: (event: EventEnvelope) => void;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  readonly batchingWindowMs?: number;
  /** The template's PerSessionExecutions: `disabled` gives sessions no lifecycle execution. Default enabled. */
  readonly perSessionExecutions?: PerSessionExecutionsMode;
  /** Receives every log line instead of stdout (tests that read the logs, e.g. the secrets scan). */
  readonly logSink?: (line: string) => void;
  /** Seams around the real adapters, for fault injection (test/support/fault-layer.ts); unset = as they are. */
  readonly wrap?: LocalStackWraps;
}

export interface LocalStackWraps {
  /** Sees the one DynamoDB client behind the store, both idempotency tables and the workflows' Tasks. */
  readonly dynamodb?: (client: DynamoDBClient) => void;
  /** What the lifecycle consumer starts and stops executions through. */
  readonly consumerWorkflows?: (workflows: LocalWorkflowControl) => WorkflowControl;
  /** What vend issues credentials through. */
  readonly issuer?: (issuer: CredentialIssuer) => CredentialIssuer;
}

export interface LocalStack {
  readonly dynamo: RunningDynamoDb;
  readonly tables: Awaited<ReturnType<typeof createTemplateTables>>;
  readonly url: string;
  readonly bus: LocalEventBus;
  readonly workflows: LocalWorkflowControl;
  readonly store: DynamoDbSessionStore;
  readonly poller: StreamPoller;
  readonly auditLogPath: string;
  /** The one clock behind every time the stack shows. */
  readonly clock: ScaledClock;
  /** Stands in for the Slack and Teams webhooks the revocation fan-out posts to (paths /slack, /teams). */
  readonly webhooks: LocalWebhookReceiver;
  stop(): Promise<void>;
}

export const startLocalStack = async (options: LocalStackOptions = {}): Promise<LocalStack> => {
  // A busy port fails now, before DynamoDB Local takes seconds to start.
  if (options.httpPort) await assertPortFree(options.httpPort, 'HTTP API');
  if (options.dynamoPort) await assertPortFree(options.dynamoPort, 'DynamoDB Local');
  const clock = new ScaledClock(options.timeScale ?? 1);
  const dynamo: RunningDynamoDb = options.dynamoEndpoint
    ? {
        endpoint: options.dynamoEndpoint,
        port: Number(new URL(options.dynamoEndpoint).port),
        pid: undefined,
        stop: async () => undefined,
      }
    : await startDynamoDbLocal(options.dynamoPort ? { port: options.dynamoPort } : {});
  const stopping: (() => Promise<void> | void)[] = [() => dynamo.stop()];
  // Last started, first stopped; a step that fails does not keep the others (DynamoDB Local) running. Once only.
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopped ??= (async () => {
      const failures: unknown[] = [];
      for (const stop of stopping.reverse()) {
        try {
          await stop();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length > 0) throw failures[0];
    })());
  try {
    const tables = await createTemplateTables(dynamo.endpoint, {
      // In a shared DynamoDB Local, tables of their own.
      prefix: options.dynamoEndpoint ? `sentinel-local-${randomBytes(4).toString('hex')}` : 'sentinel-local',
    });
    const dynamodb = new DynamoDBClient(localClientConfig(dynamo.endpoint));
    options.wrap?.dynamodb?.(dynamodb);
    const documentClient = DynamoDBDocumentClient.from(dynamodb, {
      marshallOptions: { removeUndefinedValues: true },
    });
    stopping.push(() => dynamodb.destroy());
    const logger = stackLogger({
      clock,
      logLevel: options.logLevel ?? 'INFO',
      ...(options.logSink ? { logSink: options.logSink } : {}),
    });

    const bus = new LocalEventBus({ rules: rulesFromTemplate(loadTemplate()), clock });
    const auditLogPath = options.auditLogPath ?? join(REPO_ROOT, '.local', 'audit.jsonl');
    mkdirSync(dirname(auditLogPath), { recursive: true });
    // The tables start empty each run; so does their audit trail.
    writeFileSync(auditLogPath, '');
    bus.addTarget('SessionsAuditRule', jsonLinesFileTarget(auditLogPath), 'AuditLogGroup');
    bus.addTarget(
      'SessionNotificationsRule',
      options.onNotification ??
        ((event) =>
          logger.info('notification (SessionNotificationsRule → topic)', {
            detailType: event['detail-type'],
          })),
      'NotificationsTopic',
    );

    const store = new DynamoDbSessionStore({ documentClient, tableName: tables.SessionsTable });
    const profiles = parseProfiles(options.profiles ?? LOCAL_PROFILES);
    const webhooks = new LocalWebhookReceiver();
    await webhooks.start();
    stopping.push(() => webhooks.stop());
    const workflows = new LocalWorkflowControl({
      dynamodb,
      sessionsTableName: tables.SessionsTable,
      eventBusName: bus.busName,
      bus,
      clock,
      slackWebhookUrl: webhooks.urlOf('/slack'),
      teamsWebhookUrl: webhooks.urlOf('/teams'),
      verifyAgainst: { sessions: store, profiles: [...profiles.values()] },
      snsPublish: async ({ Message }) => {
        // Not `message`: Powertools reserves that key and drops it with a warning.
        logger.info('notification (revocation fan-out → topic)', { notification: Message });
        return { MessageId: `local-${Date.now()}` };
      },
      onExecutionEnd: (record) =>
        // The sweeper runs every minute: its runs are logged only when they fail.
        record.stateMachine === 'SessionSweeperStateMachine' && record.status === 'SUCCEEDED'
          ? undefined
          : logger.info('workflow execution ended', {
              stateMachine: record.stateMachine,
              execution: record.name,
              status: record.status,
              ...(record.error ? { error: record.error } : {}),
              ...(record.cause ? { cause: record.cause } : {}),
            }),
    });
    stopping.push(() => workflows.abortAll());
    // Idle expiry, every minute of the stack's clock (the template's EventBridge Scheduler schedule).
    const sweeper = startSweeperSchedule({
      workflows,
      clock,
      onError: (error) => logger.error('sweeper run failed', { error: String(error) }),
    });
    stopping.push(() => sweeper.stop());

    const count = (name: string, value = 1) => logger.debug('metric', { metric: name, value });
    const policyFile = options.policyFile ?? join(REPO_ROOT, 'local', 'policy.yaml');
    const policy = new CachedPolicySource({
      read: () => readFile(policyFile, 'utf8'),
      parse: (text) => parsePolicyDocument(text, policyFile),
      clock: systemClock,
      maxAgeSeconds: 5,
      where: policyFile,
      log: loggerPolicyLog(logger),
    });
    const issuer = new OfflineCredentialIssuer({
      clock,
      warn: (message, attributes) => logger.warn(message, attributes),
    });
    const api = createVendApi({
      policy,
      store,
      issuer: options.wrap?.issuer?.(issuer) ?? issuer,
      publisher: bus,
      clock,
      ids: randomIds,
      profiles,
      storeFailure: 'deny',
      telemetry: powertoolsTelemetry(logger, count),
      idempotency: {
        persistenceStore: new DynamoDBPersistenceLayer({
          tableName: tables.IdempotencyTable,
          awsSdkV3Client: dynamodb,
        }),
      },
    });
    const operatorApi = createOperatorApi({
      store,
      clock,
      policy,
      telemetry: powertoolsTelemetry<OperatorMetric>(logger, count),
      executions: { ...LOCAL_STATE_MACHINE_ARNS, linkConsole: false },
    });
    // One invocation's log keys never leak into the next, as in a Lambda.
    const isolated =
      (api: (event: HttpApiEvent, context: Context) => Promise<HttpResult>) =>
      async (event: HttpApiEvent, context: Context): Promise<HttpResult> => {
        try {
          return await api(event, context);
        } finally {
          logger.resetKeys();
        }
      };
    const http = await startHttpApi({
      handlers: { vend: isolated(api), operator: isolated(operatorApi) },
      ...(options.httpPort === undefined ? {} : { port: options.httpPort }),
      clock,
    });
    stopping.push(() => http.close());

    const streamIdempotency = streamIdempotencyConfig();
    const consume = createLifecycleConsumer({
      workflows: options.wrap?.consumerWorkflows?.(workflows) ?? workflows,
      events: bus,
      clock,
      perSessionExecutions: options.perSessionExecutions ?? 'enabled',
      once: oncePerStreamRecord(
        new DynamoDBPersistenceLayer({
          tableName: tables.StreamIdempotencyTable,
          awsSdkV3Client: dynamodb,
        }),
        streamIdempotency,
      ),
      log: { warn: (message, attributes) => logger.warn(message, attributes) },
    });
    const sessionsStream = streamEventSourceOf(loadTemplate(), 'LifecycleConsumerFunction', 'SessionsStream');
    const poller = startStreamPoller({
      client: new DynamoDBStreamsClient(localClientConfig(dynamo.endpoint)),
      tableName: tables.SessionsTable,
      // As the Lambda handler does: a redelivery takes over what a failed attempt left in progress.
      handler: (event, context) => {
        registerStreamInvocation(streamIdempotency, context);
        return consume(event, context);
      },
      // Batching, filters and retries exactly as the template's event source mapping has them.
      ...sessionsStream,
      ...(options.batchingWindowMs === undefined ? {} : { batchingWindowMs: options.batchingWindowMs }),
      pollIntervalMs: 100,
      localTime: (wall) => clock.at(wall),
      onFailure: (failure) =>
        logger.error('stream records given up on (on-failure destination)', {
          records: failure.records.length,
          attempts: failure.attempts,
        }),
      onError: (error) => logger.error('stream poller error', { error: String(error) }),
    });
    stopping.push(() => poller.stop());

    return {
      dynamo,
      tables,
      url: http.url,
      bus,
      workflows,
      store,
      poller,
      auditLogPath,
      clock,
      webhooks,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
};
