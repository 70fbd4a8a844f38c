/**
 * Parsing and strict validation of vend requests (invariant 6: bad input never writes). Every failure is an
 * HttpRequestError with a stable code; nothing here touches a store, STS or the bus.
 */
import { UnsupportedPrincipalError } from '../../domain/errors.js';
import {
  type CallerIdentity,
  type CallerOptions,
  CognitoIdentityNotSupportedError,
  callerFromAuthorizer,
} from '../../domain/identity.js';
import { isSessionId } from '../../domain/ids.js';
import { PROFILE_NAME } from '../../usecases/vend-profiles.js';
import { HttpRequestError } from './errors.js';
import type { HttpApiEvent } from './event.js';

export const MAX_BODY_BYTES = 4096;
/** Idempotency keys: a UUID or any opaque token a client generates, in a header-safe charset. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

export interface CreateRequest {
  readonly profile: string;
  readonly durationSeconds?: number;
}

export const bad = (code: string, message: string): HttpRequestError =>
  new HttpRequestError(400, code, message);

/**
 * Invariant 4: the caller is who API Gateway's IAM authorizer says, nothing in the body counts. The
 * canonical user depends on which roles are identity roles (`options.identityRoles`, from the access policy).
 */
export const callerOf = (event: HttpApiEvent, options: CallerOptions = {}): CallerIdentity => {
  const iam = event.requestContext?.authorizer?.iam;
  const userArn = iam?.userArn;
  if (typeof userArn !== 'string' || userArn.length === 0) {
    throw new HttpRequestError(
      401,
      'Unauthenticated',
      'the request carries no IAM identity (SigV4 required)',
    );
  }
  try {
    return callerFromAuthorizer(iam, options);
  } catch (error) {
    if (error instanceof UnsupportedPrincipalError) {
      throw new HttpRequestError(403, 'UnsupportedPrincipal', error.message);
    }
    if (error instanceof CognitoIdentityNotSupportedError) {
      throw new HttpRequestError(403, 'CognitoIdentityNotSupported', error.message);
    }
    throw error;
  }
};

/** The raw body as text, refusing oversize bodies before decoding or parsing them. */
export const bodyText = (event: HttpApiEvent): string => {
  const raw = event.body ?? '';
  // Base64 is 4/3 of the decoded size: refuse on the encoded length first, then check the decoded bytes.
  if (raw.length > (event.isBase64Encoded ? Math.ceil((MAX_BODY_BYTES * 4) / 3) + 4 : MAX_BODY_BYTES * 4)) {
    throw bad('BodyTooLarge', `the body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES)
    throw bad('BodyTooLarge', `the body must be at most ${MAX_BODY_BYTES} bytes`);
  return bytes.toString('utf8');
};

export const jsonObject = (text: string): Record<string, unknown> => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('MalformedJson', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad('InvalidBody', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
};

export const rejectUnknown = (body: Record<string, unknown>, allowed: readonly string[]): void => {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).map((key) => JSON.stringify(key.slice(0, 40)));
    throw bad(
      'UnknownField',
      `unknown field(s): ${shown.join(', ')}; allowed: ${allowed.join(', ') || 'none'}`,
    );
  }
};

/** `{ "profile": "dev", "durationSeconds"?: 3600 }`, nothing else. */
export const parseCreateRequest = (event: HttpApiEvent): CreateRequest => {
  const text = bodyText(event);
  if (text.trim() === '') throw bad('InvalidBody', 'a JSON body with "profile" is required');
  const body = jsonObject(text);
  rejectUnknown(body, ['profile', 'durationSeconds']);
  const { profile, durationSeconds } = body;
  if (typeof profile !== 'string') throw bad('InvalidField', '"profile" must be a string');
  if (!PROFILE_NAME.test(profile)) {
    throw bad('InvalidField', '"profile" must be 1-64 characters of letters, digits, ".", "_" or "-"');
  }
  if (durationSeconds === undefined) return { profile };
  if (typeof durationSeconds !== 'number' || !Number.isSafeInteger(durationSeconds)) {
    throw bad('InvalidField', '"durationSeconds" must be a whole number');
  }
  return { profile, durationSeconds };
};

export interface RefreshRequest {
  readonly sessionId: string;
  /**
   * The session's profile, as the client knows it: the refresh is then one conditional write that also
   * checks it. Without it the session is read first to learn its profile.
   */
  readonly profile?: string;
}

/** An empty body, `{}` or `{ "profile": "dev" }`. */
export const parseRefreshRequest = (event: HttpApiEvent): RefreshRequest => {
  const text = bodyText(event);
  const body = text.trim() === '' ? {} : jsonObject(text);
  rejectUnknown(body, ['profile']);
  const sessionId = event.pathParameters?.sessionId;
  if (!isSessionId(sessionId))
    throw bad('InvalidSessionId', 'the session id must be 32 lowercase hex characters');
  const { profile } = body;
  if (profile === undefined) return { sessionId };
  if (typeof profile !== 'string' || !PROFILE_NAME.test(profile)) {
    throw bad('InvalidField', '"profile" must be 1-64 characters of letters, digits, ".", "_" or "-"');
  }
  return { sessionId, profile };
};

/** HTTP API lower-cases header names in payload 2.0; look up case-insensitively all the same. */
export const headerOf = (event: HttpApiEvent, name: string): string | undefined => {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
};

export const idempotencyKeyOf = (event: HttpApiEvent): string | undefined => {
  const key = headerOf(event, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw bad(
      'InvalidIdempotencyKey',
      'Idempotency-Key must be 8-128 characters of letters, digits, "_", ".", ":" or "-"',
    );
  }
  return key;
};
