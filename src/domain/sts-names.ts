import { InvalidInputError } from './errors.js';
import { isSessionId } from './ids.js';

/**
 * Names STS checks: SourceIdentity and RoleSessionName are each 2–64 characters of `[\w+=,.@-]`.
 * The separator in SourceIdentity is `=`, not `:`: `:` is outside STS's charset and AssumeRole would reject it
 * (a `=` inside a user name becomes `_`; docs/design.md, "SourceIdentity uses = not :").
 */
export const STS_NAME_MAX = 64;
const STS_NAME_CHAR = /[\w+=,.@-]/;
const SEPARATOR = '=';

/** Replace every character STS would refuse (and, optionally, the separator) with `_`. */
const sanitize = (value: string, alsoReplace = ''): string =>
  Array.from(value)
    .map((ch) => (STS_NAME_CHAR.test(ch) && !alsoReplace.includes(ch) ? ch : '_'))
    .join('');

export const isValidStsName = (value: string): boolean =>
  value.length >= 2 && value.length <= STS_NAME_MAX && /^[\w+=,.@-]+$/.test(value);

/**
 * `sentinel=<user>=<approval id | direct>=<request id>`, always valid for STS. When too long, the request id
 * is cut first (to 8 characters, enough to find it in logs), then the user name.
 */
export const buildSourceIdentity = (input: {
  readonly user: string;
  readonly approvalId?: string | undefined;
  readonly requestId: string;
}): string => {
  const user = sanitize(input.user, SEPARATOR) || '_';
  const approval = sanitize(input.approvalId ?? 'direct', SEPARATOR).slice(0, 20) || 'direct';
  let requestId = sanitize(input.requestId, SEPARATOR) || '_';
  const fixed = `sentinel${SEPARATOR}${SEPARATOR}${approval}${SEPARATOR}`.length;
  let room = STS_NAME_MAX - fixed;
  if (user.length + requestId.length > room) requestId = requestId.slice(0, Math.max(8, room - user.length));
  room -= requestId.length;
  return ['sentinel', user.slice(0, room), approval, requestId].join(SEPARATOR);
};

const ROLE_SESSION_PREFIX = 's-';
/** `s-<32 hex>-<user>`: what a valid RoleSessionName of ours looks like. */
const ROLE_SESSION_NAME = /^s-([0-9a-f]{32})-[\w+=,.@-]{1,29}$/;

/**
 * `s-<32-hex session id>-<user prefix>`, always valid for STS. The whole id is kept (the caller's
 * assumed-role ARN ends in it, so a verifier maps credentials back to their session); the user is only a
 * hint for people reading CloudTrail and is sanitised and cut to the 29 characters left.
 */
export const buildRoleSessionName = (input: {
  readonly user: string;
  readonly sessionId: string;
}): string => {
  if (!isSessionId(input.sessionId)) {
    // Ids are generated, never typed: anything else is a bug, and a name without the id maps to no session.
    throw new InvalidInputError('a RoleSessionName needs a session id of 32 lowercase hex characters');
  }
  const room = STS_NAME_MAX - ROLE_SESSION_PREFIX.length - input.sessionId.length - 1;
  const user = (sanitize(input.user) || '_').slice(0, room);
  return `${ROLE_SESSION_PREFIX}${input.sessionId}-${user}`;
};

/** The session id a RoleSessionName of ours carries, or undefined for any other name. */
export const sessionIdFromRoleSessionName = (name: unknown): string | undefined => {
  if (typeof name !== 'string') return undefined;
  return ROLE_SESSION_NAME.exec(name)?.[1];
};
