/**
 * Parsing of operator API requests: query strings, path parameters and the `{reason}` body. Every failure is
 * an HttpRequestError with a stable code; nothing here reads a store.
 */
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../../adapters/session-store-rules.js';
import { UnsupportedPrincipalError } from '../../domain/errors.js';
import { type CallerOptions, parseCallerArn } from '../../domain/identity.js';
import { isSessionId } from '../../domain/ids.js';
import { isCanonicalUser, revokeReasonProblem } from '../../domain/operators.js';
import type { SessionFilter } from '../../usecases/list-sessions.js';
import { PROFILE_NAME } from '../../usecases/vend-profiles.js';
import type { HttpApiEvent } from './event.js';
import { bad, bodyText, jsonObject, rejectUnknown } from './request.js';

const LIST_PARAMETERS = ['limit', 'cursor', 'user', 'principal', 'profile', 'status'] as const;
/** Cursors are base64url JSON the store issued; anything longer or otherwise shaped was not. */
const CURSOR = /^[A-Za-z0-9_-]{1,4096}$/;

export interface ListRequest {
  readonly filter: SessionFilter;
  readonly page: { readonly limit: number; readonly cursor?: string };
}

/**
 * The query parameters, each at most once. Payload 2.0 joins a repeated parameter's values with commas,
 * which could pass for one value (IAM names may contain commas), so repeats are found in the raw query.
 */
const queryOf = (event: HttpApiEvent): Map<string, string> => {
  const raw = event.rawQueryString;
  const query = new Map<string, string>();
  if (typeof raw === 'string') {
    if (raw.length > 8192) throw bad('QueryTooLong', 'the query string must be at most 8192 characters');
    for (const [key, value] of new URLSearchParams(raw)) {
      if (query.has(key)) throw bad('DuplicateParameter', `"${key.slice(0, 40)}" is given more than once`);
      query.set(key, value);
    }
    return query;
  }
  for (const [key, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query.set(key, value);
  }
  return query;
};

const limitOf = (text: string | undefined): number => {
  if (text === undefined) return DEFAULT_PAGE_LIMIT;
  const limit = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) {
    throw bad('InvalidParameter', `"limit" must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
};

/**
 * `?limit&cursor&user&principal&profile&status=active`. A principal filter also names the principal's
 * canonical user (the index is keyed by user), worked out with the same identity rules as vending.
 */
export const parseListRequest = (event: HttpApiEvent, identity: CallerOptions): ListRequest => {
  const query = queryOf(event);
  const unknown = [...query.keys()].filter((key) => !(LIST_PARAMETERS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw bad(
      'UnknownParameter',
      `unknown query parameter(s): ${unknown
        .slice(0, 5)
        .map((key) => JSON.stringify(key.slice(0, 40)))
        .join(', ')}; allowed: ${LIST_PARAMETERS.join(', ')}`,
    );
  }
  const limit = limitOf(query.get('limit'));
  const cursor = query.get('cursor');
  if (cursor !== undefined && !CURSOR.test(cursor))
    throw bad('InvalidCursor', 'the cursor is not one this API issued');
  const filter: { -readonly [K in keyof SessionFilter]: SessionFilter[K] } = {};
  const user = query.get('user');
  if (user !== undefined) {
    if (!isCanonicalUser(user)) throw bad('InvalidParameter', '"user" is not a canonical user name');
    filter.user = user;
  }
  const principal = query.get('principal');
  if (principal !== undefined) {
    const owner = principalUser(principal, identity);
    if (filter.user !== undefined && filter.user !== owner) {
      throw bad('ConflictingFilters', `"principal" belongs to user "${owner}", not "${filter.user}"`);
    }
    filter.user = owner;
    filter.principalArn = principal;
  }
  const profile = query.get('profile');
  if (profile !== undefined) {
    if (!PROFILE_NAME.test(profile)) {
      throw bad('InvalidParameter', '"profile" must be 1-64 characters of letters, digits, ".", "_" or "-"');
    }
    filter.profile = profile;
  }
  const status = query.get('status');
  if (status !== undefined) {
    if (status !== 'active') throw bad('InvalidParameter', '"status" can only be "active"');
    filter.activeOnly = true;
  }
  return { filter, page: cursor === undefined ? { limit } : { limit, cursor } };
};

const principalUser = (principal: string, identity: CallerOptions): string => {
  try {
    return parseCallerArn(principal, identity).user;
  } catch (error) {
    if (error instanceof UnsupportedPrincipalError)
      throw bad('InvalidParameter', `"principal": ${error.message}`);
    throw error;
  }
};

export const sessionIdOf = (event: HttpApiEvent): string => {
  const sessionId = event.pathParameters?.sessionId;
  if (!isSessionId(sessionId))
    throw bad('InvalidSessionId', 'the session id must be 32 lowercase hex characters');
  return sessionId;
};

/**
 * The `{user}` path parameter. A canonical user may hold one `/` (`<role>/<session>`), which a path segment
 * cannot carry: clients send it as `%2F` encoded once more (`%252F`); API Gateway decodes once, this the rest.
 */
export const userOf = (event: HttpApiEvent): string => {
  const raw = event.pathParameters?.user;
  const user = typeof raw === 'string' ? raw.replace(/%2F/gi, '/') : raw;
  if (!isCanonicalUser(user)) {
    throw bad(
      'InvalidUser',
      'the user must be a canonical user name (letters, digits, "+=,.@_-", at most one "/" sent as %252F)',
    );
  }
  return user;
};

/** `{ "reason": "…" }`, nothing else; the reason is required. */
export const parseReasonBody = (event: HttpApiEvent): { readonly reason: string } => {
  const text = bodyText(event);
  if (text.trim() === '') throw bad('InvalidBody', 'a JSON body with "reason" is required');
  const body = jsonObject(text);
  rejectUnknown(body, ['reason']);
  const problem = revokeReasonProblem(body.reason);
  if (problem !== undefined) throw bad('InvalidField', problem);
  return { reason: body.reason as string };
};

/** Reads carry no body; one sent anyway is a client mistake worth saying. */
export const requireNoBody = (event: HttpApiEvent): void => {
  if ((event.body ?? '') !== '') throw bad('UnexpectedBody', 'this route takes no body');
};
