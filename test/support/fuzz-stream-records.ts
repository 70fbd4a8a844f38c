/**
 * fast-check arbitraries of Lambda-shaped DynamoDB stream batches for the fuzz suite
 * (test/reliability/fuzz.test.ts). Each record is about its own session and is built either good (a change
 * the consumer acts on, possibly from a row edited by hand that it still reads: docs/design.md, "A malformed
 * row is still enforced") or bad (a record it cannot tie to a session, or whose status is none of the three),
 * so the property knows which records must fail and which must act.
 */
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import type { Session } from '../../src/domain/session.js';
import { sessionFixture, sessionIdFor, streamRecord } from './consumer-fakes.js';
import { badSessionId, hostileKey, hostileString, hugeString, PROTO_KEYS } from './fuzz-arbitraries.js';

/** Ids of records that can be tied to a session, and (far apart) of those built to be refused. */
export const goodId = (i: number): string => sessionIdFor(0x100 + i);
export const badId = (i: number): string => sessionIdFor(0xbad000 + i);
export const STREAM_TIME = '2026-01-01T00:20:00.000Z';

type RecordBuild = (sessionId: string) => DynamoDBRecord;
type ImageEdit = (image: Record<string, AttributeValue>) => void;

const active = (sessionId: string): Session => sessionFixture({ sessionId });
const revoked = (sessionId: string): Session => ({
  ...active(sessionId),
  status: 'revoked',
  revokedAt: '2026-01-01T00:10:00.000Z',
  revokedBy: 'arn:aws:iam::123456789012:user/bob',
  revokedReason: 'fuzz',
  version: 2,
});
const expired = (sessionId: string, reason: 'forced' | 'workflow'): Session => ({
  ...active(sessionId),
  status: 'expired',
  expiredAt: reason === 'forced' ? '2026-01-01T00:10:00.000Z' : '2026-01-01T12:00:00.000Z',
  expiredReason: reason,
  version: 2,
});

/** Every change the consumer acts on, from well-formed rows. */
const changes: readonly (readonly [string, RecordBuild])[] = [
  [
    'insert',
    (id) => streamRecord({ eventName: 'INSERT', sessionId: id, newImage: active(id), at: STREAM_TIME }),
  ],
  [
    'revoke',
    (id) =>
      streamRecord({
        eventName: 'MODIFY',
        sessionId: id,
        oldImage: active(id),
        newImage: revoked(id),
        at: STREAM_TIME,
      }),
  ],
  [
    'forced expiry',
    (id) =>
      streamRecord({
        eventName: 'MODIFY',
        sessionId: id,
        oldImage: active(id),
        newImage: expired(id, 'forced'),
        at: STREAM_TIME,
      }),
  ],
  [
    'expiry at the cap',
    (id) =>
      streamRecord({
        eventName: 'MODIFY',
        sessionId: id,
        oldImage: active(id),
        newImage: expired(id, 'workflow'),
        at: STREAM_TIME,
      }),
  ],
  [
    'remove',
    (id) => streamRecord({ eventName: 'REMOVE', sessionId: id, oldImage: active(id), at: STREAM_TIME }),
  ],
  [
    'ttl remove',
    (id) =>
      streamRecord({
        eventName: 'REMOVE',
        sessionId: id,
        oldImage: revoked(id),
        byTtl: true,
        at: STREAM_TIME,
      }),
  ],
];

/** The image a change is about: the new one, or the old one of a REMOVE. */
const changedImage = (record: DynamoDBRecord): Record<string, AttributeValue> | undefined =>
  record.eventName === 'REMOVE' ? record.dynamodb?.OldImage : record.dynamodb?.NewImage;

/** Edits a row edited by hand may carry that the consumer still reads (docs/design.md, "A malformed row is still enforced"). */
const salvageableEdits: fc.Arbitrary<readonly [string, ImageEdit]> = fc.oneof(
  fc.constantFrom('REVOKED', ' Revoked ', 'EXPIRED', 'Active').map((status): [string, ImageEdit] => [
    `status ${JSON.stringify(status)}`,
    (image) => {
      const current = image.status?.S ?? '';
      if (status.trim().toLowerCase() === current) image.status = { S: status };
    },
  ]),
  fc
    .constantFrom('2026-01-01T00:10:00Z', '2026-01-01T01:10:00+01:00', '1767226200')
    .map((at): [string, ImageEdit] => [
      `revokedAt ${at}`,
      (image) => {
        if (image.revokedAt) image.revokedAt = { S: at };
      },
    ]),
  fc
    .tuple(
      fc.constantFrom('user', 'profile', 'principalArn', 'revokedBy', 'revokedReason', 'sourceIdentity'),
      fc.oneof(hostileString(60), hugeString),
    )
    .map(([field, value]): [string, ImageEdit] => [
      `hostile ${field}`,
      (image) => {
        image[field] = { S: value };
      },
    ]),
  fc.tuple(hostileKey, hostileString(40)).map(([name, value]): [string, ImageEdit] => [
    `extra attribute ${JSON.stringify(name.slice(0, 20))}`,
    (image) => {
      if (name === 'sessionId' || name === 'status') return;
      // A prototype key gets a map that would pollute Object.prototype if unmarshalled naively.
      const attribute: AttributeValue = (PROTO_KEYS as readonly string[]).includes(name)
        ? { M: JSON.parse('{"__proto__":{"S":"polluted"},"polluted":{"S":"yes"}}') }
        : { S: value };
      Object.defineProperty(image, name, {
        value: attribute,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    },
  ]),
  fc.constant<[string, ImageEdit]>([
    'version as text',
    (image) => void Object.assign(image, { version: { S: '2' } }),
  ]),
);

export interface StreamCase {
  readonly name: string;
  readonly good: boolean;
  /** A failed record Powertools cannot name: the whole batch must fail. */
  readonly unnamed?: boolean;
  readonly build: (i: number) => DynamoDBRecord;
}

const goodRecord: fc.Arbitrary<StreamCase> = fc
  .tuple(fc.constantFrom(...changes), fc.array(salvageableEdits, { maxLength: 3 }))
  .map(([[change, build], edits]) => ({
    name: [change, ...edits.map(([name]) => name)].join(' + '),
    good: true,
    build: (i: number) => {
      const record = build(goodId(i));
      const image = changedImage(record);
      if (image) for (const [, edit] of edits) edit(image);
      return record;
    },
  }));

const defect = (
  name: string,
  edit: (record: DynamoDBRecord, i: number) => void,
  unnamed = false,
): fc.Arbitrary<RecordEdit> => fc.constant({ name, edit, unnamed });
interface RecordEdit {
  readonly name: string;
  readonly edit: (record: DynamoDBRecord, i: number) => void;
  readonly unnamed: boolean;
}
const dynamodbOf = (record: DynamoDBRecord): NonNullable<DynamoDBRecord['dynamodb']> => {
  if (!record.dynamodb) throw new Error('streamRecord always builds a dynamodb section');
  return record.dynamodb;
};

/** Records the consumer cannot tie to a session, or whose status is none of the three: they must fail, untouched. */
const badEdits: fc.Arbitrary<RecordEdit> = fc.oneof(
  defect('no eventID', (r) => void delete (r as { eventID?: string }).eventID),
  fc
    .oneof(
      fc.constantFrom('modify', 'Insert', 'DELETE', 'UPDATE', '', '__proto__'),
      hostileString(20).filter((n) => !['INSERT', 'MODIFY', 'REMOVE'].includes(n)),
    )
    .chain((eventName) =>
      defect(`eventName ${JSON.stringify(eventName)}`, (r) => void Object.assign(r, { eventName })),
    ),
  defect('no Keys', (r) => void delete dynamodbOf(r).Keys),
  defect('key as a number', (r) => void Object.assign(dynamodbOf(r), { Keys: { sessionId: { N: '1' } } })),
  defect('empty key', (r) => void Object.assign(dynamodbOf(r), { Keys: { sessionId: { S: '' } } })),
  fc
    .oneof(
      badSessionId.filter((id) => id !== ''),
      fc.constantFrom('x/../y', 'abc', 'ABCDEF0123456789ABCDEF0123456789'),
    )
    .chain((key) =>
      defect('a key that is no session id', (r) => {
        const stream = dynamodbOf(r);
        stream.Keys = { sessionId: { S: key } };
        for (const image of [stream.NewImage, stream.OldImage]) if (image) image.sessionId = { S: key };
      }),
    ),
  defect('no image', (r) => {
    const stream = dynamodbOf(r);
    delete stream.NewImage;
    delete stream.OldImage;
  }),
  defect('an image of another session', (r) => {
    const image = changedImage(r);
    if (image) image.sessionId = { S: goodId(0) };
  }),
  fc
    .oneof(
      hostileString(20).filter((s) => !['active', 'revoked', 'expired'].includes(s.trim().toLowerCase())),
      fc.constantFrom('actve', 'REVOKED\u0000', 'ｒevoked', 'revoked,expired', 'İactive'),
    )
    .chain((status) =>
      defect(`status ${JSON.stringify(status.slice(0, 20))}`, (r) => {
        const image = changedImage(r);
        if (image) image.status = { S: status };
      }),
    ),
  defect('status as a number', (r) => {
    const image = changedImage(r);
    if (image) image.status = { N: '1' };
  }),
  defect('no status', (r) => {
    const image = changedImage(r);
    if (image) delete image.status;
  }),
  fc.constantFrom<unknown>({ X: '1' }, { L: 'x' }, null, 'text').chain((value) =>
    defect(`unreadable attribute ${JSON.stringify(value)}`, (r) => {
      const image = changedImage(r);
      if (image) (image as Record<string, unknown>).user = value;
    }),
  ),
  defect('no dynamodb section', (r) => void delete (r as { dynamodb?: unknown }).dynamodb, true),
);

const badRecord: fc.Arbitrary<StreamCase> = fc
  .tuple(
    fc.constantFrom(...changes),
    badEdits,
    fc.array(salvageableEdits, { maxLength: 2 }),
    // Lambda always sends a SequenceNumber; without one (1 in 20), a failure cannot be named to its record.
    fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  )
  .map(([[change, build], bad, edits, noSequenceNumber]) => ({
    name: `${change} with ${bad.name}${noSequenceNumber ? ' and no SequenceNumber' : ''}`,
    good: false,
    unnamed: bad.unnamed || noSequenceNumber,
    build: (i: number) => {
      const record = build(badId(i));
      const image = changedImage(record);
      if (image) for (const [, edit] of edits) edit(image);
      bad.edit(record, i);
      if (noSequenceNumber && record.dynamodb) delete record.dynamodb.SequenceNumber;
      return record;
    },
  }));

/** A batch: mostly bad records, some good ones, every record about its own session. */
export const streamBatches = fc.array(
  fc.oneof({ weight: 3, arbitrary: badRecord }, { weight: 1, arbitrary: goodRecord }),
  {
    minLength: 1,
    maxLength: 6,
  },
);

/** What the consumer did, comparable between two runs. */
