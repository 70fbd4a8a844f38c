import { InvalidInputError } from './errors.js';

/** Time is a port so the pure core and the tests never read the wall clock themselves. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock the tests move by hand. */
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
