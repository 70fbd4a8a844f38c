import { readFileSync } from 'node:fs';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
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

const loadHandler = async (env: Record<string, string | undefined> = ENV) => {
  vi.resetModules();
  vi.unstubAllEnvs();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import('../../../src/handlers/lifecycle-consumer.js')).handler;
};

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
