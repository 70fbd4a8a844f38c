/**
 * The caller token: only a presigned STS GetCallerIdentity URL, on a real STS host, with the audience signed,
 * within its validity, is ever sent anywhere; STS's answer maps to the ARN or to a deny.
 */
import { describe, expect, it } from 'vitest';
import {
  CALLER_TOKEN_PREFIX,
  CallerIdentityUnavailableError,
  InvalidCallerTokenError,
  parseCallerToken,
  resolveCallerArn,
} from '../../../../src/handlers/http/caller-identity-token.js';
import {
  CALLERS,
  callerToken,
  fakeSts,
  VERIFIER_AUDIENCE,
  VERIFIER_NOW,
} from '../../../support/verifier-world.js';

const now = VERIFIER_NOW;
const wrap = (url: string) => `${CALLER_TOKEN_PREFIX}${Buffer.from(url).toString('base64url')}`;
const urlOf = (token: string) => Buffer.from(token.slice(CALLER_TOKEN_PREFIX.length), 'base64url').toString();
/** The valid token with its URL edited. */
const edited = (
  edit: ((url: URL) => void) | Partial<Pick<URL, 'hostname' | 'protocol' | 'port' | 'pathname'>>,
): string => {
  const url = new URL(urlOf(callerToken('ASIAVERIFYACTIVE0001')));
  if (typeof edit === 'function') edit(url);
  else Object.assign(url, edit);
  return wrap(url.toString());
};

describe('parseCallerToken', () => {
  it('accepts a presigned GetCallerIdentity URL (with or without "Bearer ")', () => {
    const token = callerToken('ASIAVERIFYACTIVE0001');
    expect(parseCallerToken(token, { now }).hostname).toBe('sts.us-east-1.amazonaws.com');
    expect(parseCallerToken(`Bearer ${token}`, { now }).hostname).toBe('sts.us-east-1.amazonaws.com');
  });

  it.each([
    ['the global endpoint', 'sts.amazonaws.com'],
    ['a FIPS endpoint', 'sts-fips.us-gov-west-1.amazonaws.com'],
    ['China', 'sts.cn-north-1.amazonaws.com.cn'],
  ])('accepts %s', (_what, host) => {
    expect(() => parseCallerToken(edited({ hostname: host }), { now })).not.toThrow();
  });

  it.each([
    ['nothing', undefined],
    ['an empty string', ''],
    ['another scheme', 'k8s-aws-v1.abc'],
    ['not base64url', `${CALLER_TOKEN_PREFIX}@@@`],
    ['not a URL', wrap('not a url')],
    ['plain http', edited({ protocol: 'http:' })],
    ['another host', edited({ hostname: 'sts.amazonaws.com.evil.example' })],
    ['a port', edited({ port: '8443' })],
    ['a path', edited({ pathname: '/x' })],
    ['another action', edited((u) => u.searchParams.set('Action', 'AssumeRole'))],
    ['an extra parameter', edited((u) => u.searchParams.set('RoleArn', 'x'))],
    ['a repeated parameter', edited((u) => u.searchParams.append('Action', 'GetCallerIdentity'))],
    ['no signature', edited((u) => u.searchParams.delete('X-Amz-Signature'))],
    ['the audience not signed', callerToken('ASIAVERIFYACTIVE0001', { signedHeaders: 'host' })],
    [
      'expired',
      callerToken('ASIAVERIFYACTIVE0001', { signedAt: new Date(now.getTime() - 61_000), expires: 60 }),
    ],
    [
      'signed in the future',
      callerToken('ASIAVERIFYACTIVE0001', { signedAt: new Date(now.getTime() + 120_000) }),
    ],
    [
      'longer than STS allows',
      callerToken('ASIAVERIFYACTIVE0001', { signedAt: new Date(now.getTime() - 901_000), expires: 3600 }),
    ],
    ['too long', `${CALLER_TOKEN_PREFIX}${'A'.repeat(9000)}`],
  ])('refuses %s', (_what, token) => {
    expect(() => parseCallerToken(token, { now })).toThrow(InvalidCallerTokenError);
  });
});

describe('resolveCallerArn', () => {
  const options = (sts = fakeSts()) => ({
    audience: VERIFIER_AUDIENCE,
    now,
    fetch: sts.fetch,
    timeoutMs: 1000,
  });

  it('answers the ARN STS names for the signer', async () => {
    expect(await resolveCallerArn(callerToken('ASIAVERIFYACTIVE0001'), options())).toBe(
      CALLERS.ASIAVERIFYACTIVE0001,
    );
  });

  it('a refused signature (another audience) is an invalid token', async () => {
    await expect(
      resolveCallerArn(callerToken('ASIAVERIFYACTIVE0001'), { ...options(), audience: 'other' }),
    ).rejects.toThrow(/SignatureDoesNotMatch/);
  });

  it.each([[500], [503], [429]])('STS answering %s is "unavailable", not "invalid"', async (status) => {
    const sts = fakeSts();
    sts.failWith(status);
    await expect(resolveCallerArn(callerToken('ASIAVERIFYACTIVE0001'), options(sts))).rejects.toThrow(
      CallerIdentityUnavailableError,
    );
  });

  it('a network failure is "unavailable"', async () => {
    const fetch = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(
      resolveCallerArn(callerToken('ASIAVERIFYACTIVE0001'), { ...options(), fetch }),
    ).rejects.toThrow(CallerIdentityUnavailableError);
  });

  it('a 200 without an Arn is "unavailable"', async () => {
    const fetch = async () => ({ status: 200, text: async () => '<html>captive portal</html>' });
    await expect(
      resolveCallerArn(callerToken('ASIAVERIFYACTIVE0001'), { ...options(), fetch }),
    ).rejects.toThrow(CallerIdentityUnavailableError);
  });

  it('never fetches a token that fails the local checks', async () => {
    const sts = fakeSts();
    await expect(resolveCallerArn(edited({ hostname: 'evil.example.com' }), options(sts))).rejects.toThrow(
      InvalidCallerTokenError,
    );
    expect(sts.requests).toEqual([]);
  });
});
