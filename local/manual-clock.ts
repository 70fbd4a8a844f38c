/** A clock moved by hand: the tests, the bench and the local stack's own clock use it; nothing that ships does. */
import type { Clock } from '../src/domain/clock.js';
import { InvalidInputError } from '../src/domain/errors.js';

export class ManualClock implements Clock {
  #millis: number;
  constructor(start: Date | string = '2026-01-01T00:00:00.000Z') {
    this.#millis = instant(start);
  }
  now(): Date {
    return new Date(this.#millis);
  }
  advanceSeconds(seconds: number): void {
    this.#millis = instant(this.#millis + seconds * 1000);
  }
  set(at: Date | string): void {
    this.#millis = instant(at);
  }
}

/** An unreadable time fails where it is set, not later as an Invalid Date deep inside a use case. */
const instant = (at: Date | string | number): number => {
  const millis = new Date(at).getTime();
  if (Number.isNaN(millis))
    throw new InvalidInputError(`ManualClock needs a valid instant, got ${String(at)}`);
  return millis;
};
