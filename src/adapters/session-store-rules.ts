/**
 * Rules every SessionStore implementation shares (the DynamoDB adapter and the in-memory test double),
 * kept in one pure module so the two cannot drift. No SDK import.
 */
import { earlierOf, isPast, type SessionPolicy } from '../domain/durations.js';
import { InvalidCursorError, InvalidInputError, MalformedSessionRecordError } from '../domain/errors.js';
import { isRecord } from '../domain/json.js';
import { EXPIRED_REASONS, SESSION_STATUSES, type Session } from '../domain/session.js';

export const DEFAULT_PAGE_LIMIT = 25;
export const MAX_PAGE_LIMIT = 100;

/** Page size bounded to 1..100 (default 25): a caller cannot ask the store for an unbounded read. */
export const pageLimit = (limit: number | undefined): number => {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isFinite(limit)) return DEFAULT_PAGE_LIMIT;
  return Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(limit)));
};

/**
 * The canonical ISO-8601 UTC form (`toISOString`). Stored timestamps are always canonical, so comparing them
 * as strings inside DynamoDB condition expressions orders them as instants.
 */
export const canonicalInstant = (value: string, name: string): string => {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new InvalidInputError(`${name} is not an ISO-8601 instant`);
  return at.toISOString();
};

/**
 * A store is told where to extend to (`extendTo`), not by which policy, so it runs the pure touchSession with a
 * policy that counts the use without moving expiry (an idle window of 0 never beats the current expiry, and
 * the cap is never reached); the extension is then applied with `extensionFor`. Also used to map a failed
 * conditional touch to the domain's refusal.
 */
export const COUNT_ONLY_POLICY: SessionPolicy = {
  idleTimeoutSeconds: 0,
  maxLifetimeSeconds: Number.MAX_SAFE_INTEGER,
};

/**
 * Where a touch asking for `extendTo` actually moves expiry: never past the hard cap (maxExpiresAt), never
 * backwards. Undefined when the session already lives at least that long (no extension).
 */
export const extensionFor = (
  session: { readonly expiresAt: string; readonly maxExpiresAt: string },
  extendTo: string,
): string | undefined => {
  const capped = earlierOf(extendTo, session.maxExpiresAt);
  return isPast(capped, new Date(session.expiresAt)) ? undefined : capped;
};

/**
 * When a touch asking for `extendTo` (or none) would leave the session ending before `minEndsAt`, the
 * AtMaxLifetime refusal; both stores ask this before writing.
 */
export const endsTooSoon = (
  session: { readonly expiresAt: string; readonly maxExpiresAt: string },
  extendTo: string | undefined,
  minEndsAt: string | undefined,
): boolean => {
  if (minEndsAt === undefined) return false;
  const end = (extendTo === undefined ? undefined : extensionFor(session, extendTo)) ?? session.expiresAt;
  return new Date(end).getTime() < new Date(minEndsAt).getTime();
};

/** A touch that asks to extend to before its own minimum end is a caller bug, refused before any write. */
export const checkTouchBounds = (extendTo: string | undefined, minEndsAt: string | undefined): void => {
  if (extendTo !== undefined && minEndsAt !== undefined && new Date(extendTo) < new Date(minEndsAt)) {
    throw new InvalidInputError(`extendTo (${extendTo}) is before minEndsAt (${minEndsAt})`);
  }
};

/** Opaque cursors: base64url JSON. Decoding never trusts the content; `validate` must vouch for its shape. */
export const encodeCursor = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export const decodeCursor = <T>(cursor: string, validate: (value: unknown) => value is T): T => {
  // A cursor is small; anything huge was not issued here.
  if (cursor.length === 0 || cursor.length > 8192 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursorError('cursor is not one this store issued');
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('cursor is not one this store issued');
  }
  if (!validate(value)) throw new InvalidCursorError('cursor is not one this store issued');
  return value;
};

/** True when `value` is an object with exactly these keys, all strings. */
export const hasExactStringKeys = (value: unknown, keys: readonly string[]): boolean =>
  isRecord(value) &&
  Object.keys(value).length === keys.length &&
  keys.every((key) => typeof value[key] === 'string');

/** Newest first, ties broken by id so pages never skip or repeat a session. */
export const newestFirst = (a: Session, b: Session): number =>
  a.createdAt === b.createdAt
    ? compareStrings(b.sessionId, a.sessionId)
    : compareStrings(b.createdAt, a.createdAt);

/** Soonest expiry first, ties broken by id. */
export const soonestExpiryFirst = (a: Session, b: Session): number =>
  a.expiresAt === b.expiresAt
    ? compareStrings(a.sessionId, b.sessionId)
    : compareStrings(a.expiresAt, b.expiresAt);

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const STRING_FIELDS = ['sessionId', 'user', 'principalArn', 'profile', 'roleArn', 'sourceIdentity'] as const;
const INSTANT_FIELDS = ['createdAt', 'lastAccessAt', 'expiresAt', 'maxExpiresAt'] as const;
const COUNT_FIELDS = ['requestCount', 'version', 'ttl'] as const;
const OPTIONAL_STRING_FIELDS = ['revokedBy', 'revokedReason'] as const;
const OPTIONAL_INSTANT_FIELDS = ['revokedAt', 'expiredAt'] as const;

/** A string in the canonical `toISOString` form (so string order is instant order). */
export const isCanonicalInstant = (value: unknown): value is string =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;

/**
 * Every problem with `value` as a Session (empty when it is one). Timestamps must be canonical ISO-8601 UTC
 * because the DynamoDB store compares them as strings in its conditions.
 */
export const sessionProblems = (value: unknown): string[] => {
  if (!isRecord(value)) return ['not an object'];
  const problems: string[] = [];
  for (const field of STRING_FIELDS) {
    if (typeof value[field] !== 'string' || value[field] === '') problems.push(`${field} must be a string`);
  }
  for (const field of INSTANT_FIELDS) {
    if (!isCanonicalInstant(value[field])) problems.push(`${field} must be an ISO-8601 UTC instant`);
  }
  for (const field of COUNT_FIELDS) {
    const count = value[field];
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      problems.push(`${field} must be a non-negative integer`);
    }
  }
  for (const field of OPTIONAL_STRING_FIELDS) {
    if (value[field] !== undefined && typeof value[field] !== 'string')
      problems.push(`${field} must be a string`);
  }
  for (const field of OPTIONAL_INSTANT_FIELDS) {
    if (value[field] !== undefined && !isCanonicalInstant(value[field])) {
      problems.push(`${field} must be an ISO-8601 UTC instant`);
    }
  }
  if (!(SESSION_STATUSES as readonly unknown[]).includes(value.status)) problems.push('status is unknown');
  if (
    value.expiredReason !== undefined &&
    !(EXPIRED_REASONS as readonly unknown[]).includes(value.expiredReason)
  ) {
    problems.push('expiredReason is unknown');
  }
  return problems;
};

/** Copies exactly the Session fields (dropping storage-only attributes such as the GSI shard key). */
export const toSession = (value: Record<string, unknown>): Session => {
  const session: Record<string, unknown> = {};
  for (const field of SESSION_FIELDS) {
    if (value[field] !== undefined) session[field] = value[field];
  }
  // Checked field by field by sessionProblems before this is called.
  return session as unknown as Session;
};

export const SESSION_FIELDS = [
  ...STRING_FIELDS,
  'status',
  ...INSTANT_FIELDS,
  ...COUNT_FIELDS,
  ...OPTIONAL_STRING_FIELDS,
  ...OPTIONAL_INSTANT_FIELDS,
  'expiredReason',
] as const satisfies readonly (keyof Session)[];

/** A stored row as a Session, or MalformedSessionRecordError naming what is wrong (never undefined fields). */
export const parseSessionRecord = (value: unknown): Session => {
  const problems = sessionProblems(value);
  if (problems.length > 0 || !isRecord(value)) {
    const id = isRecord(value) && typeof value.sessionId === 'string' ? value.sessionId : '?';
    throw new MalformedSessionRecordError(`session row ${id} is malformed: ${problems.join('; ')}`, value);
  }
  return toSession(value);
};

/** A session about to be stored, refused with InvalidInputError when it is not well formed. */
export const assertStorableSession = (session: Session): void => {
  const problems = sessionProblems(session);
  if (problems.length > 0) throw new InvalidInputError(`session is malformed: ${problems.join('; ')}`);
};

/** Where listByUser stopped: the last row's key in the byUser index (the same for every store). */
export interface UserCursor {
  readonly k: 'user';
  readonly user: string;
  readonly createdAt: string;
  readonly sessionId: string;
}

export const isUserCursor = (value: unknown): value is UserCursor =>
  hasExactStringKeys(value, ['k', 'user', 'createdAt', 'sessionId']) &&
  isRecord(value) &&
  value.k === 'user' &&
  value.sessionId !== '' &&
  isCanonicalInstant(value.createdAt);
