/**
 * cost: what one session costs and how many the account sustains, from counted calls. The real handlers
 * (vend API, lifecycle consumer, revocation enforcer) and the real state machine definitions (lifecycle,
 * sweeper, fan-out, in the ASL interpreter) run against DynamoDB Local, which reports the read and write
 * units each call consumed; the table stream reaches the consumer through the local event source mapping
 * with the template's filters. Counted: state transitions, RRU/WRU, PutEvents entries and calls, Lambda
 * invocations; multiplied by the one price table (bench/pricing.ts). Lambda durations are assumed there.
 *
 * Flows: create; 10 refreshes an hour apart; on-time expiry at the 11-hour cap (per-session mode: the
 * lifecycle execution; sweeper mode: the sweeper); a revocation with three channels (the fan-out definition
 * as deployed with SNS, Slack and Teams all on; the webhook posts are answered locally and billed as the
 * HTTP Task's transitions, which is how Step Functions bills them).
 *
 * - lifecycle.transitions_per_session_10_refreshes: Standard transitions of that session's lifecycle.
 * - cost.usd_per_million_sessions / _sweeper_mode: variable cost of a million such sessions (the sweeper's
 *   per-minute runs are a fixed cost, reported as cost.sweeper_usd_per_month).
 * - consumer.invocations_per_session_10_refreshes: insert, expiry, and the TTL purge days later.
 * - scale.*: sessions/s each quota allows given the counted calls (bench/pricing.ts QUOTAS); the minimum
 *   names the bottleneck, printed with the table.
 * - revocation.fanout_start_p95_ms: on the local stack (template batching and filters), revoke → the
 *   revocation enforcer invoked, 20 revocations.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTemplateTables, localClientConfig, startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { LocalEventBus } from '../../local/event-bus.js';
import { InMemoryAccessEnforcer } from '../../local/in-memory-access-enforcer.js';
import { LocalWorkflowControl } from '../../local/local-workflow-control.js';
import {
  type Json,
  type LocalServices,
  rawDefinitionOf,
  runLocalStateMachine,
  substitute,
  templateSubstitutions,
} from '../../local/sfn-binder.js';
import { LOCAL_PROFILES, startLocalStack } from '../../local/stack.js';
import { StreamPoller } from '../../local/stream-poller.js';
import { loadTemplate, streamEventSourceOf } from '../../local/template.js';
import { DynamoDbSessionStore } from '../../src/adapters/dynamodb-session-store.js';
import { parsePolicy } from '../../src/domain/access-policy-document.js';
import { randomIds } from '../../src/domain/ids.js';
import { newSession } from '../../src/domain/session.js';
import type { LifecycleInput, PerSessionExecutionsMode } from '../../src/domain/workflows.js';
import { createVendApi } from '../../src/handlers/http/vend-api.js';
import { createLifecycleConsumer } from '../../src/handlers/stream/consume.js';
import { oncePerStreamRecord, streamIdempotencyConfig } from '../../src/handlers/stream/idempotency.js';
import type { DomainEvent, EventPublisher, RevocationFanoutInput, WorkflowControl } from '../../src/ports.js';
import { createVerifiedRevocationEnforcer } from '../../src/usecases/enforce-revocation.js';
import { parseProfiles } from '../../src/usecases/vend-profiles.js';
import { silentTelemetry } from '../../src/usecases/vend-telemetry.js';
import { fakeLambdaContext } from '../../test/support/consumer-fakes.js';
import { ManualStackClock } from '../../test/support/manual-stack-clock.js';
import { fixture } from '../../test/support/vend-api.js';
import { type Metrics, percentile, type Suite, sleep } from '../harness.js';
import { ASSUMED_LAMBDA, PRICES, PRICES_AS_OF, QUOTAS, QUOTAS_AS_OF } from '../pricing.js';

const HOUR = 3_600_000;
const REFRESHES = 10;
const LIFETIME_HOURS = REFRESHES + 1;

/** Everything one flow used. */
interface Usage {
  transitions: number;
  rru: number;
  wru: number;
  putEventsEntries: number;
  putEventsCalls: number;
  vendInvocations: number;
  consumerInvocations: number;
  enforcerInvocations: number;
  snsPublishes: number;
  webhookPosts: number;
  startExecutions: number;
  stopExecutions: number;
  expressRuns: number;
}

const emptyUsage = (): Usage => ({
  transitions: 0,
  rru: 0,
  wru: 0,
  putEventsEntries: 0,
  putEventsCalls: 0,
  vendInvocations: 0,
  consumerInvocations: 0,
  enforcerInvocations: 0,
  snsPublishes: 0,
  webhookPosts: 0,
  startExecutions: 0,
  stopExecutions: 0,
  expressRuns: 0,
});

const usdOf = (u: Usage): number =>
  u.transitions * PRICES.standardTransition +
  u.wru * PRICES.dynamoWru +
  u.rru * PRICES.dynamoRru +
  u.putEventsEntries * PRICES.putEventsEntry +
  u.vendInvocations * (PRICES.httpApiRequest + PRICES.lambdaRequest) +
  u.vendInvocations * ASSUMED_LAMBDA.vendSeconds * ASSUMED_LAMBDA.memoryGb * PRICES.lambdaGbSecondArm +
  u.consumerInvocations *
    (PRICES.lambdaRequest +
      ASSUMED_LAMBDA.consumerSeconds * ASSUMED_LAMBDA.memoryGb * PRICES.lambdaGbSecondArm) +
  u.enforcerInvocations *
    (PRICES.lambdaRequest +
      ASSUMED_LAMBDA.enforcerSeconds * ASSUMED_LAMBDA.memoryGb * PRICES.lambdaGbSecondArm) +
  u.snsPublishes * PRICES.snsPublish +
  u.expressRuns * PRICES.expressRequest;

/** A DynamoDB client that asks every call for its consumed capacity and adds it to `usage`. */
const countingClient = (endpoint: string, usage: () => Usage): DynamoDBClient => {
  const client = new DynamoDBClient(localClientConfig(endpoint));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = context.commandName ?? '';
      const reads = command === 'GetItemCommand' || command === 'QueryCommand';
      input.ReturnConsumedCapacity = 'TOTAL';
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } })
          .ConsumedCapacity;
        const units = consumed?.CapacityUnits ?? 0;
        if (reads) usage().rru += units;
        else usage().wru += units;
        return result;
      } catch (error) {
        // A refused conditional write is billed one write unit.
        if (!reads && (error as Error).name === 'ConditionalCheckFailedException') usage().wru += 1;
        throw error;
      }
    },
    { step: 'initialize', name: 'countConsumedCapacity' },
  );
  return client;
};

/** The bus as EventBridge bills it: entries, and calls of at most 10. */
const countingBus = (usage: () => Usage): EventPublisher => ({
  publish: async (events: readonly DomainEvent[]) => {
    usage().putEventsEntries += events.length;
    usage().putEventsCalls += Math.ceil(events.length / 10);
    return { failed: [] };
  },
});

/**
 * Workflow control that runs the real definitions and counts their transitions: the lifecycle asleep until
 * the bench moves time to its cap (`reachCap`), the fan-out at once.
 */
class CountingWorkflows implements WorkflowControl {
  readonly #asleep = new Map<string, LifecycleInput>();
  constructor(
    private readonly usage: () => Usage,
    private readonly services: LocalServices,
    private readonly tableName: string,
  ) {}

  async startLifecycle(input: LifecycleInput) {
    this.usage().startExecutions++;
    this.#asleep.set(input.sessionId, input);
    return { alreadyStarted: false };
  }

  async stopLifecycle(sessionId: string) {
    if (!this.#asleep.delete(sessionId)) return { stopped: false };
    this.usage().stopExecutions++;
    this.usage().transitions += 1; // the Wait it was stopped in
    return { stopped: true };
  }

  async startRevocationFanout(input: RevocationFanoutInput) {
    this.usage().startExecutions++;
    const definition = substitute(rawDefinitionOf('RevocationFanoutStateMachine'), {
      SessionsTableName: this.tableName,
      EventBusName: 'bench',
      NotificationTopicArn: 'arn:aws:sns:us-east-1:123456789012:sentinel-a',
      RevocationEnforcerFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:enforcer',
      SlackWebhookUrl: 'https://hooks.slack.com/services/T000/B000/bench',
      TeamsWebhookUrl: 'https://example.webhook.office.com/workflows/bench',
      WebhookConnectionArn: 'arn:aws:events:us-east-1:123456789012:connection/sentinel-webhooks/bench',
    });
    const execution = runLocalStateMachine({
      definition,
      services: this.services,
      executionInput: { ...input } as Json,
      retryMs: 0,
    });
    await execution.result;
    this.usage().transitions += execution.statesEntered.length;
    return { alreadyStarted: false };
  }

  /** The session's lifecycle wakes at its cap: the real definition, counted. */
  async reachCap(sessionId: string): Promise<void> {
    const input = this.#asleep.get(sessionId);
    if (!input) return;
    this.#asleep.delete(sessionId);
    const execution = runLocalStateMachine({
      definition: substitute(rawDefinitionOf('SessionLifecycleStateMachine'), {
        SessionsTableName: this.tableName,
      }),
      services: this.services,
      executionInput: { ...input },
      waitMs: () => 0,
      retryMs: 0,
    });
    await execution.result;
    this.usage().transitions += execution.statesEntered.length;
  }
}

const flows = async (endpoint: string) => {
  let current = emptyUsage();
  const usage = () => current;
  const measure = async (fn: () => Promise<void>): Promise<Usage> => {
    current = emptyUsage();
    await fn();
    return current;
  };
  const tables = await createTemplateTables(endpoint, { prefix: `cost${Date.now().toString(36)}` });
  const dynamodb = countingClient(endpoint, usage);
  const documentClient = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new DynamoDbSessionStore({ documentClient, tableName: tables.SessionsTable });
  const clock = new ManualStackClock(new Date(Math.ceil(Date.now() / 86_400_000 + 2) * 86_400_000));
  const bus = countingBus(usage);
  const services: LocalServices = {
    dynamodb,
    putEvents: async (entries) => {
      usage().putEventsEntries += entries.length;
      usage().putEventsCalls += 1;
      return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: 'e' })) };
    },
    snsPublish: async () => {
      usage().snsPublishes++;
      return { MessageId: 'm' };
    },
    httpInvoke: async () => {
      usage().webhookPosts++;
      return { status: 200, statusText: 'OK', body: 'ok' };
    },
    lambdas: {
      'arn:aws:lambda:us-east-1:123456789012:function:enforcer': async (payload) => {
        usage().enforcerInvocations++;
        return enforcer(payload);
      },
    },
  };
  const workflows = new CountingWorkflows(usage, services, tables.SessionsTable);
  const profiles = parseProfiles({
    dev: {
      roleArn: 'arn:aws:iam::444455556666:role/dev',
      maxDurationSeconds: 3600,
      idleTimeoutSeconds: 3900,
      maxLifetimeSeconds: LIFETIME_HOURS * 3600,
    },
  });
  // As deployed: the enforcer re-reads the row (a strongly consistent read, counted) before it denies.
  const enforcer = createVerifiedRevocationEnforcer({
    enforcer: new InMemoryAccessEnforcer({ clock }),
    sessions: store,
    profiles: [...profiles.values()],
    clock,
  });
  const api = createVendApi({
    store,
    issuer: {
      issue: async (request) => ({
        AccessKeyId: 'ASIABENCHFAKE0000001',
        SecretAccessKey: 'bench',
        Token: 'bench',
        Expiration: new Date(clock.now().getTime() + request.durationSeconds * 1000).toISOString(),
      }),
    },
    publisher: bus,
    clock,
    ids: randomIds,
    profiles,
    storeFailure: 'deny',
    telemetry: { ...silentTelemetry, correlate: () => undefined },
    policy: {
      current: async () =>
        parsePolicy({
          version: 'bench',
          admins: [],
          rules: [{ name: 'all', effect: 'allow', profiles: ['dev'] }],
        }),
    },
  });
  const streams = new DynamoDBStreamsClient(localClientConfig(endpoint));
  const consumerFor = (perSessionExecutions: PerSessionExecutionsMode) => {
    const config = streamIdempotencyConfig();
    config.registerLambdaContext(fakeLambdaContext());
    return createLifecycleConsumer({
      workflows,
      events: bus,
      clock,
      perSessionExecutions,
      once: oncePerStreamRecord(
        new DynamoDBPersistenceLayer({ tableName: tables.StreamIdempotencyTable, awsSdkV3Client: dynamodb }),
        config,
      ),
    });
  };
  let consume = consumerFor('enabled');
  const { filters, batchSize, maxRetryAttempts } = streamEventSourceOf(
    loadTemplate(),
    'LifecycleConsumerFunction',
    'SessionsStream',
  );
  const poller = new StreamPoller({
    client: streams,
    tableName: tables.SessionsTable,
    startingPosition: 'LATEST',
    filters,
    batchSize,
    maxRetryAttempts,
    handler: async (event, context) => {
      usage().consumerInvocations++;
      return consume(event, context);
    },
  });
  await poller.pollOnce();
  const sweeper = new LocalWorkflowControl({
    dynamodb,
    sessionsTableName: tables.SessionsTable,
    eventBusName: 'bench',
    bus: new LocalEventBus(),
    clock,
    sweeper: templateSubstitutions('SessionSweeperStateMachine', [
      'ActiveShardCount',
      'SweepPageSize',
      'SweepPagesPerShard',
    ]) as never,
  });
  const sweep = async () => {
    usage().expressRuns++;
    await sweeper.runSweeper();
  };

  const create = fixture('create');
  const refresh = fixture('refresh');
  /** One session's whole life, each step delivered to the consumer before the next (as hours apart are). */
  const refreshedSession = async (mode: PerSessionExecutionsMode): Promise<void> => {
    consume = consumerFor(mode);
    const createdAt = clock.now().getTime();
    usage().vendInvocations++;
    const created = await api(create);
    const { sessionId } = JSON.parse(created.body) as { sessionId: string };
    await poller.drain();
    for (let k = 1; k <= REFRESHES; k++) {
      clock.set(new Date(createdAt + k * HOUR));
      usage().vendInvocations++;
      const refreshed = await api({ ...refresh, body: '{"profile":"dev"}', pathParameters: { sessionId } });
      if (refreshed.statusCode !== 200) throw new Error(`refresh ${k} answered ${refreshed.statusCode}`);
      await poller.drain();
    }
    // On time: at the cap, the lifecycle execution (per-session mode) or the sweeper's next run.
    clock.set(new Date(createdAt + LIFETIME_HOURS * HOUR));
    if (mode === 'enabled') await workflows.reachCap(sessionId);
    else await sweep();
    await poller.drain();
    const row = await store.get(sessionId);
    if (row?.status !== 'expired') throw new Error(`session ${sessionId} did not expire: ${row?.status}`);
    // The TTL purge, days later: one more record for the consumer (REMOVE passes the filters).
    usage().consumerInvocations++;
    clock.set(new Date(createdAt + (LIFETIME_HOURS + 1) * HOUR));
  };

  // The sweeper's own cost per run with nothing due: a fixed cost, not a session's.
  const emptySweep = await measure(sweep);
  const perSession = await measure(() => refreshedSession('enabled'));
  const sweeperMode = await measure(() => refreshedSession('disabled'));
  // Variable cost only: the run's fixed part belongs to every session it would have swept.
  sweeperMode.rru = Math.max(0, sweeperMode.rru - emptySweep.rru);
  sweeperMode.expressRuns = 0;
  const revocation = await measure(async () => {
    consume = consumerFor('enabled');
    usage().vendInvocations++;
    const created = await api(create);
    const { sessionId } = JSON.parse(created.body) as { sessionId: string };
    await poller.drain();
    await store.revoke(sessionId, { by: 'bench', reason: 'bench', now: clock.now() });
    await poller.drain();
  });

  streams.destroy();
  dynamodb.destroy();
  return { emptySweep, perSession, sweeperMode, revocation };
};

/** Revoke → enforcer invoked, on the local stack with the template's stream settings (no window). */
const fanoutStartP95Ms = async (): Promise<number> => {
  const stack = await startLocalStack({ logLevel: 'SILENT', profiles: LOCAL_PROFILES });
  try {
    const enforcer = stack.workflows.accessEnforcer as InMemoryAccessEnforcer;
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const session = newSession({
        sessionId: `${Date.now().toString(16)}${i.toString(16)}`.padStart(32, '0'),
        caller: { user: 'alice', principalArn: 'arn:aws:iam::123456789012:user/alice' } as never,
        profile: 'dev',
        roleArn: LOCAL_PROFILES.dev.roleArn,
        sourceIdentity: 'sentinel=alice=direct=bench',
        policy: LOCAL_PROFILES.dev,
        now: stack.clock.now(),
      });
      await stack.store.create(session);
      await sleep(150);
      const start = performance.now();
      await stack.store.revoke(session.sessionId, { by: 'bench', reason: 'bench', now: stack.clock.now() });
      const deadline = start + 10_000;
      while (!Object.values(enforcer.denied()).some((ids) => ids.includes(session.sessionId))) {
        if (performance.now() > deadline) throw new Error('revocation never reached the enforcer');
        await sleep(2);
      }
      samples.push(performance.now() - start);
    }
    return percentile(samples, 95);
  } finally {
    await stack.stop();
  }
};

/** Sessions/s each quota allows, given what one session uses; the smallest is the bottleneck. */
const ceilings = (
  u: Usage,
  session: { readonly openSeconds: number; readonly assumeRoles: number; readonly sweptBySweeper: boolean },
): Record<string, number> => {
  const per = (quota: number, uses: number) => (uses > 0 ? quota / uses : Number.POSITIVE_INFINITY);
  // The sweeper expires at most ActiveShardCount x SweepPageSize x SweepPagesPerShard sessions a minute.
  const sweep = templateSubstitutions('SessionSweeperStateMachine', [
    'ActiveShardCount',
    'SweepPageSize',
    'SweepPagesPerShard',
  ]);
  const sweeperPerSecond =
    (Number(sweep.ActiveShardCount) * Number(sweep.SweepPageSize) * Number(sweep.SweepPagesPerShard)) / 60;
  return {
    [QUOTAS.standardStartExecution.name]: per(QUOTAS.standardStartExecution.value, u.startExecutions),
    [QUOTAS.standardStopExecution.name]: per(QUOTAS.standardStopExecution.value, u.stopExecutions),
    [QUOTAS.standardTransitions.name]: per(QUOTAS.standardTransitions.value, u.transitions),
    [QUOTAS.openExecutions.name]:
      u.startExecutions > 0 ? QUOTAS.openExecutions.value / session.openSeconds : Number.POSITIVE_INFINITY,
    [QUOTAS.putEvents.name]: per(QUOTAS.putEvents.value, u.putEventsCalls),
    [QUOTAS.dynamoTableWrites.name]: per(QUOTAS.dynamoTableWrites.value, u.wru),
    [QUOTAS.dynamoTableReads.name]: per(QUOTAS.dynamoTableReads.value, u.rru),
    [QUOTAS.lambdaConcurrency.name]: per(
      QUOTAS.lambdaConcurrency.value,
      u.vendInvocations * ASSUMED_LAMBDA.vendSeconds + u.consumerInvocations * ASSUMED_LAMBDA.consumerSeconds,
    ),
    [QUOTAS.httpApi.name]: per(QUOTAS.httpApi.value, u.vendInvocations),
    'sweeper (per-run bound)': session.sweptBySweeper ? sweeperPerSecond : Number.POSITIVE_INFINITY,
    [QUOTAS.sts.name]: per(QUOTAS.sts.value, session.assumeRoles),
  };
};

const bottleneck = (all: Record<string, number>, without: string[] = []) =>
  Object.entries(all)
    .filter(([name]) => !without.includes(name))
    .reduce((a, b) => (b[1] < a[1] ? b : a));

const suite: Suite = {
  name: 'cost',
  targets: [
    { metric: 'lifecycle.transitions_per_session_10_refreshes', op: '<=', value: 4 },
    { metric: 'cost.usd_per_million_sessions', op: '<=', value: 200 },
    { metric: 'cost.usd_per_million_sessions_sweeper_mode', op: '<=', value: 100 },
    { metric: 'scale.sweeper_mode_headroom_over_sts', op: '>=', value: 1 },
    { metric: 'scale.per_session_mode_sessions_per_s_1h', op: '>=', value: 250 },
    { metric: 'revocation.fanout_start_p95_ms', op: '<=', value: 1000 },
    { metric: 'consumer.invocations_per_session_10_refreshes', op: '<=', value: 3 },
  ],
  run: async (): Promise<Metrics> => {
    const dynamo = await startDynamoDbLocal();
    let counted: Awaited<ReturnType<typeof flows>>;
    try {
      counted = await flows(dynamo.endpoint);
    } finally {
      await dynamo.stop();
    }
    const { perSession, sweeperMode, revocation, emptySweep } = counted;
    // An hour-long session never refreshed (idle window = lifetime): the lifecycle expires it at its cap,
    // as the flows above count it (1 StartExecution, 3 transitions, no stop), open for the hour.
    const oneHour: Usage = { ...emptyUsage(), startExecutions: 1, transitions: 3 };
    const perSessionOneHour = ceilings(oneHour, { openSeconds: 3600, assumeRoles: 0, sweptBySweeper: false });
    const [perSessionLimit, perSessionValue] = bottleneck(perSessionOneHour, [QUOTAS.sts.name]);
    const sweeperCeilings = ceilings(sweeperMode, {
      openSeconds: LIFETIME_HOURS * 3600,
      assumeRoles: REFRESHES + 1,
      sweptBySweeper: true,
    });
    const [pipelineLimit, pipelineValue] = bottleneck(sweeperCeilings, [QUOTAS.sts.name]);
    const stsValue = sweeperCeilings[QUOTAS.sts.name] ?? Number.NaN;
    const perMonthRuns = 60 * 24 * 30;
    const sweeperPerMonth =
      perMonthRuns *
      (PRICES.schedulerInvocation +
        PRICES.expressRequest +
        emptySweep.rru * PRICES.dynamoRru +
        1 * 0.0625 * PRICES.expressGbSecond);
    process.stderr.write(
      [
        `prices: ${PRICES_AS_OF}; quotas: ${QUOTAS_AS_OF}`,
        `per-session mode, 10-refresh session: ${JSON.stringify(perSession)}`,
        `sweeper mode, 10-refresh session: ${JSON.stringify(sweeperMode)}`,
        `revocation (3 channels): ${JSON.stringify(revocation)}`,
        `per-session mode, 1 h sessions: bottleneck ${perSessionLimit} at ${perSessionValue.toFixed(0)}/s`,
        `sweeper mode, 11 h sessions: pipeline bottleneck ${pipelineLimit} at ${pipelineValue.toFixed(1)}/s, STS ${stsValue.toFixed(1)}/s (assumed quota)`,
        '',
      ].join('\n'),
    );
    return {
      'lifecycle.transitions_per_session_10_refreshes': perSession.transitions,
      'cost.usd_per_million_sessions': usdOf(perSession) * 1e6,
      'cost.usd_per_million_sessions_sweeper_mode': usdOf(sweeperMode) * 1e6,
      'cost.usd_per_million_revocations_3_channels': usdOf(revocation) * 1e6,
      'cost.sweeper_usd_per_month': sweeperPerMonth,
      'cost.dynamodb_wru_per_session_10_refreshes': perSession.wru,
      'cost.putevents_entries_per_session_10_refreshes': perSession.putEventsEntries,
      'consumer.invocations_per_session_10_refreshes': perSession.consumerInvocations,
      'scale.per_session_mode_sessions_per_s_1h': perSessionValue,
      'scale.sweeper_mode_sessions_per_s_11h': Math.min(pipelineValue, stsValue),
      'scale.sweeper_mode_headroom_over_sts': pipelineValue / stsValue,
      'revocation.fanout_start_p95_ms': await fanoutStartP95Ms(),
    };
  },
};

export default suite;
