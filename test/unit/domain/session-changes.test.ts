import { readFileSync } from 'node:fs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { effectsOf, eventsOf } from '../../../src/domain/session-changes.js';
import { parseStreamRecord } from '../../../src/handlers/stream/record.js';

const fixture = (name: string): DynamoDBRecord => {
  const event = JSON.parse(readFileSync(`events/streams/${name}.json`, 'utf8')) as DynamoDBStreamEvent;
  const record = event.Records[0];
  if (!record) throw new Error(`events/streams/${name}.json has no record`);
  return record;
};
const now = new Date('2030-01-01T00:00:00.000Z');
const SESSION = '7f3a9c2e5b1d4e8fa0c6b2d9e4f1a3c5';

describe('effectsOf (events/streams fixtures)', () => {
  it('INSERT starts the lifecycle named by the session and audits null → active', () => {
    // Prepare
    const change = parseStreamRecord(fixture('insert'), now);
    // Act
    const effects = effectsOf(change);
    // Assess
    expect(effects.workflow).toEqual([
      {
        kind: 'startLifecycle',
        input: {
          sessionId: SESSION,
          expiresAt: '2026-03-02T09:45:00.000Z',
          user: 'alice',
          profile: 'dev-readonly',
        },
      },
    ]);
    expect(effects.events.map((e) => e.detail)).toEqual([
      {
        schemaVersion: '1',
        sessionId: SESSION,
        user: 'alice',
        profile: 'dev-readonly',
        occurredAt: '2026-03-02T09:15:00.000Z',
        fromStatus: null,
        toStatus: 'active',
        streamEventId: 'c81e728d9d4c2f636f067f89cc14862c',
        version: 1,
      },
    ]);
  });

  it("active → expired audits the change, then announces SessionExpired with the row's reason and time", () => {
    // Prepare
    const change = parseStreamRecord(fixture('expire'), now);
    // Act
    const effects = effectsOf(change);
    // Assess
    expect(effects.workflow).toEqual([]);
    expect(effects.notice).toBeUndefined();
    expect(eventsOf(effects).map((e) => e.detailType)).toEqual(['SessionStateChanged', 'SessionExpired']);
    expect(effects.terminal?.detail).toEqual({
      schemaVersion: '1',
      sessionId: SESSION,
      user: 'alice',
      profile: 'dev-readonly',
      occurredAt: '2026-03-02T10:00:02.000Z',
      expiresAt: '2026-03-02T10:00:00.000Z',
      reason: 'workflow',
    });
  });

  it.each(['workflow', 'lazy', 'forced'] as const)(
    'active → expired (%s) announces that reason',
    (reason) => {
      const record = fixture('expire');
      const image = record.dynamodb?.NewImage ?? {};
      const withReason: DynamoDBRecord = {
        ...record,
        dynamodb: { ...record.dynamodb, NewImage: { ...image, expiredReason: { S: reason } } },
      };
      expect(effectsOf(parseStreamRecord(withReason, now)).terminal?.detail).toMatchObject({ reason });
    },
  );

  it('a terminal row that changes again is audited and flagged, never announced a second time', () => {
    const record = fixture('expire');
    const expired = record.dynamodb?.NewImage ?? {};
    const again: DynamoDBRecord = {
      ...record,
      dynamodb: {
        ...record.dynamodb,
        OldImage: expired,
        NewImage: { ...expired, status: { S: 'revoked' }, version: { N: '4' } },
      },
    };
    const effects = effectsOf(parseStreamRecord(again, now));
    expect(effects.terminal).toBeUndefined();
    expect(effects.events.map((e) => e.detailType)).toEqual(['SessionStateChanged']);
    expect(effects.notice).toMatch(/expired → revoked/);
  });

  it('a touch (no status change) does nothing at all', () => {
    expect(effectsOf(parseStreamRecord(fixture('touch'), now))).toEqual({ workflow: [], events: [] });
  });

  it('active → revoked stops the lifecycle, starts the fan-out, audits the change, then announces it', () => {
    const effects = effectsOf(parseStreamRecord(fixture('revoke'), now));
    expect(effects.workflow).toEqual([
      { kind: 'stopLifecycle', sessionId: SESSION, cause: 'Session revoked by bob' },
      {
        kind: 'startRevocationFanout',
        input: {
          sessionId: SESSION,
          user: 'alice',
          profile: 'dev-readonly',
          revokedAt: '2026-03-02T09:40:00.000Z',
          revokedBy: 'bob',
          reason: 'laptop reported lost',
        },
      },
    ]);
    expect(eventsOf(effects).map((e) => [e.detailType, e.detail.occurredAt])).toEqual([
      ['SessionStateChanged', '2026-03-02T09:40:00.000Z'],
      ['SessionRevoked', '2026-03-02T09:40:00.000Z'],
    ]);
    expect(effects.events[0]?.detail).toMatchObject({
      fromStatus: 'active',
      toStatus: 'revoked',
      version: 3,
    });
    expect(effects.terminal?.detail).toEqual({
      schemaVersion: '1',
      sessionId: SESSION,
      user: 'alice',
      profile: 'dev-readonly',
      occurredAt: '2026-03-02T09:40:00.000Z',
      revokedAt: '2026-03-02T09:40:00.000Z',
      revokedBy: 'bob',
      reason: 'laptop reported lost',
    });
  });

  it('a TTL purge of a still-active row is audited (SessionPurged), then the safety net announces SessionExpired (ttl)', () => {
    const effects = effectsOf(parseStreamRecord(fixture('ttl-remove'), now));
    expect(effects.workflow).toEqual([]);
    expect(eventsOf(effects).map((e) => e.detailType)).toEqual(['SessionPurged', 'SessionExpired']);
    expect(effects.events[0]?.detail).toMatchObject({
      finalStatus: 'active',
      streamEventId: 'e4da3b7fbbce2345d7772b0674a318d5',
    });
    expect(effects.terminal?.detail).toMatchObject({ reason: 'ttl', expiresAt: '2026-03-02T10:00:00.000Z' });
  });

  it('a TTL purge of a finished row is only SessionPurged', () => {
    const record = fixture('ttl-remove');
    const old = record.dynamodb?.OldImage;
    if (!old) throw new Error('fixture without OldImage');
    const expired: DynamoDBRecord = {
      ...record,
      dynamodb: { ...record.dynamodb, OldImage: { ...old, status: { S: 'expired' } } },
    };
    const effects = effectsOf(parseStreamRecord(expired, now));
    expect(eventsOf(effects).map((e) => e.detailType)).toEqual(['SessionPurged']);
  });

  it('a REMOVE of an active row by a caller (delete.json) is audited as SessionPurged, flagged, and not announced', () => {
    // Prepare
    const change = parseStreamRecord(fixture('delete'), now);
    // Act
    const effects = effectsOf(change);
    // Assess
    expect(effects.terminal).toBeUndefined();
    expect(effects.events.map((e) => [e.detailType, e.detail])).toEqual([
      [
        'SessionPurged',
        {
          schemaVersion: '1',
          sessionId: SESSION,
          user: 'alice',
          profile: 'dev-readonly',
          occurredAt: '2026-03-02T09:50:00.000Z',
          finalStatus: 'active',
          streamEventId: '8f14e45fceea167a5a36dedd4bea2543',
        },
      ],
    ]);
    expect(effects.notice).toMatch(/active session row deleted by a caller, not by TTL.*no terminal event/);
  });

  it('a REMOVE of a finished row by a caller is audited with its final status and flagged', () => {
    const record = fixture('delete');
    const old = record.dynamodb?.OldImage;
    if (!old) throw new Error('fixture without OldImage');
    const revoked: DynamoDBRecord = {
      ...record,
      dynamodb: { ...record.dynamodb, OldImage: { ...old, status: { S: 'revoked' } } },
    };
    const effects = effectsOf(parseStreamRecord(revoked, now));
    expect(
      eventsOf(effects).map((e) => [e.detailType, 'finalStatus' in e.detail && e.detail.finalStatus]),
    ).toEqual([['SessionPurged', 'revoked']]);
    expect(effects.notice).toMatch(/\(revoked\) deleted by a caller/);
  });
});
