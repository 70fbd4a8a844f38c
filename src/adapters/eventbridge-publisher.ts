/**
 * EventPublisher on Amazon EventBridge. Events go out in as few PutEvents calls as the service allows
 * (≤ 10 entries and ≤ 256 KB per call, sized the way EventBridge sizes them), failed entries and
 * throttled calls are retried with capped exponential backoff and full jitter, and whatever still fails
 * is returned to the caller with its error code: never dropped silently (invariant 7).
 *
 * Calls run in parallel, so events of one session are kept in one call whenever they fit (entries of one
 * call keep their order); a session whose events need several calls has them sent one call after the
 * other, and once one of its events is refused its later events wait for the retry round instead of
 * overtaking it. EventBridge itself does not promise delivery order: this only keeps us from adding
 * disorder of our own.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE } from '../domain/events.js';
import type { DomainEvent, EventPublisher, PublishResult } from '../ports.js';

/** PutEvents limits (EventBridge quotas, not adjustable). */
export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_BYTES_PER_CALL = 256 * 1024;

/** Error code of an event not sent because an earlier event of its session was refused in the last round. */
export const NOT_SENT_AFTER_EARLIER_FAILURE = 'NotSentAfterEarlierFailure';

/** Error codes that no retry will fix: the entry itself is wrong or the caller may not send it. */
const PERMANENT_ENTRY_ERRORS = new Set([
  'EntryTooLarge',
  'MalformedDetail',
  'InvalidArgument',
  'ValidationException',
  'AccessDeniedException',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

/** Whole-call failures worth another try: throttling and the service's own 5xx. */
const TRANSIENT_CALL_ERRORS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'LimitExceededException',
  'InternalException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'TimeoutError',
]);

const utf8Bytes = (value: string | undefined): number =>
  value === undefined ? 0 : Buffer.byteLength(value, 'utf8');

/**
 * The size EventBridge counts for one entry: 14 bytes for Time if set, plus the UTF-8 bytes of Source,
 * DetailType, Detail and each Resource (the EventBusName is not counted).
 */
export const entrySize = (entry: PutEventsRequestEntry): number =>
  (entry.Time ? 14 : 0) +
  utf8Bytes(entry.Source) +
  utf8Bytes(entry.DetailType) +
  utf8Bytes(entry.Detail) +
  (entry.Resources ?? []).reduce((sum, resource) => sum + utf8Bytes(resource), 0);

/** Splits in order into chunks of ≤ maxEntries whose sizes add up to ≤ maxBytes. */
export const chunkBySize = <T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  limits: { readonly maxEntries: number; readonly maxBytes: number } = {
    maxEntries: MAX_ENTRIES_PER_CALL,
    maxBytes: MAX_BYTES_PER_CALL,
  },
): T[][] => {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= limits.maxEntries || bytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

/** Events of one key (session) in publish order: they travel in one chunk, or in chunks sent in sequence. */
export interface Lane<T> {
  readonly chunks: T[][];
}

/**
 * Packs items into chunks (≤ maxEntries, ≤ maxBytes) so that the items of one key share a chunk when they
 * fit in one: each key's group goes into the first chunk with room (first fit, so chunks stay full), and
 * keeps its order inside it. A group too big for one chunk gets chunks of its own, which form one lane
 * (to be sent in sequence); every other chunk is a lane by itself. Groups are placed in the order of their
 * first item, so items of distinct keys keep their order as far as packing allows.
 */
export const packByKey = <T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  sizeOf: (item: T) => number,
  limits: { readonly maxEntries: number; readonly maxBytes: number } = {
    maxEntries: MAX_ENTRIES_PER_CALL,
    maxBytes: MAX_BYTES_PER_CALL,
  },
): Lane<T>[] => {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key) ?? [];
    group.push(item);
    groups.set(key, group);
  }
  const lanes: Lane<T>[] = [];
  const open: { items: T[]; bytes: number }[] = [];
  for (const group of groups.values()) {
    const bytes = group.reduce((sum, item) => sum + sizeOf(item), 0);
    if (group.length > limits.maxEntries || bytes > limits.maxBytes) {
      const chunks = chunkBySize(group, sizeOf, limits);
      lanes.push({ chunks });
      // Its last chunk may take other (whole) groups: they share no key with the lane's earlier chunks.
      const last = chunks[chunks.length - 1];
      if (last) open.push({ items: last, bytes: last.reduce((sum, item) => sum + sizeOf(item), 0) });
      continue;
    }
    const chunk = open.find(
      (c) => c.items.length + group.length <= limits.maxEntries && c.bytes + bytes <= limits.maxBytes,
    );
    if (chunk) {
      chunk.items.push(...group);
      chunk.bytes += bytes;
    } else {
      const fresh = { items: [...group], bytes };
      open.push(fresh);
      lanes.push({ chunks: [fresh.items] });
    }
  }
  return lanes;
};

export interface EventBridgePublisherOptions {
  readonly client: EventBridgeClient;
  readonly eventBusName: string;
  /** Total tries per entry, the first included. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** PutEvents calls in flight at once. */
  readonly concurrency?: number;
  /** Injected so tests do not wait and can pin the jitter. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

interface Pending {
  readonly event: DomainEvent;
  readonly entry: PutEventsRequestEntry;
  readonly size: number;
}

interface Outcome {
  readonly item: Pending;
  /** undefined = accepted. */
  readonly errorCode: string | undefined;
  readonly permanent: boolean;
}

/**
 * The key whose events keep their order: the session, or for an event without one (VendDenied of a refused
 * create) the caller's canonical user, so one caller's denials stay in order without holding anyone else's.
 */
const orderKeyOf = ({ detail }: DomainEvent): string => detail.sessionId ?? `user:${detail.user}`;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const errorName = (error: unknown): string =>
  error instanceof Error ? error.name : typeof error === 'string' ? error : 'UnknownError';

const isTransientCallError = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_CALL_ERRORS.has(error.name)) return true;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const retryable = (error as { $retryable?: unknown }).$retryable;
  return retryable !== undefined || (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500);
};

export class EventBridgePublisher implements EventPublisher {
  readonly #client: EventBridgeClient;
  readonly #eventBusName: string;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #concurrency: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: EventBridgePublisherOptions) {
    this.#client = options.client;
    this.#eventBusName = options.eventBusName;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#baseDelayMs = options.baseDelayMs ?? 50;
    this.#maxDelayMs = options.maxDelayMs ?? 2000;
    this.#concurrency = Math.max(1, options.concurrency ?? 5);
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
  }

  /** The PutEvents entry for one domain event; Time is when it happened, not when it was sent. */
  toEntry(event: DomainEvent): PutEventsRequestEntry {
    return {
      Source: EVENT_SOURCE,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
      EventBusName: this.#eventBusName,
      Time: new Date(event.detail.occurredAt),
    };
  }

  async publish(events: readonly DomainEvent[]): Promise<PublishResult> {
    const failed: { event: DomainEvent; errorCode: string }[] = [];
    let pending: Pending[] = [];
    for (const event of events) {
      const entry = this.toEntry(event);
      const size = entrySize(entry);
      // An entry over the per-call limit can never be sent; say so instead of failing the whole call.
      if (size > MAX_BYTES_PER_CALL) failed.push({ event, errorCode: 'EntryTooLarge' });
      else pending.push({ event, entry, size });
    }

    for (let attempt = 1; pending.length > 0; attempt++) {
      const lanes = packByKey(
        pending,
        (p) => orderKeyOf(p.event),
        (p) => p.size,
      );
      const retry: Pending[] = [];
      const last = attempt >= this.#maxAttempts;
      await this.#inParallel(lanes, async (lane) => {
        // Sessions of this lane with an event refused in this round: their later events wait.
        const held = new Set<string>();
        for (const chunk of lane.chunks) {
          const waiting = chunk.filter((p) => held.has(orderKeyOf(p.event)));
          for (const item of waiting) {
            if (last) failed.push({ event: item.event, errorCode: NOT_SENT_AFTER_EARLIER_FAILURE });
            else retry.push(item);
          }
          const sending = chunk.filter((p) => !held.has(orderKeyOf(p.event)));
          if (sending.length === 0) continue;
          for (const outcome of await this.#send(sending)) {
            if (outcome.errorCode === undefined) continue;
            held.add(orderKeyOf(outcome.item.event));
            if (outcome.permanent || last) {
              failed.push({ event: outcome.item.event, errorCode: outcome.errorCode });
            } else {
              retry.push(outcome.item);
            }
          }
        }
      });
      if (retry.length === 0) break;
      // Keep the original order so a retried chunk still lists one session's events in sequence.
      const order = new Map(pending.map((p, i) => [p, i]));
      pending = retry.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
      await this.#sleep(this.#backoff(attempt));
    }
    return { failed };
  }

  /** Capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.#random() * ceiling);
  }

  /** One PutEvents call; an error code per entry (undefined = accepted). */
  async #send(chunk: readonly Pending[]): Promise<Outcome[]> {
    try {
      const response = await this.#client.send(new PutEventsCommand({ Entries: chunk.map((p) => p.entry) }));
      const results = response.Entries ?? [];
      const anyFailed = (response.FailedEntryCount ?? 0) > 0;
      return chunk.map((item, index) => {
        const result = results[index];
        if (result?.ErrorCode) {
          const errorCode = result.ErrorCode;
          return { item, errorCode, permanent: PERMANENT_ENTRY_ERRORS.has(errorCode) };
        }
        // No result entry while the call reports failures: we cannot prove it landed, so try again.
        if (!result?.EventId && anyFailed) return { item, errorCode: 'InternalFailure', permanent: false };
        return { item, errorCode: undefined, permanent: false };
      });
    } catch (error) {
      // The whole call failed: transient errors retry every entry, anything else fails them for good.
      const errorCode = errorName(error);
      const permanent = !isTransientCallError(error);
      return chunk.map((item) => ({ item, errorCode, permanent }));
    }
  }

  async #inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++];
        if (item !== undefined) await work(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, items.length) }, worker));
  }
}
