/**
 * The lifecycle consumer over the real EventBridge and Step Functions adapters, every AWS call answered
 * locally after L = 10 ms (a middleware on each client; nothing leaves the machine), idempotency through
 * Powertools with an in-memory store at the same latency.
 *  - consumer.putevents_entries_per_call: PutEvents entries per call for one batch of 100 records.
 *  - consumer.speedup_vs_serial: records/s of the consumer on batches of 100 ÷ records/s of the same
 *    consumer fed one record at a time (a one-record-at-a-time loop with the same calls and latency).
 */
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBRecord } from 'aws-lambda';
import { EventBridgePublisher } from '../../src/adapters/eventbridge-publisher.js';
import { SfnWorkflowControl } from '../../src/adapters/sfn-workflow-control.js';
import { systemClock } from '../../src/domain/clock.js';
import { createLifecycleConsumer } from '../../src/handlers/stream/consume.js';
import { oncePerStreamRecord, streamIdempotencyConfig } from '../../src/handlers/stream/idempotency.js';
import {
  fakeLambdaContext,
  InMemoryCacheClient,
  insertOf,
  revokeOf,
  sessionFixture,
  sessionIdFor,
} from '../../test/support/consumer-fakes.js';
import { type Metrics, round, type Suite, sleep, timeMs } from '../harness.js';

const LATENCY_MS = 10;
const BATCH = 100;
const REGION = 'us-east-1';
const credentials = { accessKeyId: 'BENCHFAKEKEY', secretAccessKey: 'bench-fake-secret' };

/**
 * A middleware that answers every command after LATENCY_MS with `answer(input)`, before any network step.
 * Typed loosely on purpose: one helper serves both clients, whose middleware stacks differ in their types.
 */
const answerLocally =
  <O>(answer: (input: Record<string, unknown>) => O) =>
  (_next: unknown) =>
  async (args: { input: object }): Promise<{ output: O & { $metadata: object }; response: object }> => {
    await sleep(LATENCY_MS);
    return {
      output: { $metadata: { httpStatusCode: 200 }, ...answer(args.input as Record<string, unknown>) },
      response: {},
    };
  };
const AT_START = { step: 'initialize', name: 'benchLocalAnswer' } as const;

const consumerUnderTest = () => {
  const putEventsCalls: number[] = [];
  const eventBridge = new EventBridgeClient({ region: REGION, credentials });
  eventBridge.middlewareStack.add(
    answerLocally((input) => {
      const entries = (input.Entries as PutEventsRequestEntry[] | undefined) ?? [];
      putEventsCalls.push(entries.length);
      return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `bench-${i}` })) };
    }),
    AT_START,
  );
  const sfn = new SFNClient({ region: REGION, credentials });
  sfn.middlewareStack.add(
    answerLocally(() => ({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:x',
      startDate: new Date(),
    })),
    AT_START,
  );
  const config = streamIdempotencyConfig();
  config.registerLambdaContext(fakeLambdaContext());
  const consume = createLifecycleConsumer({
    workflows: new SfnWorkflowControl({
      client: sfn,
      lifecycleStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:lifecycle',
      revocationFanoutStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:fanout',
    }),
    events: new EventBridgePublisher({ client: eventBridge, eventBusName: 'sentinel-sessions' }),
    clock: systemClock,
    once: oncePerStreamRecord(
      new CachePersistenceLayer({ client: new InMemoryCacheClient(LATENCY_MS) }),
      config,
    ),
  });
  return { consume, putEventsCalls };
};

/**
 * 100 records of distinct sessions: 80 new sessions and 20 revocations (the common shapes of a batch):
 * 120 events, as a revocation is audited and then announced (SessionRevoked, in a second wave).
 */
let generation = 0;
const batchOfRecords = (): DynamoDBRecord[] => {
  generation++;
  return Array.from({ length: BATCH }, (_, i) => {
    const session = sessionFixture({ sessionId: sessionIdFor(generation * 1_000_000 + i) });
    return i % 5 === 4 ? revokeOf(session).record : insertOf(session);
  });
};

const suite: Suite = {
  name: 'consumer',
  targets: [
    { metric: 'consumer.putevents_entries_per_call', op: '>=', value: 9 },
    { metric: 'consumer.speedup_vs_serial', op: '>=', value: 5 },
  ],
  async run(): Promise<Metrics> {
    // Entries per PutEvents call for one batch of 100.
    const sizing = consumerUnderTest();
    const sized = await sizing.consume({ Records: batchOfRecords() }, fakeLambdaContext());
    if (sized.batchItemFailures.length > 0) throw new Error('bench batch had failures');
    const entries = sizing.putEventsCalls.reduce((sum, n) => sum + n, 0);
    const entriesPerCall = entries / sizing.putEventsCalls.length;

    // Throughput: 3 batches of 100 vs. the same 300 records one invocation each.
    const batched = consumerUnderTest();
    const batches = [batchOfRecords(), batchOfRecords(), batchOfRecords()];
    const batchedMs = await timeMs(async () => {
      for (const records of batches) await batched.consume({ Records: records }, fakeLambdaContext());
    });
    const serial = consumerUnderTest();
    const singles = [batchOfRecords(), batchOfRecords(), batchOfRecords()].flat();
    const serialMs = await timeMs(async () => {
      for (const record of singles) await serial.consume({ Records: [record] }, fakeLambdaContext());
    });
    const batchedRate = (batches.flat().length / batchedMs) * 1000;
    const serialRate = (singles.length / serialMs) * 1000;
    return {
      'consumer.putevents_entries_per_call': round(entriesPerCall, 2),
      'consumer.records_per_s': round(batchedRate, 1),
      'consumer.serial_records_per_s': round(serialRate, 1),
      'consumer.speedup_vs_serial': round(batchedRate / serialRate, 2),
    };
  },
};

export default suite;
