/** JSON responses of the vend API. Credentials responses must never be cached by anything in between. */
import { CREDENTIAL_SAFETY_MARGIN_SECONDS } from '../../domain/durations.js';
import type { Vended, VendRefusal } from '../../usecases/vend-outcome.js';
import type { HttpResult } from './event.js';

const HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
} as const;

export const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: HEADERS,
  body: JSON.stringify(body),
});

export const errorResponse = (statusCode: number, code: string, message: string): HttpResult =>
  json(statusCode, { code, message });

/** The container-credentials shape AWS SDKs read, plus the session it belongs to. */
export const vendedResponse = (statusCode: number, vended: Vended): HttpResult =>
  json(statusCode, {
    sessionId: vended.sessionId,
    expiresAt: vended.expiresAt,
    credentials: {
      AccessKeyId: vended.credentials.AccessKeyId,
      SecretAccessKey: vended.credentials.SecretAccessKey,
      Token: vended.credentials.Token,
      Expiration: vended.credentials.Expiration,
    },
  });

/**
 * The error matrix (docs/design.md, "Error responses"), plus 403 ProfileChanged: a refresh of a session whose profile was removed from
 * the allowlist or now maps to another role (the session's role is no longer handed out; nothing is written).
 */
export const refusalResponse = (refusal: VendRefusal): HttpResult => {
  switch (refusal.kind) {
    case 'UnknownProfile':
      return errorResponse(403, 'ProfileNotAllowed', `profile "${refusal.profile}" is not on the allowlist`);
    case 'ProfileChanged':
      return errorResponse(
        403,
        'ProfileChanged',
        refusal.reason === 'removed'
          ? `profile "${refusal.profile}" is no longer on the allowlist; start a new session with another profile`
          : `profile "${refusal.profile}" now maps to another role than this session's; start a new session`,
      );
    case 'DurationOutOfRange':
      return errorResponse(
        400,
        'DurationOutOfRange',
        `durationSeconds must be within [${refusal.min}, ${refusal.max}] for this profile, got ${refusal.requested}`,
      );
    case 'SessionNotFound':
      return errorResponse(404, 'SessionNotFound', 'no such session');
    case 'NotOwner':
      return errorResponse(403, 'NotOwner', 'the session belongs to another principal');
    case 'SessionRevoked':
      return errorResponse(403, 'SessionRevoked', 'the session was revoked; start a new one');
    case 'SessionExpired':
      return errorResponse(
        410,
        'SessionExpired',
        `the session expired at ${refusal.expiresAt}; start a new one`,
      );
    case 'SessionAtMaxLifetime':
      return errorResponse(
        410,
        'SessionAtMaxLifetime',
        `the session has ${refusal.remainingSeconds} s left, too little for the shortest credential STS issues (900 s) plus a ${CREDENTIAL_SAFETY_MARGIN_SECONDS} s safety margin; start a new one`,
      );
    case 'IssuerDenied':
      return errorResponse(
        502,
        'CredentialIssuerDenied',
        'STS refused to issue credentials for this profile',
      );
    case 'IssuerThrottled':
      return errorResponse(503, 'CredentialIssuerThrottled', 'STS is throttling; retry later');
    case 'IssuerFailed':
      return errorResponse(502, 'CredentialIssuerFailed', 'STS did not issue credentials');
    case 'SessionUnverifiable':
      return errorResponse(
        403,
        'SessionUnverifiable',
        "the session's record cannot be read, so it is not served; start a new session",
      );
    case 'StoreUnavailable':
      return errorResponse(503, 'SessionStoreUnavailable', 'the session store is unavailable; retry later');
    case 'AccessDenied':
      return errorResponse(
        403,
        'AccessDenied',
        refusal.rule === null ? refusal.reason : `${refusal.reason} (rule "${refusal.rule}")`,
      );
    case 'PolicyUnavailable':
      return errorResponse(
        503,
        'PolicyUnavailable',
        'no valid access policy could be read, so every vend is denied; retry later',
      );
    case 'ProfileMismatch':
      return errorResponse(
        409,
        'ProfileMismatch',
        `the session is not a "${refusal.profile}" session; name its own profile or none`,
      );
  }
};
