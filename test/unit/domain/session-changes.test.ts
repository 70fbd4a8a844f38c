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
          maxExpiresAt: '2026-03-02T21:15:00.000Z',
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
    // Assess: the expirer was the lifecycle execution itself, which has ended: nothing to stop
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

  it.each(['sweeper', 'lazy'] as const)(
    'active → expired (%s) stops the lifecycle execution with a cause naming the reason',
    (reason) => {
      const record = fixture('expire');
      const image = record.dynamodb?.NewImage ?? {};
      const withReason: DynamoDBRecord = {
        ...record,
        dynamodb: { ...record.dynamodb, NewImage: { ...image, expiredReason: { S: reason } } },
      };
      expect(effectsOf(parseStreamRecord(withReason, now)).workflow).toEqual([
        { kind: 'stopLifecycle', sessionId: SESSION, cause: `Session expired (${reason})` },
      ]);
    },
  );

  describe('an expiry that leaves credentials alive is enforced like a revocation', () => {
    /** The expire fixture (expiresAt 10:00:00) with this reason and expiry time. */
    const expiredAs = (reason: string, expiredAt: string): DynamoDBRecord => {
      const record = fixture('expire');
      const image = record.dynamodb?.NewImage ?? {};
      return {
        ...record,
        dynamodb: {
          ...record.dynamodb,
          NewImage: { ...image, expiredReason: { S: reason }, expiredAt: { S: expiredAt } },
        },
      };
    };
    const fanoutOf = (reason: string, at: string) => ({
      kind: 'startRevocationFanout',
      input: {
        sessionId: SESSION,
        user: 'alice',
        profile: 'dev-readonly',
        revokedAt: at,
        revokedBy: `expiry:${reason}`,
        reason: `expired early (${reason})`,
      },
    });

    it('an operator forced expiry (even at the end) stops the lifecycle, starts the fan-out, announces SessionExpired', () => {
      for (const at of ['2026-03-02T09:20:00.000Z', '2026-03-02T10:00:02.000Z']) {
        const effects = effectsOf(parseStreamRecord(expiredAs('forced', at), now));
        expect(effects.workflow).toEqual([
          { kind: 'stopLifecycle', sessionId: SESSION, cause: 'Session expired (forced)' },
          fanoutOf('forced', at),
        ]);
        expect(eventsOf(effects).map((e) => e.detailType)).toEqual(['SessionStateChanged', 'SessionExpired']);
      }
    });

    it('any other expiry before expiresAt − 30 s (the last credential end) is enforced; at or after it is not', () => {
      const early = effectsOf(parseStreamRecord(expiredAs('sweeper', '2026-03-02T09:59:29.000Z'), now));
      expect(early.workflow.map((step) => step.kind)).toEqual(['stopLifecycle', 'startRevocationFanout']);
      for (const onTime of [
        '2026-03-02T09:59:30.000Z',
        '2026-03-02T10:00:00.000Z',
        '2026-03-02T10:05:00.000Z',
      ]) {
        for (const reason of ['workflow', 'sweeper', 'lazy']) {
          const effects = effectsOf(parseStreamRecord(expiredAs(reason, onTime), now));
          expect(effects.workflow.map((step) => step.kind)).not.toContain('startRevocationFanout');
        }
      }
    });

    it('with per-session executions disabled the early expiry still fans out', () => {
      const effects = effectsOf(parseStreamRecord(expiredAs('forced', '2026-03-02T09:20:00.000Z'), now), {
        perSessionExecutions: 'disabled',
      });
      expect(effects.workflow).toEqual([fanoutOf('forced', '2026-03-02T09:20:00.000Z')]);
    });
  });

  describe('a terminal row that turns active again', () => {
    it.each(['revoked', 'expired'])(
      '%s → active raises the TerminalToActive alarm and starts nothing',
      (from) => {
        const record = fixture('revoke');
        const oldImage = { ...(record.dynamodb?.NewImage ?? {}), status: { S: from } };
        const newImage = { ...(record.dynamodb?.OldImage ?? {}), status: { S: 'active' } };
        const change = parseStreamRecord(
          { ...record, dynamodb: { ...record.dynamodb, OldImage: oldImage, NewImage: newImage } },
          now,
        );
        const effects = effectsOf(change);
        expect(effects.alarm).toEqual({
          metric: 'TerminalToActive',
          message: `terminal session moved ${from} → active`,
        });
        expect(effects.workflow).toEqual([]);
        expect(effects.terminal).toBeUndefined();
        // Still audited: the change happened, and the audit log must show it.
        expect(effects.events.map((e) => e.detail)).toEqual([
          expect.objectContaining({ fromStatus: from, toStatus: 'active' }),
        ]);
      },
    );

    it('revoked → expired is only a notice, not an alarm', () => {
      const record = fixture('revoke');
      const oldImage = record.dynamodb?.NewImage ?? {};
      const newImage = {
        ...oldImage,
        status: { S: 'expired' },
        expiredAt: { S: '2026-03-02T10:00:01.000Z' },
        expiredReason: { S: 'workflow' },
      };
      const effects = effectsOf(
        parseStreamRecord(
          { ...record, dynamodb: { ...record.dynamodb, OldImage: oldImage, NewImage: newImage } },
          now,
        ),
      );
      expect(effects.alarm).toBeUndefined();
      expect(effects.notice).toBe('terminal session moved revoked → expired');
      expect(effects.workflow).toEqual([]);
    });
  });

  describe('with per-session executions disabled', () => {
    const disabled = { perSessionExecutions: 'disabled' } as const;

    it('INSERT starts nothing, and is still audited', () => {
      const effects = effectsOf(parseStreamRecord(fixture('insert'), now), disabled);
      expect(effects.workflow).toEqual([]);
      expect(effects.events.map((e) => e.detailType)).toEqual(['SessionStateChanged']);
    });

    it('active → revoked still fans out and announces, but stops nothing', () => {
      const effects = effectsOf(parseStreamRecord(fixture('revoke'), now), disabled);
      expect(effects.workflow.map((step) => step.kind)).toEqual(['startRevocationFanout']);
      expect(effects.terminal?.detailType).toBe('SessionRevoked');
    });

    it.each(['expire', 'ttl-remove'])('%s announces the expiry and stops nothing', (name) => {
      const effects = effectsOf(parseStreamRecord(fixture(name), now), disabled);
      expect(effects.workflow).toEqual([]);
      expect(effects.terminal?.detailType).toBe('SessionExpired');
    });
  });

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
    expect(effects.workflow).toEqual([
      { kind: 'stopLifecycle', sessionId: SESSION, cause: 'Session row removed by TTL while still active' },
    ]);
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
