import {
  EventBridgeClient,
  EventBridgeServiceException,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chunkBySize,
  EventBridgePublisher,
  entrySize,
  MAX_BYTES_PER_CALL,
} from '../../src/adapters/eventbridge-publisher.js';
import { EVENT_SOURCE, sessionStateChanged } from '../../src/domain/events.js';
import type { DomainEvent } from '../../src/ports.js';

const eventBridge = mockClient(EventBridgeClient);
const at = new Date('2026-01-01T00:00:00.000Z');

const event = (n: number, padding = ''): DomainEvent =>
  sessionStateChanged(
    {
      sessionId: n.toString(16).padStart(32, '0'),
      user: `alice${padding}`,
      profile: 'dev',
      status: 'active',
      version: 1,
    },
    { fromStatus: null, streamEventId: `e${n}`, at },
  );

const sentEntries = (): PutEventsRequestEntry[][] =>
  eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

const accepted = (input: { Entries?: PutEventsRequestEntry[] }) => ({
  FailedEntryCount: 0,
  Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `id-${i}` })),
});

const newPublisher = (sleeps: number[] = [], maxAttempts = 4) =>
  new EventBridgePublisher({
    client: new EventBridgeClient({ region: 'us-east-1' }),
    eventBusName: 'sentinel-sessions',
    maxAttempts,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });

beforeEach(() => {
  eventBridge.reset();
});
afterEach(() => {
  eventBridge.reset();
});

describe('entrySize', () => {
  it('counts Time as 14 bytes and Source, DetailType, Detail, Resources as UTF-8 bytes', () => {
    // Prepare
    const entry: PutEventsRequestEntry = {
      Time: at,
      Source: 'abc',
      DetailType: 'é', // 2 bytes in UTF-8
      Detail: '{"k":"€"}', // € is 3 bytes: 8 + 3
      Resources: ['r1', 'r22'],
      EventBusName: 'not-counted',
    };
    // Act
    const size = entrySize(entry);
    // Assess
    expect(size).toBe(14 + 3 + 2 + 11 + 2 + 3);
  });

  it('omits Time and Detail when absent', () => {
    expect(entrySize({ Source: 'a', DetailType: 'b' })).toBe(2);
  });
});

describe('chunkBySize', () => {
  it('never exceeds the entry count and keeps order', () => {
    const chunks = chunkBySize(
      Array.from({ length: 23 }, (_, i) => i),
      () => 1,
    );
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 3]);
    expect(chunks.flat()).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('starts a new chunk before the byte budget would be exceeded', () => {
    const chunks = chunkBySize([100, 100, 60, 50], (n) => n, { maxEntries: 10, maxBytes: 250 });
    expect(chunks).toEqual([
      [100, 100],
      [60, 50],
    ]);
  });
});

describe('EventBridgePublisher', () => {
  it('sends 25 events in 3 calls of at most 10 entries with source, detail type, detail and bus', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).callsFake(accepted);
    const events = Array.from({ length: 25 }, (_, i) => event(i));
    // Act
    const result = await newPublisher().publish(events);
    // Assess
    expect(result.failed).toEqual([]);
    const calls = sentEntries();
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
    const first = calls[0]?.[0];
    expect(first?.Source).toBe(EVENT_SOURCE);
    expect(first?.DetailType).toBe('SessionStateChanged');
    expect(first?.EventBusName).toBe('sentinel-sessions');
    expect(JSON.parse(first?.Detail ?? '{}')).toEqual(events[0]?.detail);
    expect(first?.Time?.toISOString()).toBe(at.toISOString());
  });

  it('keeps every call under 256 KB as EventBridge counts it', async () => {
    // Prepare: 40 KB per event, so at most 6 fit in one call.
    eventBridge.on(PutEventsCommand).callsFake(accepted);
    const events = Array.from({ length: 8 }, (_, i) => event(i, 'x'.repeat(40 * 1024)));
    // Act
    const result = await newPublisher().publish(events);
    // Assess
    expect(result.failed).toEqual([]);
    const calls = sentEntries();
    expect(calls.length).toBe(2);
    for (const call of calls) {
      expect(call.reduce((sum, e) => sum + entrySize(e), 0)).toBeLessThanOrEqual(MAX_BYTES_PER_CALL);
    }
    expect(calls.flat().length).toBe(8);
  });

  it('returns an entry that can never fit as failed without sending it', async () => {
    eventBridge.on(PutEventsCommand).callsFake(accepted);
    const huge = event(1, 'x'.repeat(MAX_BYTES_PER_CALL));
    const result = await newPublisher().publish([huge, event(2)]);
    expect(result.failed).toEqual([{ event: huge, errorCode: 'EntryTooLarge' }]);
    expect(sentEntries().flat().length).toBe(1);
  });

  it('retries only the failed entries, with growing jittered backoff, until they are accepted', async () => {
    // Prepare: entries 1 and 3 fail twice with InternalFailure, then everything is accepted.
    let call = 0;
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => {
      call++;
      const entries = input.Entries ?? [];
      if (call <= 2) {
        const failIndexes = call === 1 ? [1, 3] : [0, 1];
        return {
          FailedEntryCount: failIndexes.length,
          Entries: entries.map((_, i) =>
            failIndexes.includes(i)
              ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
              : { EventId: `id-${i}` },
          ),
        };
      }
      return accepted(input);
    });
    const sleeps: number[] = [];
    const events = Array.from({ length: 5 }, (_, i) => event(i));
    // Act
    const result = await newPublisher(sleeps).publish(events);
    // Assess
    expect(result.failed).toEqual([]);
    const calls = sentEntries();
    expect(calls.map((c) => c.length)).toEqual([5, 2, 2]);
    const detailOf = (e: PutEventsRequestEntry | undefined) => JSON.parse(e?.Detail ?? '{}').streamEventId;
    expect(calls[1]?.map(detailOf)).toEqual(['e1', 'e3']);
    expect(sleeps).toEqual([50, 100]); // random 0.5 × 100·2^(n-1)
  });

  it('reports entries that still fail after the last attempt with their error code', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 1,
      Entries: (input.Entries ?? []).map((e) =>
        JSON.parse(e.Detail ?? '{}').streamEventId === 'e2'
          ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }
          : { EventId: 'ok' },
      ),
    }));
    const events = [event(1), event(2), event(3)];
    const result = await newPublisher([], 3).publish(events);
    expect(result.failed).toEqual([{ event: events[1], errorCode: 'ThrottlingException' }]);
    expect(sentEntries().map((c) => c.length)).toEqual([3, 1, 1]);
  });

  it('does not retry an entry the bus rejects for good', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' }],
    });
    const events = [event(1)];
    const result = await newPublisher().publish(events);
    expect(result.failed).toEqual([{ event: events[0], errorCode: 'MalformedDetail' }]);
    expect(sentEntries().length).toBe(1);
  });

  it('retries the whole call when it is throttled', async () => {
    // Prepare
    const throttled = new EventBridgeServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Rate exceeded',
    });
    eventBridge.on(PutEventsCommand).rejectsOnce(throttled).callsFake(accepted);
    const sleeps: number[] = [];
    // Act
    const result = await newPublisher(sleeps).publish([event(1), event(2)]);
    // Assess
    expect(result.failed).toEqual([]);
    expect(sentEntries().map((c) => c.length)).toEqual([2, 2]);
    expect(sleeps.length).toBe(1);
  });

  it('fails every entry of a call refused for a reason retries cannot fix', async () => {
    const denied = new EventBridgeServiceException({
      name: 'ResourceNotFoundException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Event bus sentinel-sessions does not exist.',
    });
    eventBridge.on(PutEventsCommand).rejects(denied);
    const events = [event(1), event(2)];
    const result = await newPublisher().publish(events);
    expect(result.failed.map((f) => f.errorCode)).toEqual([
      'ResourceNotFoundException',
      'ResourceNotFoundException',
    ]);
    expect(sentEntries().length).toBe(1);
  });

  it('sends nothing for no events', async () => {
    eventBridge.on(PutEventsCommand).callsFake(accepted);
    expect(await newPublisher().publish([])).toEqual({ failed: [] });
    expect(sentEntries().length).toBe(0);
  });
});
