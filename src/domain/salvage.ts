/**
 * Reading a session row that is not well formed (a stream image, or the row the enforcer re-reads) as far as
 * it can be read, so a revocation is still enforced and announced whatever else is wrong with its row.
 * Each field is taken from the image when it can be read (a timestamp without milliseconds, with an offset
 * or as epoch seconds is still that instant; a status in capitals is still that status), else from the
 * other image of the same record (`fallback`), else a stand-in: the stream record's time for an instant,
 * `unknown` for a name, 0 for a count. Optional fields that cannot be read are left out, and the domain
 * fills them (revokedBy `unknown`, revokedAt the stream time). Only a status that is none of the three
 * cannot be salvaged: what the change means depends on it.
 */
import { isRecord } from './json.js';
import {
  EXPIRED_REASONS,
  type ExpiredReason,
  SESSION_STATUSES,
  type Session,
  type SessionStatus,
} from './session.js';

const NAME_FIELDS = ['user', 'principalArn', 'profile', 'roleArn', 'sourceIdentity'] as const;
const INSTANT_FIELDS = ['createdAt', 'lastAccessAt', 'expiresAt', 'maxExpiresAt'] as const;
const COUNT_FIELDS = ['requestCount', 'version', 'ttl'] as const;

/** Stand-in for a name the row does not hold readably. */
export const UNKNOWN = 'unknown';

/** Below this an epoch number is in seconds (as DynamoDB TTL and stream times are), above it milliseconds. */
const EPOCH_SECONDS_LIMIT = 100_000_000_000;

/** Any readable instant (ISO-8601 in any form Date accepts, epoch seconds or milliseconds) in canonical form. */
export const readInstant = (value: unknown): string | undefined => {
  let ms: number;
  if (typeof value === 'number' && Number.isFinite(value)) {
    ms = Math.abs(value) < EPOCH_SECONDS_LIMIT ? value * 1000 : value;
  } else if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim();
    ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  } else {
    return undefined;
  }
  const at = new Date(ms);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
};

const readEnum = <T extends string>(value: unknown, allowed: readonly T[]): T | undefined => {
  if (typeof value !== 'string') return undefined;
  const normalised = value.trim().toLowerCase();
  return allowed.find((candidate) => candidate === normalised);
};

const readName = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

const readCount = (value: unknown): number | undefined => {
  const count = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? count : undefined;
};

export type SalvageResult =
  | { readonly ok: true; readonly session: Session }
  | { readonly ok: false; readonly reason: string };

export const salvageSession = (
  item: unknown,
  context: { readonly sessionId: string; readonly at: Date; readonly fallback?: Session | undefined },
): SalvageResult => {
  if (!isRecord(item)) return { ok: false, reason: 'image is not an object' };
  const status: SessionStatus | undefined = readEnum(item.status, SESSION_STATUSES);
  if (status === undefined) {
    return {
      ok: false,
      reason: `status ${JSON.stringify(item.status)} is none of ${SESSION_STATUSES.join(', ')}`,
    };
  }
  const { fallback } = context;
  const names = Object.fromEntries(
    NAME_FIELDS.map((field) => [field, readName(item[field]) ?? fallback?.[field] ?? UNKNOWN]),
  ) as Record<(typeof NAME_FIELDS)[number], string>;
  const instants = Object.fromEntries(
    INSTANT_FIELDS.map((field) => [
      field,
      readInstant(item[field]) ?? fallback?.[field] ?? context.at.toISOString(),
    ]),
  ) as Record<(typeof INSTANT_FIELDS)[number], string>;
  const counts = Object.fromEntries(
    COUNT_FIELDS.map((field) => [field, readCount(item[field]) ?? fallback?.[field] ?? 0]),
  ) as Record<(typeof COUNT_FIELDS)[number], number>;

  const revokedAt = readInstant(item.revokedAt);
  const revokedBy = readName(item.revokedBy);
  const revokedReason = typeof item.revokedReason === 'string' ? item.revokedReason : undefined;
  const expiredAt = readInstant(item.expiredAt);
  const expiredReason: ExpiredReason | undefined = readEnum(item.expiredReason, EXPIRED_REASONS);
  return {
    ok: true,
    session: {
      sessionId: context.sessionId,
      ...names,
      status,
      ...instants,
      ...counts,
      ...(revokedAt === undefined ? {} : { revokedAt }),
      ...(revokedBy === undefined ? {} : { revokedBy }),
      ...(revokedReason === undefined ? {} : { revokedReason }),
      ...(expiredAt === undefined ? {} : { expiredAt }),
      ...(expiredReason === undefined ? {} : { expiredReason }),
    },
  };
};
