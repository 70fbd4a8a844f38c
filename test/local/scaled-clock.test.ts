import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ScaledClock } from '../../local/scaled-clock.js';
import { writtenAt } from '../../local/stream-poller.js';
import { InvalidInputError } from '../../src/domain/errors.js';

describe('ScaledClock', () => {
  it('reads the wall clock at its start, then runs `scale` times faster', () => {
    const clock = new ScaledClock(60, Date.parse('2026-01-01T00:00:00.000Z'));
    expect(clock.at(Date.parse('2026-01-01T00:00:00.000Z')).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(clock.at(Date.parse('2026-01-01T00:00:16.000Z')).toISOString()).toBe('2026-01-01T00:16:00.000Z');
    expect(clock.at(new Date('2026-01-01T00:00:00.500Z')).toISOString()).toBe('2026-01-01T00:00:30.000Z');
  });

  it('says how much wall-clock time is left until it reads an instant, and never less than none', () => {
    const clock = new ScaledClock(60);
    const inSixteenMinutes = new Date(clock.now().getTime() + 16 * 60_000);
    expect(clock.msUntil(inSixteenMinutes)).toBeGreaterThan(15_900);
    expect(clock.msUntil(inSixteenMinutes)).toBeLessThanOrEqual(16_000);
    expect(clock.msUntil('2000-01-01T00:00:00.000Z')).toBe(0);
    expect(() => clock.msUntil('soon')).toThrow(InvalidInputError);
  });

  it('stops for whatever runs inside stoppedDuring, awaits included, and runs on outside it', async () => {
    const clock = new ScaledClock(1000);
    const [inside, later] = await clock.stoppedDuring(async () => {
      const first = clock.now().getTime();
      await sleep(20);
      return [first, clock.now().getTime()];
    });
    expect(later).toBe(inside);
    expect(clock.now().getTime() - (inside ?? 0)).toBeGreaterThanOrEqual(15_000);
  });

  it('is 1 by default and refuses a scale that is not a positive number', () => {
    expect(new ScaledClock().scale).toBe(1);
    expect(() => new ScaledClock(0)).toThrow(InvalidInputError);
    expect(() => new ScaledClock(Number.NaN)).toThrow(InvalidInputError);
  });
});

describe('writtenAt (DynamoDB Local stamps stream records to the minute)', () => {
  const stamped = new Date('2026-01-01T10:07:00.000Z');
  it('takes the time a record was read when that is within its stamped minute', () => {
    const readAt = new Date('2026-01-01T10:07:42.250Z');
    expect(writtenAt(stamped, readAt)).toEqual(readAt);
  });
  it('takes the end of its minute for a record read after that minute (written in its last moment), never the start', () => {
    const minuteEnd = new Date('2026-01-01T10:07:59.999Z');
    expect(writtenAt(stamped, new Date('2026-01-01T10:08:00.300Z'))).toEqual(minuteEnd);
    expect(writtenAt(stamped, new Date('2026-01-01T10:09:00.000Z'))).toEqual(minuteEnd);
  });
  it('keeps the stamp for a record read, oddly, before it', () => {
    expect(writtenAt(stamped, new Date('2026-01-01T10:06:59.000Z'))).toEqual(stamped);
  });
});
