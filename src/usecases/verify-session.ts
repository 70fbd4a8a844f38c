/**
 * The downstream verifier (docs/design.md, "Downstream verifier"): may the holder of these credentials act
 * under their session right now? A service that sees its caller's IAM identity asks with the caller's ARN.
 * Credentials vended here belong to an assumed-role session of the profile role named
 * `s-<sessionId>-<user prefix>`, so the ARN names the session; the row, read strongly consistently, decides.
 *
 * Only an `active` session whose expiresAt is in the future and that owns the ARN is allowed. Everything else
 * is a deny with a named outcome, including a store that cannot answer (fail closed, invariant 5).
 *
 * "Owns the ARN": the caller's ARN is the vended credentials' identity, not the person's, so ownership is
 * checked against what vend assumed: the ARN's partition, account and role name are those of the session's
 * `roleArn` (assumed-role ARNs drop the role's path), and its RoleSessionName is exactly the one vend builds
 * from the session's id and user. A session id replayed under another role, account or user prefix is
 * refused. `principalArn` (the person) and `sourceIdentity` are not in the caller's ARN and are not compared.
 */

import { parseRoleArn } from '../domain/arn.js';
import type { Clock } from '../domain/clock.js';
import { isPast } from '../domain/durations.js';
import { describeError, InvalidInputError } from '../domain/errors.js';
import { PARTITIONS } from '../domain/identity.js';
import { buildRoleSessionName, sessionIdFromRoleSessionName } from '../domain/sts-names.js';
import type { SessionStore } from '../ports.js';

export const VERIFY_DENIALS = [
  /** No row: never created, or removed by TTL (or by hand). */
  'UnknownSession',
  /** Expired, or still `active` with expiresAt past (the workflow has not run yet). */
  'SessionExpired',
  'SessionRevoked',
  /** Not an ARN at all (or not one in a known partition). */
  'MalformedCallerArn',
  /** A well-formed ARN, but not an assumed-role session named by this system. */
  'NotSentinelSession',
  /** The session exists but was vended on another role, account or user. */
  'OwnerMismatch',
  /** The store did not answer, or answered with a row that cannot be read: fail closed. */
  'StoreError',
] as const;
export type VerifyDenial = (typeof VERIFY_DENIALS)[number];
export type VerifyOutcome = 'Allowed' | VerifyDenial;

/** What an allow tells the downstream service about the session (never a credential). */
export interface VerifiedSession {
  readonly sessionId: string;
  readonly user: string;
  readonly profile: string;
  readonly roleArn: string;
  readonly expiresAt: string;
}

export type VerifyDecision =
  | {
      readonly allowed: true;
      readonly outcome: 'Allowed';
      readonly session: VerifiedSession;
      /** Served from the allow cache, without reading the store. */
      readonly cached: boolean;
    }
  | {
      readonly allowed: false;
      readonly outcome: VerifyDenial;
      /** The session id the ARN named, when it named one. */
      readonly sessionId?: string;
      /** Why, for the log; safe to log (ARNs, ids, statuses, error names). */
      readonly detail: string;
    };

export interface VerifySessionDeps {
  readonly store: Pick<SessionStore, 'get'>;
  readonly clock: Clock;
}

/** IAM's own ceiling on an ARN; anything longer is refused before it is parsed. */
const MAX_ARN_LENGTH = 2048;
const ARN_SHAPE = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/;
const ASSUMED_ROLE = /^assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;

const deny = (outcome: VerifyDenial, detail: string, sessionId?: string): VerifyDecision => ({
  allowed: false,
  outcome,
  detail,
  ...(sessionId === undefined ? {} : { sessionId }),
});

interface CallerSession {
  readonly partition: string;
  readonly accountId: string;
  readonly roleName: string;
  readonly roleSessionName: string;
  readonly sessionId: string;
}

/** The session an ARN names, or the denial that says why it names none. */
const callerSessionOf = (callerArn: unknown): CallerSession | VerifyDecision => {
  if (typeof callerArn !== 'string' || callerArn.length === 0)
    return deny('MalformedCallerArn', 'no caller ARN');
  if (callerArn.length > MAX_ARN_LENGTH) return deny('MalformedCallerArn', 'caller ARN too long');
  const arn = ARN_SHAPE.exec(callerArn);
  const [, partition = '', service, region, accountId = '', resource = ''] = arn ?? [];
  if (!arn || !(PARTITIONS as readonly string[]).includes(partition)) {
    return deny('MalformedCallerArn', 'not an ARN of a known partition');
  }
  const assumed = service === 'sts' && region === '' ? ASSUMED_ROLE.exec(resource) : null;
  if (!assumed) return deny('NotSentinelSession', `not an assumed-role session: ${callerArn}`);
  const [, roleName = '', roleSessionName = ''] = assumed;
  const sessionId = sessionIdFromRoleSessionName(roleSessionName);
  if (sessionId === undefined) {
    return deny('NotSentinelSession', `role session name is not one this system issues: ${callerArn}`);
  }
  return { partition, accountId, roleName, roleSessionName, sessionId };
};

const isDecision = (value: CallerSession | VerifyDecision): value is VerifyDecision => 'outcome' in value;

/**
 * One verification, without a cache: parse the ARN, read the row (strongly consistent), decide. Never throws:
 * a store failure is the `StoreError` denial.
 */
export const verifySession = async (callerArn: unknown, deps: VerifySessionDeps): Promise<VerifyDecision> => {
  const caller = callerSessionOf(callerArn);
  if (isDecision(caller)) return caller;
  const { sessionId } = caller;
  let session: Awaited<ReturnType<SessionStore['get']>>;
  try {
    session = await deps.store.get(sessionId);
  } catch (error) {
    const { errorName, errorMessage } = describeError(error);
    return deny('StoreError', `session store failed: ${errorName}: ${errorMessage ?? ''}`, sessionId);
  }
  if (session === undefined)
    return deny('UnknownSession', 'no such session (never created or purged)', sessionId);
  const role = parseRoleArn(session.roleArn);
  if (!role) return deny('StoreError', 'the session row has no readable roleArn', sessionId);
  // Ownership before status: a caller that does not own the session learns nothing of its state.
  const owned =
    role.partition === caller.partition &&
    role.accountId === caller.accountId &&
    role.roleName === caller.roleName &&
    buildRoleSessionName({ user: session.user, sessionId }) === caller.roleSessionName;
  if (!owned) {
    return deny(
      'OwnerMismatch',
      `session was vended on ${session.roleArn}, not to ${String(callerArn)}`,
      sessionId,
    );
  }
  if (session.status === 'revoked')
    return deny('SessionRevoked', `revoked at ${session.revokedAt ?? '?'}`, sessionId);
  if (session.status === 'expired')
    return deny('SessionExpired', `expired at ${session.expiredAt ?? '?'}`, sessionId);
  // An unreadable expiresAt counts as past (invariant 5).
  if (session.status !== 'active' || isPast(session.expiresAt, deps.clock.now())) {
    return deny('SessionExpired', `past its expiry ${session.expiresAt}`, sessionId);
  }
  return {
    allowed: true,
    outcome: 'Allowed',
    cached: false,
    session: {
      sessionId,
      user: session.user,
      profile: session.profile,
      roleArn: session.roleArn,
      expiresAt: session.expiresAt,
    },
  };
};

/** The allow cache may hold a decision at most this long: a revocation bites downstream within it. */
export const MAX_ALLOW_CACHE_SECONDS = 5;
export const DEFAULT_ALLOW_CACHE_SECONDS = 5;
export const DEFAULT_ALLOW_CACHE_MAX_ENTRIES = 1000;

export interface SessionVerifierOptions extends VerifySessionDeps {
  /** 0 disables the cache; at most MAX_ALLOW_CACHE_SECONDS. */
  readonly allowCacheSeconds?: number;
  /** Bound on cached allows (oldest dropped first). */
  readonly allowCacheMaxEntries?: number;
  /** Called with every decision, cached or not (logging and metrics live in the handler). */
  readonly onDecision?: (decision: VerifyDecision, callerArn: unknown) => void;
}

export interface SessionVerifier {
  verify(callerArn: unknown): Promise<VerifyDecision>;
  /** Allows held in the cache right now (never more than allowCacheMaxEntries). */
  cachedAllows(): number;
}

interface CachedAllow {
  readonly decision: VerifyDecision & { readonly allowed: true };
  /** Epoch ms: the earlier of the cache TTL and the session's expiry. */
  readonly until: number;
}

/**
 * `verifySession` behind a small in-memory cache of allows only, keyed by the exact caller ARN. A deny is
 * never cached: every denied or unknown ARN is read again next time. An allow is kept at most
 * `allowCacheSeconds` and never past the session's expiresAt, so a revocation bites downstream within that
 * many seconds; 0 reads the store on every call.
 */
export const createSessionVerifier = (options: SessionVerifierOptions): SessionVerifier => {
  const ttlSeconds = options.allowCacheSeconds ?? DEFAULT_ALLOW_CACHE_SECONDS;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_ALLOW_CACHE_SECONDS) {
    throw new InvalidInputError(
      `allowCacheSeconds must be within 0-${MAX_ALLOW_CACHE_SECONDS}, got ${ttlSeconds}`,
    );
  }
  const maxEntries = options.allowCacheMaxEntries ?? DEFAULT_ALLOW_CACHE_MAX_ENTRIES;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new InvalidInputError(`allowCacheMaxEntries must be a positive whole number, got ${maxEntries}`);
  }
  const cache = new Map<string, CachedAllow>();

  const remember = (
    key: string,
    decision: VerifyDecision & { readonly allowed: true },
    now: number,
  ): void => {
    const until = Math.min(now + ttlSeconds * 1000, Date.parse(decision.session.expiresAt));
    if (!(until > now)) return;
    cache.delete(key);
    if (cache.size >= maxEntries) {
      for (const [k, entry] of cache) if (entry.until <= now) cache.delete(k);
      // Still full: drop the oldest insertion (Map iterates in insertion order).
      const oldest = cache.keys().next();
      if (cache.size >= maxEntries && !oldest.done) cache.delete(oldest.value);
    }
    cache.set(key, { decision, until });
  };

  const decide = async (callerArn: unknown): Promise<VerifyDecision> => {
    const now = options.clock.now().getTime();
    if (ttlSeconds > 0 && typeof callerArn === 'string') {
      const hit = cache.get(callerArn);
      if (hit && hit.until > now) return { ...hit.decision, cached: true };
      if (hit) cache.delete(callerArn);
    }
    const decision = await verifySession(callerArn, options);
    if (decision.allowed && ttlSeconds > 0 && typeof callerArn === 'string')
      remember(callerArn, decision, now);
    return decision;
  };

  return {
    verify: async (callerArn) => {
      const decision = await decide(callerArn);
      options.onDecision?.(decision, callerArn);
      return decision;
    },
    cachedAllows: () => cache.size,
  };
};
