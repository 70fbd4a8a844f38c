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

/** `sentinel-<user>-<first 8 of session id>`, always valid for STS; the user is cut to fit. */
export const buildRoleSessionName = (input: {
  readonly user: string;
  readonly sessionId: string;
}): string => {
  const shortId = sanitize(input.sessionId).slice(0, 8) || '_';
  const room = STS_NAME_MAX - 'sentinel--'.length - shortId.length;
  const user = (sanitize(input.user) || '_').slice(0, room);
  return `sentinel-${user}-${shortId}`;
};
