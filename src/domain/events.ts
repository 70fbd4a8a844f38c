/**
 * Event contracts (docs/events.md, "Event contracts"). Every `detail` carries schemaVersion, user, profile and
 * occurredAt; every session event also carries its sessionId, plus the fields of its type. VendDenied is about
 * a vend the access policy refused: its sessionId is the refused refresh's session, or null for a refused
 * create (no session exists). No credential, token or secret ever goes into an event.
 * A breaking change to a contract is a new schemaVersion of that detail-type and a new schema in events/schemas.
 */
import type { ExpiredReason, Session, SessionStatus } from './session.js';

export const EVENT_SOURCE = 'sentinel.sessions';

export const DETAIL_TYPES = [
  'SessionCreated',
  'SessionTouched',
  'SessionExpired',
  'SessionRevoked',
  'SessionStateChanged',
  'SessionPurged',
  'RevocationNotified',
  'VendDenied',
] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

/**
 * The contract version of each detail-type, as written into `detail.schemaVersion`. SessionCreated is at "2":
 * it gained the required accessRule and policyVersion when the access policy started deciding every vend.
 */
export const SCHEMA_VERSIONS = {
  SessionCreated: '2',
  SessionTouched: '1',
  SessionExpired: '1',
  SessionRevoked: '1',
  SessionStateChanged: '1',
  SessionPurged: '1',
  RevocationNotified: '1',
  VendDenied: '1',
} as const satisfies { readonly [T in DetailType]: string };
export type SchemaVersionOf<T extends DetailType> = (typeof SCHEMA_VERSIONS)[T];

/** The fields of every detail. */
interface BaseDetail<T extends DetailType> {
  readonly schemaVersion: SchemaVersionOf<T>;
  readonly user: string;
  readonly profile: string;
  readonly occurredAt: string;
}

/** The fields of every detail about an existing session. */
interface CommonDetail<T extends DetailType> extends BaseDetail<T> {
  readonly sessionId: string;
}

export interface SessionCreatedDetail extends CommonDetail<'SessionCreated'> {
  readonly principalArn: string;
  readonly roleArn: string;
  readonly sourceIdentity: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly maxExpiresAt: string;
  /** The access-policy rule that allowed the vend. */
  readonly accessRule: string;
  /** The version of the policy document that decided, as a string. */
  readonly policyVersion: string;
}
export interface SessionTouchedDetail extends CommonDetail<'SessionTouched'> {
  readonly expiresAt: string;
  readonly requestCount: number;
  readonly lastAccessAt: string;
}
export interface SessionExpiredDetail extends CommonDetail<'SessionExpired'> {
  readonly expiresAt: string;
  readonly reason: ExpiredReason;
}
export interface SessionRevokedDetail extends CommonDetail<'SessionRevoked'> {
  readonly revokedAt: string;
  readonly revokedBy: string;
  readonly reason: string;
}
export interface SessionStateChangedDetail extends CommonDetail<'SessionStateChanged'> {
  readonly fromStatus: SessionStatus | null;
  readonly toStatus: SessionStatus;
  readonly streamEventId: string;
  readonly version: number;
}
export interface SessionPurgedDetail extends CommonDetail<'SessionPurged'> {
  readonly finalStatus: SessionStatus;
  readonly streamEventId: string;
}
export interface RevocationNotifiedDetail extends CommonDetail<'RevocationNotified'> {
  readonly channel: string;
  readonly delivered: boolean;
}

export const VEND_ACTIONS = ['create', 'refresh'] as const;
export type VendAction = (typeof VEND_ACTIONS)[number];

export interface VendDeniedDetail extends BaseDetail<'VendDenied'> {
  /** The session a refused refresh was for; null for a refused create (there is no session). */
  readonly sessionId: string | null;
  readonly principalArn: string;
  readonly action: VendAction;
  /** The deny rule that matched; null when no rule matched and the default deny applied. */
  readonly rule: string | null;
  readonly reason: string;
  /** The version of the policy document that decided; null when no valid policy could be read. */
  readonly policyVersion: string | null;
}

export interface DetailByType {
  SessionCreated: SessionCreatedDetail;
  SessionTouched: SessionTouchedDetail;
  SessionExpired: SessionExpiredDetail;
  SessionRevoked: SessionRevokedDetail;
  SessionStateChanged: SessionStateChangedDetail;
  SessionPurged: SessionPurgedDetail;
  RevocationNotified: RevocationNotifiedDetail;
  VendDenied: VendDeniedDetail;
}

export interface SessionEvent<T extends DetailType = DetailType> {
  readonly detailType: T;
  readonly detail: DetailByType[T];
}

type SessionRef = Pick<Session, 'sessionId' | 'user' | 'profile'>;

const common = <T extends DetailType>(type: T, session: SessionRef, occurredAt: Date): CommonDetail<T> => ({
  schemaVersion: SCHEMA_VERSIONS[type],
  sessionId: session.sessionId,
  user: session.user,
  profile: session.profile,
  occurredAt: occurredAt.toISOString(),
});

export const sessionCreated = (
  session: Session,
  at: Date,
  access: { readonly rule: string; readonly policyVersion: string },
): SessionEvent<'SessionCreated'> => ({
  detailType: 'SessionCreated',
  detail: {
    ...common('SessionCreated', session, at),
    principalArn: session.principalArn,
    roleArn: session.roleArn,
    sourceIdentity: session.sourceIdentity,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    maxExpiresAt: session.maxExpiresAt,
    accessRule: access.rule,
    policyVersion: access.policyVersion,
  },
});

export const sessionTouched = (session: Session, at: Date): SessionEvent<'SessionTouched'> => ({
  detailType: 'SessionTouched',
  detail: {
    ...common('SessionTouched', session, at),
    expiresAt: session.expiresAt,
    requestCount: session.requestCount,
    lastAccessAt: session.lastAccessAt,
  },
});

export const sessionExpired = (
  session: SessionRef & Pick<Session, 'expiresAt'>,
  reason: ExpiredReason,
  at: Date,
): SessionEvent<'SessionExpired'> => ({
  detailType: 'SessionExpired',
  detail: { ...common('SessionExpired', session, at), expiresAt: session.expiresAt, reason },
});

export const sessionRevoked = (
  session: SessionRef & { readonly revokedAt: string; readonly revokedBy: string; readonly reason: string },
  at: Date,
): SessionEvent<'SessionRevoked'> => ({
  detailType: 'SessionRevoked',
  detail: {
    ...common('SessionRevoked', session, at),
    revokedAt: session.revokedAt,
    revokedBy: session.revokedBy,
    reason: session.reason,
  },
});

export const sessionStateChanged = (
  session: SessionRef & Pick<Session, 'status' | 'version'>,
  input: { readonly fromStatus: SessionStatus | null; readonly streamEventId: string; readonly at: Date },
): SessionEvent<'SessionStateChanged'> => ({
  detailType: 'SessionStateChanged',
  detail: {
    ...common('SessionStateChanged', session, input.at),
    fromStatus: input.fromStatus,
    toStatus: session.status,
    streamEventId: input.streamEventId,
    version: session.version,
  },
});

export const sessionPurged = (
  session: SessionRef & Pick<Session, 'status'>,
  input: { readonly streamEventId: string; readonly at: Date },
): SessionEvent<'SessionPurged'> => ({
  detailType: 'SessionPurged',
  detail: {
    ...common('SessionPurged', session, input.at),
    finalStatus: session.status,
    streamEventId: input.streamEventId,
  },
});

export const revocationNotified = (
  session: SessionRef,
  input: { readonly channel: string; readonly delivered: boolean; readonly at: Date },
): SessionEvent<'RevocationNotified'> => ({
  detailType: 'RevocationNotified',
  detail: {
    ...common('RevocationNotified', session, input.at),
    channel: input.channel,
    delivered: input.delivered,
  },
});

export const vendDenied = (input: {
  readonly principalArn: string;
  readonly user: string;
  readonly profile: string;
  readonly sessionId: string | null;
  readonly action: VendAction;
  readonly rule: string | null;
  readonly reason: string;
  readonly policyVersion: string | null;
  readonly at: Date;
}): SessionEvent<'VendDenied'> => ({
  detailType: 'VendDenied',
  detail: {
    schemaVersion: SCHEMA_VERSIONS.VendDenied,
    sessionId: input.sessionId,
    user: input.user,
    profile: input.profile,
    occurredAt: input.at.toISOString(),
    principalArn: input.principalArn,
    action: input.action,
    rule: input.rule,
    reason: input.reason,
    policyVersion: input.policyVersion,
  },
});
