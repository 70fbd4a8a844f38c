/**
 * A StackClock moved by hand, for driving LocalWorkflowControl in tests: the lifecycle's Wait lasts until
 * this clock reads the cap (computed when the Wait starts), and the sweeper reads its now from it.
 */
import { ManualClock } from '../../local/manual-clock.js';
import type { StackClock } from '../../local/scaled-clock.js';

export class ManualStackClock extends ManualClock implements StackClock {
  at(_wall: Date | number): Date {
    return this.now();
  }

  msUntil(instant: Date | string): number {
    return Math.max(0, new Date(instant).getTime() - this.now().getTime());
  }

  stoppedDuring<T>(fn: () => T): T {
    return fn();
  }
}
