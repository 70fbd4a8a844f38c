/** Reading a Lambda stream record into a session change: what the consumer refuses before deciding anything. */
import { readFileSync } from 'node:fs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  isTtlRemoval,
  MalformedStreamRecordError,
  parseStreamRecord,
  sessionKeyOf,
} from '../../../../src/handlers/stream/record.js';

const fixture = (name: string): DynamoDBRecord => {
  const event = JSON.parse(readFileSync(`events/streams/${name}.json`, 'utf8')) as DynamoDBStreamEvent;
  const record = event.Records[0];
  if (!record) throw new Error(`events/streams/${name}.json has no record`);
  return record;
};
const now = new Date('2030-01-01T00:00:00.000Z');

describe('parseStreamRecord', () => {
  it('reads an image that is not a well-formed row as far as it can, naming every problem', () => {
    const record = fixture('revoke');
    const newImage = record.dynamodb?.NewImage ?? {};
    const { expiresAt: _gone, revokedBy: _by, ...rest } = newImage;
    const broken: DynamoDBRecord = {
      ...record,
      dynamodb: {
        ...record.dynamodb,
        NewImage: {
          ...rest,
          status: { S: ' Revoked ' },
          revokedAt: { S: '2026-03-02T10:40:00+01:00' },
          version: { S: 'x' },
        },
      },
    };
    const change = parseStreamRecord(broken, now);
    expect(change.problems).toEqual([
      'NewImage: expiresAt must be an ISO-8601 UTC instant',
      'NewImage: version must be a non-negative integer',
      'NewImage: revokedAt must be an ISO-8601 UTC instant',
      'NewImage: status is unknown',
      'NewImage: revokedBy is missing',
    ]);
    // Gaps are filled from the other image of the record (the well-formed active row before the change).
    expect(change).toMatchObject({
      kind: 'modified',
      after: {
        status: 'revoked',
        expiresAt: '2026-03-02T10:00:00.000Z',
        version: 2,
        revokedAt: '2026-03-02T09:40:00.000Z',
        user: 'alice',
      },
    });
    expect(change.kind === 'modified' && change.after.revokedBy).toBeUndefined();
    // A well-formed record has no problems at all.
    expect(parseStreamRecord(record, now).problems).toBeUndefined();
  });

  it('refuses a record it cannot tie to a session or whose status is none of the three', () => {
    const record = fixture('revoke');
    const { Keys: _keys, ...withoutKeys } = record.dynamodb ?? {};
    expect(() => parseStreamRecord({ ...record, dynamodb: withoutKeys }, now)).toThrow(/no sessionId key/);
    const image = record.dynamodb?.NewImage ?? {};
    const other = {
      ...record,
      dynamodb: { ...record.dynamodb, NewImage: { ...image, sessionId: { S: 'f'.repeat(32) } } },
    };
    expect(() => parseStreamRecord(other, now)).toThrow(/NewImage is for another session/);
    const unknown = {
      ...record,
      dynamodb: { ...record.dynamodb, NewImage: { ...image, status: { S: 'paused' } } },
    };
    expect(() => parseStreamRecord(unknown, now)).toThrow(MalformedStreamRecordError);
    expect(() => parseStreamRecord(unknown, now)).toThrow(/a87ff679.*status "paused" is none of/);
  });

  it('refuses an unreadable attribute value and an unknown eventName', () => {
    const record = fixture('insert');
    const image = record.dynamodb?.NewImage ?? {};
    // An attribute value with no type at all: only reachable through raw JSON, as a corrupt event would be.
    const unreadable: DynamoDBRecord = JSON.parse(
      JSON.stringify({ ...record, dynamodb: { ...record.dynamodb, NewImage: { ...image, version: {} } } }),
    );
    expect(() => parseStreamRecord(unreadable, now)).toThrow(MalformedStreamRecordError);
    // What DynamoDB Local's raw TTL records carry; the Lambda type does not admit it, hence the cast.
    const unknown = { ...record, eventName: 'UNKNOWN_TO_SDK_VERSION' } as unknown as DynamoDBRecord;
    expect(() => parseStreamRecord(unknown, now)).toThrow(/unknown eventName/);
  });

  it('uses ApproximateCreationDateTime (seconds) as the time of the change', () => {
    const change = parseStreamRecord(fixture('revoke'), now);
    expect(change.at.toISOString()).toBe('2026-03-02T09:40:00.000Z');
  });
});

describe('sessionKeyOf and isTtlRemoval', () => {
  it('read the key even without images, and tell the TTL service from a caller', () => {
    const record = fixture('ttl-remove');
    const { OldImage: _gone, ...withoutImages } = record.dynamodb ?? {};
    expect(sessionKeyOf({ ...record, dynamodb: withoutImages })).toBe('7f3a9c2e5b1d4e8fa0c6b2d9e4f1a3c5');
    expect(sessionKeyOf({ ...record, dynamodb: undefined })).toBeUndefined();
    expect(isTtlRemoval(record)).toBe(true);
    expect(isTtlRemoval(fixture('delete'))).toBe(false);
    expect(parseStreamRecord(fixture('delete'), now)).toMatchObject({ kind: 'removed', byTtl: false });
  });
});
