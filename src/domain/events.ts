/**
 * Event contracts (docs/events.md, "Event contracts"). `detail` always carries schemaVersion, sessionId, user, profile and
 * occurredAt, plus the fields of its type. No credential, token or secret ever goes into an event.
 * A change to a contract is a new schemaVersion and a new schema in events/schemas.
 */
import type { ExpiredReason, Session, SessionStatus } from './session.js';

export const EVENT_SOURCE = 'sentinel.sessions';
export const SCHEMA_VERSION = '1';

export const DETAIL_TYPES = [
  'SessionCreated',
  'SessionTouched',
  'SessionExpired',
  'SessionRevoked',
  'SessionStateChanged',
  'SessionPurged',
  'RevocationNotified',
] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

interface CommonDetail {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly sessionId: string;
  readonly user: string;
  readonly profile: string;
  readonly occurredAt: string;
}

export interface SessionCreatedDetail extends CommonDetail {
  readonly principalArn: string;
  readonly roleArn: string;
  readonly sourceIdentity: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly maxExpiresAt: string;
}
export interface SessionTouchedDetail extends CommonDetail {
  readonly expiresAt: string;
  readonly requestCount: number;
  readonly lastAccessAt: string;
}
export interface SessionExpiredDetail extends CommonDetail {
  readonly expiresAt: string;
  readonly reason: ExpiredReason;
}
export interface SessionRevokedDetail extends CommonDetail {
  readonly revokedAt: string;
  readonly revokedBy: string;
  readonly reason: string;
}
export interface SessionStateChangedDetail extends CommonDetail {
  readonly fromStatus: SessionStatus | null;
  readonly toStatus: SessionStatus;
  readonly streamEventId: string;
  readonly version: number;
}
export interface SessionPurgedDetail extends CommonDetail {
  readonly finalStatus: SessionStatus;
  readonly streamEventId: string;
}
export interface RevocationNotifiedDetail extends CommonDetail {
  readonly channel: string;
  readonly delivered: boolean;
}

export interface DetailByType {
  SessionCreated: SessionCreatedDetail;
  SessionTouched: SessionTouchedDetail;
  SessionExpired: SessionExpiredDetail;
  SessionRevoked: SessionRevokedDetail;
  SessionStateChanged: SessionStateChangedDetail;
  SessionPurged: SessionPurgedDetail;
  RevocationNotified: RevocationNotifiedDetail;
}

export interface SessionEvent<T extends DetailType = DetailType> {
  readonly detailType: T;
  readonly detail: DetailByType[T];
}

type SessionRef = Pick<Session, 'sessionId' | 'user' | 'profile'>;

const common = (session: SessionRef, occurredAt: Date): CommonDetail => ({
  schemaVersion: SCHEMA_VERSION,
  sessionId: session.sessionId,
  user: session.user,
  profile: session.profile,
  occurredAt: occurredAt.toISOString(),
});

export const sessionCreated = (session: Session, at: Date): SessionEvent<'SessionCreated'> => ({
  detailType: 'SessionCreated',
  detail: {
    ...common(session, at),
    principalArn: session.principalArn,
    roleArn: session.roleArn,
    sourceIdentity: session.sourceIdentity,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    maxExpiresAt: session.maxExpiresAt,
  },
});

export const sessionTouched = (session: Session, at: Date): SessionEvent<'SessionTouched'> => ({
  detailType: 'SessionTouched',
  detail: {
    ...common(session, at),
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
  detail: { ...common(session, at), expiresAt: session.expiresAt, reason },
});

export const sessionRevoked = (
  session: SessionRef & { readonly revokedAt: string; readonly revokedBy: string; readonly reason: string },
  at: Date,
): SessionEvent<'SessionRevoked'> => ({
  detailType: 'SessionRevoked',
  detail: {
    ...common(session, at),
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
    ...common(session, input.at),
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
  detail: { ...common(session, input.at), finalStatus: session.status, streamEventId: input.streamEventId },
});

export const revocationNotified = (
  session: SessionRef,
  input: { readonly channel: string; readonly delivered: boolean; readonly at: Date },
): SessionEvent<'RevocationNotified'> => ({
  detailType: 'RevocationNotified',
  detail: { ...common(session, input.at), channel: input.channel, delivered: input.delivered },
});
