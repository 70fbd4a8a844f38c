import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../local/manual-clock.js';
import { systemClock } from '../../src/domain/clock.js';
import { InvalidInputError } from '../../src/domain/errors.js';

describe('ManualClock', () => {
  it('starts at 2026-01-01T00:00:00Z by default', () => {
    expect(new ManualClock().now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it.each([
    ['an ISO string', '2030-06-15T12:34:56.789Z', '2030-06-15T12:34:56.789Z'],
    ['an ISO string with an offset', '2030-06-15T14:34:56.789+02:00', '2030-06-15T12:34:56.789Z'],
    ['a Date', new Date('2024-02-29T23:59:59.000Z'), '2024-02-29T23:59:59.000Z'],
  ])('starts at %s', (_label, start, expected) => {
    expect(new ManualClock(start).now().toISOString()).toBe(expected);
  });

  it('does not move on its own: repeated reads give the same instant', () => {
    // Prepare
    const clock = new ManualClock();
    // Act
    const reads = Array.from({ length: 1000 }, () => clock.now().getTime());
    // Assess
    expect(new Set(reads).size).toBe(1);
  });

  it.each([
    ['one second', [1], '2026-01-01T00:00:01.000Z'],
    ['an hour in steps', [900, 900, 1800], '2026-01-01T01:00:00.000Z'],
    ['fractions of a second', [0.25, 0.25], '2026-01-01T00:00:00.500Z'],
    ['backwards', [-60], '2025-12-31T23:59:00.000Z'],
    ['zero', [0], '2026-01-01T00:00:00.000Z'],
  ])('advanceSeconds: %s', (_label, steps, expected) => {
    // Prepare
    const clock = new ManualClock();
    // Act
    for (const step of steps) clock.advanceSeconds(step);
    // Assess
    expect(clock.now().toISOString()).toBe(expected);
  });

  it('set moves it to exactly the given instant', () => {
    // Prepare
    const clock = new ManualClock();
    // Act
    clock.set('2027-07-07T07:07:07.007Z');
    // Assess
    expect(clock.now().toISOString()).toBe('2027-07-07T07:07:07.007Z');
  });

  it('hands out copies: mutating a returned Date does not move the clock', () => {
    // Prepare
    const clock = new ManualClock();
    // Act
    clock.now().setUTCFullYear(1999);
    // Assess
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('two clocks are independent', () => {
    // Prepare
    const a = new ManualClock();
    const b = new ManualClock();
    // Act
    a.advanceSeconds(3600);
    // Assess
    expect(b.now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('systemClock', () => {
  it('reads the wall clock (a valid instant between two reads of Date.now)', () => {
    // Prepare
    const before = Date.now();
    // Act
    const now = systemClock.now().getTime();
    // Assess
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe('ManualClock refuses unreadable instants where they are set', () => {
  it.each([
    ['constructor with text', () => new ManualClock('tomorrow')],
    ['constructor with an Invalid Date', () => new ManualClock(new Date(Number.NaN))],
    ['set with text', () => new ManualClock().set('')],
    ['advanceSeconds by NaN', () => new ManualClock().advanceSeconds(Number.NaN)],
    ['advanceSeconds by Infinity', () => new ManualClock().advanceSeconds(Number.POSITIVE_INFINITY)],
  ])('%s', (_label, act) => {
    expect(act).toThrow(InvalidInputError);
  });

  it('a refused change leaves the clock where it was', () => {
    // Prepare
    const clock = new ManualClock();
    // Act
    expect(() => clock.set('nope')).toThrow(InvalidInputError);
    // Assess
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});
