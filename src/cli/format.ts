/**
 * Human output: aligned tables and `key: value` blocks. `--json` bypasses all of this and prints the API's
 * own JSON. Times are shown as the API gives them, less the milliseconds.
 */
import type { RevokeUserReport } from '../domain/operators.js';
import type { JsonObject } from './http.js';

const cell = (value: unknown): string => {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'string') return value.replace(/\.\d{3}Z$/, 'Z');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export const table = (headers: readonly string[], rows: readonly (readonly unknown[])[]): string => {
  const cells = [headers, ...rows.map((row) => row.map(cell))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((value, column) => value.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

const SESSION_COLUMNS = [
  ['SESSION', 'sessionId'],
  ['USER', 'user'],
  ['PROFILE', 'profile'],
  ['STATUS', 'status'],
  ['CREATED', 'createdAt'],
  ['EXPIRES', 'expiresAt'],
  ['REQUESTS', 'requestCount'],
] as const;

export const sessionsTable = (sessions: readonly JsonObject[]): string =>
  sessions.length === 0
    ? 'no sessions'
    : table(
        SESSION_COLUMNS.map(([header]) => header),
        sessions.map((session) => SESSION_COLUMNS.map(([, field]) => session[field])),
      );

const SESSION_FIELDS = [
  'sessionId',
  'status',
  'user',
  'principalArn',
  'profile',
  'roleArn',
  'sourceIdentity',
  'createdAt',
  'lastAccessAt',
  'expiresAt',
  'maxExpiresAt',
  'requestCount',
  'revokedAt',
  'revokedBy',
  'revokedReason',
  'expiredAt',
  'expiredReason',
] as const;

/** `key: value` lines, keys aligned; absent fields are left out. */
export const keyValues = (entries: readonly (readonly [string, unknown])[]): string => {
  const shown = entries.filter(([, value]) => value !== undefined && value !== null);
  const width = Math.max(0, ...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${cell(value)}`).join('\n');
};

export const sessionDetails = (session: JsonObject): string =>
  keyValues(SESSION_FIELDS.map((field) => [field, session[field]] as const));

/** `show`: the session, then each workflow's execution and console link. */
export const showOutput = (body: JsonObject): string => {
  const session = (body.session ?? {}) as JsonObject;
  const workflows = (body.workflows ?? {}) as Record<
    string,
    { executionArn?: unknown; consoleUrl?: unknown }
  >;
  const lines = [sessionDetails(session)];
  for (const [name, workflow] of Object.entries(workflows)) {
    lines.push(
      '',
      `workflow ${name}:`,
      keyValues([
        ['  execution', workflow?.executionArn],
        ['  console', workflow?.consoleUrl],
      ]),
    );
  }
  return lines.join('\n');
};

/** The revoke-user answer, as the API sends it. */
export type RevokeUserResult = RevokeUserReport;

export const revokeUserOutput = (result: RevokeUserResult): string => {
  const lines = [
    `user ${result.user}: revoked ${result.revoked}, already ended ${result.alreadyTerminal}, failed ${result.failed}`,
  ];
  if (result.failed > 0) lines.push(`failed sessions: ${result.failedSessionIds.join(' ')}`);
  if (!result.complete) lines.push('the run stopped on its time budget before every session was seen');
  if (result.failed > 0 || !result.complete) lines.push('run the same revoke-user again to finish');
  return lines.join('\n');
};

/** Fields a tail line leaves out: identity details and bookkeeping that `--json` still shows. */
const TAIL_HIDDEN = new Set([
  'schemaVersion',
  'sessionId',
  'user',
  'occurredAt',
  'principalArn',
  'roleArn',
  'sourceIdentity',
  'createdAt',
  'maxExpiresAt',
  'lastAccessAt',
  'streamEventId',
  'version',
]);

const extraValue = (value: unknown): string => {
  const shown = cell(value);
  return /\s/.test(shown) ? JSON.stringify(shown) : shown;
};

/** One audit event as `time  detail-type  sessionId  user  key=value …`. */
export const tailLine = (event: JsonObject): string => {
  const detail = (event.detail ?? {}) as JsonObject;
  const extra = Object.entries(detail)
    .filter(([key]) => !TAIL_HIDDEN.has(key))
    .map(([key, value]) => `${key}=${extraValue(value)}`)
    .join(' ');
  return [cell(event.time), cell(event['detail-type']), cell(detail.sessionId), cell(detail.user), extra]
    .join('  ')
    .trimEnd();
};
