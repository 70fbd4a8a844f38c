/**
 * The downstream verifier's test world: the sessions its fixtures (events/verifier/) name, caller ARNs for
 * them, presigned-STS caller tokens, and a fake STS that answers GetCallerIdentity by access key id (it does
 * not check signatures: that is STS's job, and the tests exercise what the verifier does with STS's answer).
 */
import { readFileSync } from 'node:fs';
import { newSession, type Session } from '../../src/domain/session.js';
import { buildRoleSessionName } from '../../src/domain/sts-names.js';
import {
  AUDIENCE_HEADER,
  CALLER_TOKEN_PREFIX,
  type FetchLike,
} from '../../src/handlers/http/caller-identity-token.js';
import { iamUserCaller } from './callers.js';

/** The fixtures' instant: their tokens are signed 30 s before it. */
export const VERIFIER_NOW = new Date('2026-03-01T12:00:00.000Z');
export const VERIFIER_AUDIENCE = 'orders-api.example.com';
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/sentinel-readonly';
const USER = 'alice';

/** An active session of alice on ROLE_ARN, created at `createdAt` (expires an hour later). */
export const verifierSession = (sessionId: string, createdAt: Date): Session =>
  newSession({
    sessionId,
    caller: iamUserCaller(USER),
    profile: 'readonly',
    roleArn: ROLE_ARN,
    sourceIdentity: `sentinel=${USER}=direct=req-1`,
    policy: { idleTimeoutSeconds: 3600, maxLifetimeSeconds: 4 * 3600 },
    now: createdAt,
  });

const sessionAt = (sessionId: string): Session =>
  verifierSession(sessionId, new Date(VERIFIER_NOW.getTime() - 600_000));

/** Session ids of the fixtures, by scenario. */
export const IDS = {
  active: 'a0000000000000000000000000000001',
  expired: 'a0000000000000000000000000000002',
  revoked: 'a0000000000000000000000000000003',
  unknown: 'a0000000000000000000000000000004',
  ttlDeleted: 'a0000000000000000000000000000005',
  otherOwner: 'a0000000000000000000000000000006',
  storeDown: 'a0000000000000000000000000000007',
} as const;

const active = sessionAt(IDS.active);
/** Rows the fixtures expect in the Sessions table (ttlDeleted is written, then removed, by the tests). */
export const SESSIONS = {
  active,
  expired: {
    ...sessionAt(IDS.expired),
    status: 'expired',
    expiredAt: '2026-03-01T11:55:00.000Z',
    expiredReason: 'forced',
    version: 2,
  },
  revoked: {
    ...sessionAt(IDS.revoked),
    status: 'revoked',
    revokedAt: '2026-03-01T11:58:00.000Z',
    revokedBy: 'arn:aws:iam::123456789012:user/security',
    revokedReason: 'laptop stolen',
    version: 2,
  },
  ttlDeleted: sessionAt(IDS.ttlDeleted),
  otherOwner: sessionAt(IDS.otherOwner),
  storeDown: sessionAt(IDS.storeDown),
} satisfies Record<string, Session>;

/** The ARN STS reports for credentials vended for `sessionId` under `roleName`. */
export const callerArnFor = (
  sessionId: string,
  roleName = 'sentinel-readonly',
  account = '123456789012',
): string =>
  `arn:aws:sts::${account}:assumed-role/${roleName}/${buildRoleSessionName({ user: USER, sessionId })}`;

/** Access key id → the ARN the fake STS answers for it (one per fixture token). */
export const CALLERS: Readonly<Record<string, string>> = {
  ASIAVERIFYACTIVE0001: callerArnFor(IDS.active),
  ASIAVERIFYEXPIRED001: callerArnFor(IDS.expired),
  ASIAVERIFYREVOKED001: callerArnFor(IDS.revoked),
  ASIAVERIFYUNKNOWN001: callerArnFor(IDS.unknown),
  ASIAVERIFYTTLGONE001: callerArnFor(IDS.ttlDeleted),
  // A session id of ours, but presented by another role: someone assumed sentinel-admin with its name.
  ASIAVERIFYOTHER00001: callerArnFor(IDS.otherOwner, 'sentinel-admin'),
  ASIAVERIFYSTOREDOWN1: callerArnFor(IDS.storeDown),
  AKIAVERIFYIAMUSER001: 'arn:aws:iam::123456789012:user/bob',
};

const amzDate = (at: Date): string =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** A caller token as a client builds it (the signature is a placeholder: the fake STS does not check it). */
export const callerToken = (
  accessKeyId: string,
  options: { readonly signedAt?: Date; readonly expires?: number; readonly signedHeaders?: string } = {},
): string => {
  const signedAt = options.signedAt ?? new Date(VERIFIER_NOW.getTime() - 30_000);
  const day = amzDate(signedAt).slice(0, 8);
  const query = new URLSearchParams({
    Action: 'GetCallerIdentity',
    Version: '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${accessKeyId}/${day}/us-east-1/sts/aws4_request`,
    'X-Amz-Date': amzDate(signedAt),
    'X-Amz-Expires': String(options.expires ?? 60),
    'X-Amz-SignedHeaders': options.signedHeaders ?? `host;${AUDIENCE_HEADER}`,
    'X-Amz-Security-Token': 'IQoJb3JpZ2luX2VjEXAMPLE',
    'X-Amz-Signature': 'e'.repeat(64),
  });
  const url = `https://sts.us-east-1.amazonaws.com/?${query.toString()}`;
  return `${CALLER_TOKEN_PREFIX}${Buffer.from(url).toString('base64url')}`;
};

export interface FakeSts {
  readonly fetch: FetchLike;
  /** Every request STS got: the URL's access key id and the audience header sent. */
  readonly requests: { readonly accessKeyId: string; readonly audience: string | undefined }[];
  /** Answer the next requests with this status (e.g. 503) instead. */
  failWith(status: number): void;
}

/** STS that knows CALLERS, and refuses (403 SignatureDoesNotMatch) a request for another audience. */
export const fakeSts = (audience = VERIFIER_AUDIENCE): FakeSts => {
  const requests: { accessKeyId: string; audience: string | undefined }[] = [];
  let failing: number | undefined;
  return {
    requests,
    failWith: (status) => {
      failing = status;
    },
    fetch: async (url, init) => {
      const credential = new URL(url).searchParams.get('X-Amz-Credential') ?? '';
      const accessKeyId = credential.split('/')[0] ?? '';
      requests.push({ accessKeyId, audience: init.headers[AUDIENCE_HEADER] });
      const answer = (status: number, body: string) => ({ status, text: async () => body });
      if (failing !== undefined)
        return answer(
          failing,
          '<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>',
        );
      const arn = CALLERS[accessKeyId];
      if (arn === undefined || init.headers[AUDIENCE_HEADER] !== audience) {
        return answer(
          403,
          '<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>',
        );
      }
      return answer(
        200,
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AROAEXAMPLE:x</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    },
  };
};

/** A fixture of events/verifier/ (the `sam local invoke` events of the session authorizer). */
export const verifierFixture = <T>(name: string): T =>
  JSON.parse(readFileSync(`events/verifier/${name}.json`, 'utf8')) as T;

/** Fixture → the outcome it stands for, with the table holding SESSIONS (ttlDeleted removed, storeDown failing). */
export const EXPECTED_OUTCOMES: Readonly<Record<string, string>> = {
  'http-active': 'Allowed',
  'http-expired': 'SessionExpired',
  'http-revoked': 'SessionRevoked',
  'http-unknown': 'UnknownSession',
  'http-ttl-deleted': 'UnknownSession',
  'http-other-owner': 'OwnerMismatch',
  'http-store-down': 'StoreError',
  'http-not-sentinel': 'NotSentinelSession',
  'http-malformed-token': 'InvalidCallerToken',
  'http-missing-token': 'MissingCallerToken',
  'rest-token-active': 'Allowed',
  'rest-request-revoked': 'SessionRevoked',
};
