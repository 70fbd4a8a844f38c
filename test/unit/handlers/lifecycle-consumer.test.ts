/**
 * The lifecycle consumer handler: the deployed `handler` (built from the environment) on the events/streams
 * fixtures, its configuration read at init, and two handlers built in one process keeping their own
 * configuration and clients. SDK calls are mocked with aws-sdk-client-mock.
 */
import { readFileSync } from 'node:fs';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createObservability } from '../../../src/commons/powertools.js';
import { fakeLambdaContext } from '../../support/consumer-fakes.js';

const LIFECYCLE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sentinel-sessions-lifecycle-dev';
const FANOUT = 'arn:aws:states:eu-west-1:123456789012:stateMachine:sentinel-sessions-revocation-fanout-dev';
const SESSION = '7f3a9c2e5b1d4e8fa0c6b2d9e4f1a3c5';
const ENV = {
  AWS_REGION: 'eu-west-1',
  LIFECYCLE_STATE_MACHINE_ARN: LIFECYCLE,
  REVOCATION_FANOUT_STATE_MACHINE_ARN: FANOUT,
  EVENT_BUS_NAME: 'sentinel-sessions',
  IDEMPOTENCY_TABLE_NAME: 'sentinel-sessions-stream-idempotency-dev',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

const sfn = mockClient(SFNClient);
const eventBridge = mockClient(EventBridgeClient);
const dynamo = mockClient(DynamoDBClient);
const fixture = (name: string) =>
  JSON.parse(readFileSync(`events/streams/${name}.json`, 'utf8')) as DynamoDBStreamEvent;

/** The module as Lambda loads it: its `handler` is built from `env` at import. */
const loadModule = async (env: Record<string, string | undefined> = ENV) => {
  vi.resetModules();
  vi.unstubAllEnvs();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return import('../../../src/handlers/lifecycle-consumer.js');
};
const loadHandler = async (env: Record<string, string | undefined> = ENV) => (await loadModule(env)).handler;

beforeEach(() => {
  for (const mock of [sfn, eventBridge, dynamo]) mock.reset();
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
  sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map(() => ({ EventId: 'e' })),
  }));
  // The idempotency table: no record yet, and every write accepted.
  dynamo.on(GetItemCommand).resolves({});
  dynamo.on(PutItemCommand).resolves({});
  dynamo.on(UpdateItemCommand).resolves({});
  dynamo.on(DeleteItemCommand).resolves({});
});
afterAll(() => vi.unstubAllEnvs());

describe('lifecycle consumer handler (events/streams fixtures, as `sam local invoke -e` sends them)', () => {
  it('insert.json: starts the lifecycle execution named by the session and audits the change', async () => {
    // Prepare
    const handler = await loadHandler();
    // Act
    const response = await handler(fixture('insert'), fakeLambdaContext());
    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const start = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start).toMatchObject({ stateMachineArn: LIFECYCLE, name: SESSION });
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => [e.Source, e.DetailType, e.EventBusName])).toEqual([
      ['sentinel.sessions', 'SessionStateChanged', 'sentinel-sessions'],
    ]);
    // The record was remembered under its eventID in the idempotency table.
    expect(dynamo.commandCalls(PutItemCommand)[0]?.args[0].input.TableName).toBe(ENV.IDEMPOTENCY_TABLE_NAME);
  });

  it('revoke.json: stops the lifecycle execution and starts revoke-<sessionId> on the fan-out workflow', async () => {
    const handler = await loadHandler();
    const response = await handler(fixture('revoke'), fakeLambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input.executionArn).toBe(
      `arn:aws:states:eu-west-1:123456789012:execution:sentinel-sessions-lifecycle-dev:${SESSION}`,
    );
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toMatchObject({
      stateMachineArn: FANOUT,
      name: `revoke-${SESSION}`,
    });
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => e.DetailType)).toEqual(['SessionStateChanged', 'SessionRevoked']);
    expect(JSON.parse(entries[1]?.Detail ?? '{}')).toMatchObject({
      revokedAt: '2026-03-02T09:40:00.000Z',
      revokedBy: 'bob',
      reason: 'laptop reported lost',
    });
  });

  it('revoke.json delivered after its fan-out FAILED: describes it, starts revoke-<sessionId>-r1, still announces', async () => {
    sfn
      .on(StartExecutionCommand, { name: `revoke-${SESSION}` })
      .rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'exists' }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    const handler = await loadHandler();
    const response = await handler(fixture('revoke'), fakeLambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(
      `arn:aws:states:eu-west-1:123456789012:execution:sentinel-sessions-revocation-fanout-dev:revoke-${SESSION}`,
    );
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([
      `revoke-${SESSION}`,
      `revoke-${SESSION}-r1`,
    ]);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => e.DetailType)).toEqual(['SessionStateChanged', 'SessionRevoked']);
  });

  it('touch.json: no workflow call and no event', async () => {
    const handler = await loadHandler();
    expect(await handler(fixture('touch'), fakeLambdaContext())).toEqual({ batchItemFailures: [] });
    expect(sfn.calls().length + eventBridge.calls().length).toBe(0);
  });

  it('ttl-remove.json: SessionPurged, then SessionExpired (ttl)', async () => {
    const handler = await loadHandler();
    expect(await handler(fixture('ttl-remove'), fakeLambdaContext())).toEqual({ batchItemFailures: [] });
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => [e.DetailType, JSON.parse(e.Detail ?? '{}').reason])).toEqual([
      ['SessionPurged', undefined],
      ['SessionExpired', 'ttl'],
    ]);
  });

  it('expire.json: no workflow call; SessionStateChanged, then SessionExpired (workflow) on the bus', async () => {
    const handler = await loadHandler();
    expect(await handler(fixture('expire'), fakeLambdaContext())).toEqual({ batchItemFailures: [] });
    expect(sfn.calls().length).toBe(0);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => [e.DetailType, JSON.parse(e.Detail ?? '{}').reason])).toEqual([
      ['SessionStateChanged', undefined],
      ['SessionExpired', 'workflow'],
    ]);
  });

  it("delete.json (a caller's DeleteItem): SessionPurged only", async () => {
    const handler = await loadHandler();
    expect(await handler(fixture('delete'), fakeLambdaContext())).toEqual({ batchItemFailures: [] });
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => [e.DetailType, JSON.parse(e.Detail ?? '{}').finalStatus])).toEqual([
      ['SessionPurged', 'active'],
    ]);
  });

  it('fails its cold start naming a missing variable', async () => {
    await expect(loadHandler({ ...ENV, EVENT_BUS_NAME: undefined })).rejects.toThrow(/EVENT_BUS_NAME/);
  });
});

describe('lifecycleConsumerConfigFromEnv', () => {
  // By name: each loadModule() re-imports src/, so the class differs from one imported here.
  const configurationError = (message: string | RegExp) =>
    expect.objectContaining({
      name: 'ConfigurationError',
      message: typeof message === 'string' ? message : expect.stringMatching(message),
    });

  it('reads the state machines, the bus and the idempotency table', async () => {
    const { lifecycleConsumerConfigFromEnv } = await loadModule();
    expect(lifecycleConsumerConfigFromEnv(ENV)).toEqual({
      lifecycleStateMachineArn: LIFECYCLE,
      revocationFanoutStateMachineArn: FANOUT,
      eventBusName: 'sentinel-sessions',
      idempotencyTableName: 'sentinel-sessions-stream-idempotency-dev',
      perSessionExecutions: 'enabled',
    });
  });

  it.each(['enabled', 'disabled'] as const)('reads PER_SESSION_EXECUTIONS %s', async (mode) => {
    const { lifecycleConsumerConfigFromEnv } = await loadModule();
    expect(
      lifecycleConsumerConfigFromEnv({ ...ENV, PER_SESSION_EXECUTIONS: mode }).perSessionExecutions,
    ).toBe(mode);
  });

  it('fails naming PER_SESSION_EXECUTIONS when it is neither enabled nor disabled', async () => {
    const { lifecycleConsumerConfigFromEnv } = await loadModule();
    expect(() => lifecycleConsumerConfigFromEnv({ ...ENV, PER_SESSION_EXECUTIONS: 'off' })).toThrow(
      configurationError(
        'environment variable PER_SESSION_EXECUTIONS must be one of enabled, disabled, got "off"',
      ),
    );
  });

  it.each([
    'LIFECYCLE_STATE_MACHINE_ARN',
    'REVOCATION_FANOUT_STATE_MACHINE_ARN',
    'EVENT_BUS_NAME',
    'IDEMPOTENCY_TABLE_NAME',
  ])('fails naming %s when it is missing or blank', async (name) => {
    const { lifecycleConsumerConfigFromEnv } = await loadModule();
    for (const value of [undefined, ' ']) {
      expect(() => lifecycleConsumerConfigFromEnv({ ...ENV, [name]: value })).toThrow(
        configurationError(`environment variable ${name} is required but not set`),
      );
    }
  });

  it('fails naming a state machine variable that holds another kind of ARN', async () => {
    const { lifecycleConsumerConfigFromEnv } = await loadModule();
    const read = () =>
      lifecycleConsumerConfigFromEnv({
        ...ENV,
        REVOCATION_FANOUT_STATE_MACHINE_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:fanout',
      });
    expect(read).toThrow(
      configurationError(
        /^environment variable REVOCATION_FANOUT_STATE_MACHINE_ARN is invalid: Not a state machine ARN/,
      ),
    );
  });
});

describe('createLifecycleConsumerHandler', () => {
  const arnOf = (name: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`;

  /** A handler on clients of its own (their calls answered by the class-level mocks above). */
  const build = async (suffix: string, perSessionExecutions: 'enabled' | 'disabled' = 'enabled') => {
    const { createLifecycleConsumerHandler } = await loadModule();
    const clients = {
      sfn: new SFNClient({ region: 'eu-west-1' }),
      eventBridge: new EventBridgeClient({ region: 'eu-west-1' }),
      dynamoDb: new DynamoDBClient({ region: 'eu-west-1' }),
    };
    const observability = createObservability({ serviceName: `consumer-${suffix}` });
    const addMetric = vi.spyOn(observability.metrics, 'addMetric');
    const logged = vi.spyOn(observability.logger, 'error');
    const handler = createLifecycleConsumerHandler({
      config: {
        lifecycleStateMachineArn: arnOf(`lifecycle-${suffix}`),
        revocationFanoutStateMachineArn: arnOf(`fanout-${suffix}`),
        eventBusName: `bus-${suffix}`,
        idempotencyTableName: `idempotency-${suffix}`,
        perSessionExecutions,
      },
      clients,
      observability,
    });
    return { handler, clients, addMetric, logged };
  };

  it('two handlers in one process each use their own state machines, bus, idempotency table and clients', async () => {
    // Prepare
    const a = await build('a');
    const b = await build('b');
    // Act
    expect(await a.handler(fixture('insert'), fakeLambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await b.handler(fixture('revoke'), fakeLambdaContext())).toEqual({ batchItemFailures: [] });
    // Assess: every call went through the handler's own client (by identity), with its own configuration.
    const who = (client: unknown): string =>
      Object.values(a.clients).includes(client as never)
        ? 'a'
        : Object.values(b.clients).includes(client as never)
          ? 'b'
          : 'neither';
    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts.map((c) => [who(c.thisValue), c.args[0].input.stateMachineArn])).toEqual([
      ['a', arnOf('lifecycle-a')],
      ['b', arnOf('fanout-b')],
    ]);
    const stops = sfn.commandCalls(StopExecutionCommand);
    expect(stops.map((c) => [who(c.thisValue), c.args[0].input.executionArn])).toEqual([
      ['b', `arn:aws:states:eu-west-1:123456789012:execution:lifecycle-b:${SESSION}`],
    ]);
    const buses = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((c) =>
        (c.args[0].input.Entries ?? []).map((e) => [who(c.thisValue), e.EventBusName, e.DetailType]),
      );
    expect(buses).toEqual([
      ['a', 'bus-a', 'SessionStateChanged'],
      ['b', 'bus-b', 'SessionStateChanged'],
      ['b', 'bus-b', 'SessionRevoked'],
    ]);
    const tables = dynamo
      .commandCalls(PutItemCommand)
      .map((c) => [who(c.thisValue), c.args[0].input.TableName]);
    expect(tables).toEqual([
      ['a', 'idempotency-a'],
      ['b', 'idempotency-b'],
    ]);
  });

  it('with PerSessionExecutions disabled starts and stops no lifecycle execution, and still fans a revocation out', async () => {
    // Prepare
    const c = await build('c', 'disabled');
    // Act
    expect(await c.handler(fixture('insert'), fakeLambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await c.handler(fixture('revoke'), fakeLambdaContext())).toEqual({ batchItemFailures: [] });
    // Assess
    const starts = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.stateMachineArn);
    expect(starts).toEqual([arnOf('fanout-c')]);
    expect(sfn.commandCalls(StopExecutionCommand)).toEqual([]);
    const announced = eventBridge
      .commandCalls(PutEventsCommand)
      .flatMap((call) => (call.args[0].input.Entries ?? []).map((e) => e.DetailType));
    expect(announced).toEqual(['SessionStateChanged', 'SessionStateChanged', 'SessionRevoked']);
  });

  it('counts received and failed records on its own metrics, and logs on its own logger', async () => {
    // Prepare: b's bus refuses everything, a's is the default mock.
    const a = await build('a');
    const b = await build('b');
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => {
      const entries = input.Entries ?? [];
      if (entries.some((e) => e.EventBusName === 'bus-b')) {
        throw Object.assign(new Error('down'), { name: 'InternalException' });
      }
      return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: 'e' })) };
    });
    // Act
    await a.handler(fixture('insert'), fakeLambdaContext());
    await expect(b.handler(fixture('insert'), fakeLambdaContext())).rejects.toThrow();
    // Assess
    const counts = (spy: typeof a.addMetric) => spy.mock.calls.map(([name, , value]) => [name, value]);
    expect(counts(a.addMetric)).toEqual([
      ['StreamRecordsReceived', 1],
      ['StreamRecordsFailed', 0],
    ]);
    expect(counts(b.addMetric)).toEqual([
      ['StreamRecordsReceived', 1],
      ['StreamRecordsFailed', 1],
    ]);
    expect(a.logged).not.toHaveBeenCalled();
    expect(b.logged).toHaveBeenCalledWith('stream batch failed entirely', expect.anything());
  });
});
