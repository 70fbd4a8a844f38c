/**
 * The local stack's one clock. It reads the wall clock at the instant it is made, then runs `scale` times
 * faster: with scale 60 a 16-minute session expires 16 s later, and the vend API, the consumer, the
 * workflows' Waits, the bus and the logs all say so, because they all read this clock.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../src/domain/clock.js';
import { InvalidInputError } from '../src/domain/errors.js';

/** A Clock that can also translate wall-clock instants and durations, for the pieces driven by real timers. */
export interface StackClock extends Clock {
  /** What this clock read at a wall-clock instant (epoch ms or Date). */
  at(wall: Date | number): Date;
  /** Wall-clock milliseconds until this clock reads `instant`; 0 when it already has. */
  msUntil(instant: Date | string): number;
  /**
   * Runs `fn` (and what it awaits) with now() stopped at the current reading. A request happens at one
   * instant: scaled up, its round trips would otherwise take minutes and eat the margins the vend API
   * keeps between a session's end and its credentials' (30 s is 50 ms at 600x).
   */
  stoppedDuring<T>(fn: () => T): T;
}

export class ScaledClock implements StackClock {
  readonly scale: number;
  readonly #origin: number;
  readonly #stopped = new AsyncLocalStorage<number>();

  constructor(scale = 1, origin: Date | number = Date.now()) {
    if (!Number.isFinite(scale) || scale <= 0)
      throw new InvalidInputError(`time scale must be a positive number, got ${String(scale)}`);
    this.scale = scale;
    this.#origin = typeof origin === 'number' ? origin : origin.getTime();
  }

  now(): Date {
    const stopped = this.#stopped.getStore();
    return stopped === undefined ? this.at(Date.now()) : new Date(stopped);
  }

  at(wall: Date | number): Date {
    const ms = typeof wall === 'number' ? wall : wall.getTime();
    return new Date(Math.floor(this.#origin + (ms - this.#origin) * this.scale));
  }

  msUntil(instant: Date | string): number {
    const target = new Date(instant).getTime();
    if (Number.isNaN(target)) throw new InvalidInputError(`not an instant: ${String(instant)}`);
    return Math.max(0, (target - this.now().getTime()) / this.scale);
  }

  stoppedDuring<T>(fn: () => T): T {
    return this.#stopped.run(this.now().getTime(), fn);
  }
}
