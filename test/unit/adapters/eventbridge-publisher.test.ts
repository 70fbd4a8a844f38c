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
  NOT_SENT_AFTER_EARLIER_FAILURE,
  packByKey,
} from '../../../src/adapters/eventbridge-publisher.js';
import { EVENT_SOURCE, sessionStateChanged } from '../../../src/domain/events.js';
import type { DomainEvent } from '../../../src/ports.js';

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

/** The n-th event of session `session` (streamEventId `s<session>-<n>`). */
const eventOfSession = (session: number, n: number): DomainEvent =>
  sessionStateChanged(
    {
      sessionId: session.toString(16).padStart(32, '0'),
      user: 'alice',
      profile: 'dev',
      status: 'active',
      version: n,
    },
    { fromStatus: null, streamEventId: `s${session}-${n}`, at },
  );
const idOf = (entry: PutEventsRequestEntry | undefined): string =>
  JSON.parse(entry?.Detail ?? '{}').streamEventId;

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

describe('packByKey', () => {
  const limits = { maxEntries: 4, maxBytes: 100 };
  const key = (item: string) => item.charAt(0);

  it("puts a key's items in one chunk when they fit, filling chunks first-fit", () => {
    // Prepare: plain chunking would split b's pair across the first two chunks.
    const items = ['a1', 'c1', 'd1', 'b1', 'b2', 'e1', 'f1'];
    // Act
    const lanes = packByKey(items, key, () => 1, limits);
    // Assess
    expect(lanes.map((l) => l.chunks)).toEqual([[['a1', 'c1', 'd1', 'e1']], [['b1', 'b2', 'f1']]]);
  });

  it('gives a key too big for one chunk a lane of chunks in order, and every other chunk a lane of its own', () => {
    const items = ['x1', 'a1', 'x2', 'x3', 'x4', 'x5', 'b1'];
    const lanes = packByKey(items, key, () => 1, limits);
    expect(lanes.map((l) => l.chunks)).toEqual([
      [
        ['x1', 'x2', 'x3', 'x4'],
        ['x5', 'a1', 'b1'],
      ],
    ]);
  });

  it('counts bytes as well as entries', () => {
    const lanes = packByKey(['a1', 'a2', 'b1'], key, (item) => (item === 'b1' ? 60 : 30), limits);
    expect(lanes.map((l) => l.chunks)).toEqual([[['a1', 'a2']], [['b1']]]);
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

  it("keeps a session's events in one call when they fit, though plain chunking would split them", async () => {
    // Prepare: nine sessions with one event, then session 99 with two.
    eventBridge.on(PutEventsCommand).callsFake(accepted);
    const events = [
      ...Array.from({ length: 9 }, (_, i) => eventOfSession(i, 1)),
      eventOfSession(99, 1),
      eventOfSession(99, 2),
    ];
    // Act
    const result = await newPublisher().publish(events);
    // Assess
    expect(result.failed).toEqual([]);
    const calls = sentEntries().map((c) => c.map(idOf));
    expect(calls.length).toBe(2);
    expect(calls.find((c) => c.includes('s99-1'))).toEqual(expect.arrayContaining(['s99-1', 's99-2']));
    const together = calls.find((c) => c.includes('s99-1')) ?? [];
    expect(together.indexOf('s99-1')).toBeLessThan(together.indexOf('s99-2'));
  });

  it('sends the calls of a session too big for one call one after the other, in order', async () => {
    // Prepare: session 7 has 25 events (three calls); each call answers after a tick, calls of other
    // sessions run alongside.
    const inFlight: string[][] = [];
    let overlapped = false;
    eventBridge.on(PutEventsCommand).callsFake(async (input: { Entries?: PutEventsRequestEntry[] }) => {
      const ids = (input.Entries ?? []).map(idOf);
      const mine = ids.some((id) => id.startsWith('s7-'));
      if (mine && inFlight.some((c) => c.some((id) => id.startsWith('s7-')))) overlapped = true;
      inFlight.push(ids);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight.splice(inFlight.indexOf(ids), 1);
      return accepted(input);
    });
    const events = [
      ...Array.from({ length: 25 }, (_, i) => eventOfSession(7, i + 1)),
      ...Array.from({ length: 15 }, (_, i) => eventOfSession(100 + i, 1)),
    ];
    // Act
    const result = await newPublisher().publish(events);
    // Assess
    expect(result.failed).toEqual([]);
    expect(overlapped).toBe(false);
    const order = sentEntries()
      .flat()
      .map(idOf)
      .filter((id) => id.startsWith('s7-'));
    expect(order).toEqual(Array.from({ length: 25 }, (_, i) => `s7-${i + 1}`));
  });

  it("holds a session's later events back while an earlier one is retried, so they never overtake it", async () => {
    // Prepare: s7-3 (first call) is refused once; s7-11.. are in the second call of the session.
    let refused = false;
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => {
      const entries = input.Entries ?? [];
      const failAt = refused ? -1 : entries.findIndex((e) => idOf(e) === 's7-3');
      if (failAt >= 0) refused = true;
      return {
        FailedEntryCount: failAt >= 0 ? 1 : 0,
        Entries: entries.map((_, i) =>
          i === failAt ? { ErrorCode: 'InternalFailure' } : { EventId: `id-${i}` },
        ),
      };
    });
    const events = Array.from({ length: 12 }, (_, i) => eventOfSession(7, i + 1));
    // Act
    const result = await newPublisher().publish(events);
    // Assess: the first accepted copy of each event, in bus order.
    expect(result.failed).toEqual([]);
    const accepted = sentEntries()
      .flat()
      .map(idOf)
      .filter((id, i, all) => !(id === 's7-3' && all.indexOf(id) === i));
    expect(accepted.indexOf('s7-3')).toBeLessThan(accepted.indexOf('s7-11'));
    expect(accepted.filter((id) => id === 's7-11').length).toBe(1);
  });

  it('reports a held-back event as not sent when the last attempt is over', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 1,
      Entries: (input.Entries ?? []).map((e) =>
        idOf(e) === 's7-1' ? { ErrorCode: 'ThrottlingException' } : { EventId: 'ok' },
      ),
    }));
    const events = Array.from({ length: 11 }, (_, i) => eventOfSession(7, i + 1));
    const result = await newPublisher([], 1).publish(events);
    expect(
      result.failed.map((f) => [
        'streamEventId' in f.event.detail ? f.event.detail.streamEventId : undefined,
        f.errorCode,
      ]),
    ).toEqual([
      ['s7-1', 'ThrottlingException'],
      ['s7-11', NOT_SENT_AFTER_EARLIER_FAILURE],
    ]);
  });
});
