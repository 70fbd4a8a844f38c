/**
 * `tail`: the audit trail as it grows. In AWS it polls the audit log group (where the bus's audit rule
 * writes every event) with FilterLogEvents; locally it follows the local stack's JSON-lines audit file.
 * Either way one line per event, oldest first, each event once.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import {
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { isNamed } from '../domain/errors.js';
import { failure, usageError } from './errors.js';
import { tailLine } from './format.js';
import type { JsonObject } from './http.js';

/** CloudWatch Logs may show an event a little after its timestamp: each poll looks this far back again. */
export const INGESTION_OVERLAP_MS = 120_000;

export interface TailOptions {
  /** Epoch ms: events before it are not shown. */
  readonly startTime: number;
  readonly follow: boolean;
  readonly pollMs: number;
  readonly json: boolean;
  readonly signal: AbortSignal;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly out: (line: string) => void;
  readonly warn: (line: string) => void;
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: `30s`, `10m`, `2h`, `1d` back from now, or an ISO-8601 instant. */
export const parseSince = (value: string, now: number): number => {
  const relative = /^(\d{1,6})([smhd])$/.exec(value);
  if (relative?.[1] && relative[2]) return now - Number(relative[1]) * (UNITS[relative[2]] ?? 0);
  const at = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at))
    throw usageError(`--since: expected 30s, 10m, 2h, 1d or an ISO-8601 time, got ${JSON.stringify(value)}`);
  return at;
};

const parseEvent = (text: string): JsonObject | undefined => {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
};

/** Prints one event: its own JSON with --json, else one line; something that is not an event is reported. */
const show = (text: string, options: TailOptions): void => {
  const event = parseEvent(text);
  if (!event) {
    options.warn(`skipped a record that is not a JSON event: ${text.slice(0, 120)}`);
    return;
  }
  options.out(options.json ? text.trim() : tailLine(event));
};

/** Follows the local stack's audit file (JSON lines; emptied when the stack starts again). */
export const tailLocal = async (path: string, options: TailOptions): Promise<void> => {
  let offset = 0;
  let partial = '';
  let waitingSaid = false;
  const seen = new Set<string>();
  while (!options.signal.aborted) {
    let size: number | undefined;
    try {
      size = statSync(path).size;
    } catch {
      if (!options.follow) throw failure(`no audit file at ${path}: is the local stack running (npm start)?`);
      if (!waitingSaid) options.warn(`waiting for ${path} (npm start creates it)`);
      waitingSaid = true;
    }
    if (size !== undefined) {
      if (size < offset) {
        // The stack started again and emptied the file.
        offset = 0;
        partial = '';
        seen.clear();
      }
      if (size > offset) {
        const buffer = Buffer.alloc(size - offset);
        const fd = openSync(path, 'r');
        try {
          readSync(fd, buffer, 0, buffer.length, offset);
        } finally {
          closeSync(fd);
        }
        offset = size;
        const lines = (partial + buffer.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines.filter((l) => l.trim() !== '')) {
          const event = parseEvent(line);
          const id = typeof event?.id === 'string' ? event.id : undefined;
          const time = typeof event?.time === 'string' ? Date.parse(event.time) : Number.NaN;
          if (id !== undefined && seen.has(id)) continue;
          if (id !== undefined) seen.add(id);
          if (!Number.isNaN(time) && time < options.startTime) continue;
          show(line, options);
        }
      }
    }
    if (!options.follow) return;
    await options.sleep(options.pollMs, options.signal);
  }
};

/** Pages through one FilterLogEvents query from `startTime`, oldest first. */
const pollOnce = async (
  client: CloudWatchLogsClient,
  logGroupName: string,
  startTime: number,
  signal: AbortSignal,
): Promise<FilteredLogEvent[]> => {
  const events: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new FilterLogEventsCommand({ logGroupName, startTime, ...(nextToken ? { nextToken } : {}) }),
      { abortSignal: signal },
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken && !signal.aborted);
  return events.sort(
    (a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0) || (a.eventId ?? '').localeCompare(b.eventId ?? ''),
  );
};

/** Faults worth waiting out while following; anything else ends the command. */
const TRANSIENT = ['ThrottlingException', 'ServiceUnavailableException', 'LimitExceededException'];

/**
 * Polls the audit log group. Each poll starts a little before the newest event seen (late ingestion) and
 * skips the event ids already printed; ids older than that window are dropped from memory.
 */
export const tailAws = async (
  client: CloudWatchLogsClient,
  logGroupName: string,
  options: TailOptions,
): Promise<void> => {
  const seen = new Map<string, number>();
  let from = options.startTime;
  while (!options.signal.aborted) {
    let events: FilteredLogEvent[] = [];
    try {
      events = await pollOnce(client, logGroupName, from, options.signal);
    } catch (error) {
      if (options.signal.aborted) return;
      if (isNamed(error, 'ResourceNotFoundException')) {
        throw failure(
          `the audit log group ${logGroupName} does not exist (check --stage, --log-group and --region)`,
        );
      }
      if (isNamed(error, 'AccessDeniedException')) {
        throw failure(`not allowed to read ${logGroupName}: ${(error as Error).message}`);
      }
      if (!options.follow || !isNamed(error, ...TRANSIENT)) {
        throw failure(
          `reading ${logGroupName} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
        );
      }
      options.warn(`reading ${logGroupName} failed (${(error as Error).name}); trying again`);
    }
    let newest = from;
    for (const event of events) {
      const id = event.eventId ?? `${event.timestamp}:${event.message}`;
      newest = Math.max(newest, event.timestamp ?? 0);
      if (seen.has(id)) continue;
      seen.set(id, event.timestamp ?? 0);
      show(event.message ?? '', options);
    }
    if (!options.follow) return;
    from = Math.max(from, newest - INGESTION_OVERLAP_MS);
    for (const [id, timestamp] of seen) if (timestamp < from) seen.delete(id);
    await options.sleep(options.pollMs, options.signal);
  }
};
