/**
 * A DynamoDB Streams record (as Lambda delivers it) read into the typed change of one session the domain
 * decides on (src/domain/session-changes.ts). Images are unmarshalled and checked with the same rules the
 * store applies to its rows, so a malformed image is a named error the consumer reports as a failed record,
 * never a crash or a half-read session (invariant 7).
 */
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { parseSessionRecord } from '../../adapters/session-store-rules.js';
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

const imageToSession = (
  image: Record<string, AttributeValue> | undefined,
  which: string,
  eventId: string,
): Session => {
  if (!image) throw new MalformedStreamRecordError(`stream record ${eventId} has no ${which}`);
  let item: Record<string, unknown>;
  try {
    // The Lambda event's AttributeValue is the same wire shape as the SDK's; only the TS types differ.
    item = unmarshall(image as Record<string, SdkAttributeValue>);
  } catch (error) {
    throw new MalformedStreamRecordError(`stream record ${eventId} has an unreadable ${which}`, {
      cause: error,
    });
  }
  try {
    return parseSessionRecord(item);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MalformedStreamRecordError(`stream record ${eventId} ${which}: ${reason}`, { cause: error });
  }
};

/** Reads one stream record; throws MalformedStreamRecordError when it is not a session change we understand. */
export const parseStreamRecord = (record: DynamoDBRecord, fallbackTime: Date): SessionChange => {
  const eventId = record.eventID;
  if (!eventId) throw new MalformedStreamRecordError('stream record without eventID');
  const stream = record.dynamodb;
  if (!stream) throw new MalformedStreamRecordError(`stream record ${eventId} has no dynamodb section`);
  const sessionId = sessionKeyOf(record);
  if (!sessionId) throw new MalformedStreamRecordError(`stream record ${eventId} has no sessionId key`);
  const seconds = stream.ApproximateCreationDateTime;
  const at =
    typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000) : fallbackTime;
  const common = { eventId, sessionId, at };

  const checked = <T extends Session>(session: T, which: string): T => {
    if (session.sessionId !== sessionId) {
      throw new MalformedStreamRecordError(`stream record ${eventId} ${which} is for another session`);
    }
    return session;
  };

  switch (record.eventName) {
    case 'INSERT':
      return {
        ...common,
        kind: 'inserted',
        session: checked(imageToSession(stream.NewImage, 'NewImage', eventId), 'NewImage'),
      };
    case 'MODIFY':
      return {
        ...common,
        kind: 'modified',
        before: checked(imageToSession(stream.OldImage, 'OldImage', eventId), 'OldImage'),
        after: checked(imageToSession(stream.NewImage, 'NewImage', eventId), 'NewImage'),
      };
    case 'REMOVE':
      return {
        ...common,
        kind: 'removed',
        before: checked(imageToSession(stream.OldImage, 'OldImage', eventId), 'OldImage'),
        byTtl: isTtlRemoval(record),
      };
    default:
      throw new MalformedStreamRecordError(
        `stream record ${eventId} has unknown eventName ${JSON.stringify(record.eventName)}`,
      );
  }
};
