/**
 * A DynamoDB Streams record (as Lambda delivers it) read into the typed change of one session the domain
 * decides on (src/domain/session-changes.ts). Images are unmarshalled and checked with the same rules the
 * store applies to its rows. An image that is not a well-formed row is still read as far as it can be
 * (src/domain/salvage.ts), with every problem named on the change, so a revocation is never skipped because its row
 * is slightly off; only a record that cannot be tied to a session (no key or one that is no session id, no
 * image, an image of another session, a status that is none of the three) is a named error the consumer
 * reports as a failed record
 * (invariant 7).
 */
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { parseSessionRecord, sessionProblems } from '../../adapters/session-store-rules.js';
import { isSessionId } from '../../domain/ids.js';
import { salvageSession } from '../../domain/salvage.js';
import type { Session } from '../../domain/session.js';
import type { SessionChange } from '../../domain/session-changes.js';

/** DynamoDB's TTL service deletes as this principal (userIdentity.type "Service"). */
export const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

export class MalformedStreamRecordError extends Error {
  override readonly name = 'MalformedStreamRecordError';
}

/** The partition key of the record's item, readable even when the images are not; undefined if absent. */
export const sessionKeyOf = (record: DynamoDBRecord): string | undefined =>
  record.dynamodb?.Keys?.sessionId?.S;

/** True when DynamoDB's TTL process (not a caller) deleted the item. */
export const isTtlRemoval = (record: DynamoDBRecord): boolean => {
  const identity: unknown = record.userIdentity;
  if (typeof identity !== 'object' || identity === null) return false;
  const { type, principalId } = identity as { type?: unknown; principalId?: unknown };
  return type === 'Service' && principalId === TTL_PRINCIPAL;
};

/** An image unmarshalled: the item as written, not yet checked. */
const imageToItem = (
  image: Record<string, AttributeValue> | undefined,
  which: string,
  eventId: string,
): Record<string, unknown> => {
  if (!image) throw new MalformedStreamRecordError(`stream record ${eventId} has no ${which}`);
  try {
    // The Lambda event's AttributeValue is the same wire shape as the SDK's; only the TS types differ.
    return unmarshall(image as Record<string, SdkAttributeValue>);
  } catch (error) {
    throw new MalformedStreamRecordError(`stream record ${eventId} has an unreadable ${which}`, {
      cause: error,
    });
  }
};

/** What a terminal row should say about its ending and does not (the store always writes these). */
const terminalGaps = (item: Record<string, unknown>): string[] => {
  const status = typeof item.status === 'string' ? item.status.trim().toLowerCase() : undefined;
  const required =
    status === 'revoked'
      ? (['revokedAt', 'revokedBy'] as const)
      : status === 'expired'
        ? (['expiredAt', 'expiredReason'] as const)
        : [];
  return required.filter((field) => item[field] === undefined).map((field) => `${field} is missing`);
};

/** A well-formed row as is; anything else salvaged, its problems prefixed with the image they are in. */
const readImage = (
  item: Record<string, unknown>,
  which: string,
  context: { readonly eventId: string; readonly sessionId: string; readonly at: Date },
  fallback: Session | undefined,
  problems: string[],
): Session => {
  if (item.sessionId !== undefined && item.sessionId !== context.sessionId) {
    throw new MalformedStreamRecordError(`stream record ${context.eventId} ${which} is for another session`);
  }
  const found = sessionProblems(item);
  problems.push(...[...found, ...terminalGaps(item)].map((problem) => `${which}: ${problem}`));
  if (found.length === 0) return parseSessionRecord(item);
  const salvaged = salvageSession(item, { sessionId: context.sessionId, at: context.at, fallback });
  if (!salvaged.ok) {
    throw new MalformedStreamRecordError(`stream record ${context.eventId} ${which}: ${salvaged.reason}`);
  }
  return salvaged.session;
};

/** Both images, each salvaged from the other where it is not a well-formed row. */
const readBoth = (
  oldItem: Record<string, unknown>,
  newItem: Record<string, unknown>,
  context: { readonly eventId: string; readonly sessionId: string; readonly at: Date },
  problems: string[],
): { before: Session; after: Session } => {
  // The image that is well formed (usually the active row before the change) fills the other's gaps.
  if (sessionProblems(oldItem).length === 0) {
    const before = readImage(oldItem, 'OldImage', context, undefined, problems);
    return { before, after: readImage(newItem, 'NewImage', context, before, problems) };
  }
  const after = readImage(newItem, 'NewImage', context, undefined, problems);
  return { before: readImage(oldItem, 'OldImage', context, after, problems), after };
};

/** Reads one stream record; throws MalformedStreamRecordError when it is not a session change we understand. */
export const parseStreamRecord = (record: DynamoDBRecord, fallbackTime: Date): SessionChange => {
  const eventId = record.eventID;
  if (!eventId) throw new MalformedStreamRecordError('stream record without eventID');
  const stream = record.dynamodb;
  if (!stream) throw new MalformedStreamRecordError(`stream record ${eventId} has no dynamodb section`);
  const sessionId = sessionKeyOf(record);
  if (!sessionId) throw new MalformedStreamRecordError(`stream record ${eventId} has no sessionId key`);
  // A key vend never issues ties the record to no session: acting on it would name an execution and
  // publish events (whose contract says 32 hex characters) after whatever was put in the table by hand.
  if (!isSessionId(sessionId)) {
    throw new MalformedStreamRecordError(
      `stream record ${eventId} has a sessionId key that is no session id`,
    );
  }
  const seconds = stream.ApproximateCreationDateTime;
  const at =
    typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000) : fallbackTime;
  const context = { eventId, sessionId, at };
  const problems: string[] = [];
  const withProblems = <T extends SessionChange>(change: T): T =>
    problems.length === 0 ? change : { ...change, problems };

  switch (record.eventName) {
    case 'INSERT': {
      const item = imageToItem(stream.NewImage, 'NewImage', eventId);
      const session = readImage(item, 'NewImage', context, undefined, problems);
      return withProblems({ ...context, kind: 'inserted', session });
    }
    case 'MODIFY': {
      const oldItem = imageToItem(stream.OldImage, 'OldImage', eventId);
      const newItem = imageToItem(stream.NewImage, 'NewImage', eventId);
      const { before, after } = readBoth(oldItem, newItem, context, problems);
      return withProblems({ ...context, kind: 'modified', before, after });
    }
    case 'REMOVE': {
      const item = imageToItem(stream.OldImage, 'OldImage', eventId);
      const before = readImage(item, 'OldImage', context, undefined, problems);
      return withProblems({ ...context, kind: 'removed', before, byTtl: isTtlRemoval(record) });
    }
    default:
      throw new MalformedStreamRecordError(
        `stream record ${eventId} has unknown eventName ${JSON.stringify(record.eventName)}`,
      );
  }
};
