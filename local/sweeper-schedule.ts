/**
 * The local stand-in for the sweeper's EventBridge Scheduler schedule (rate(1 minute) in template.yaml):
 * a sweeper run for every minute of the stack's own clock, so a time-scaled stack sweeps as often, in its
 * time, as AWS does. Each run reads the minute it was scheduled for as its now: on a scaled clock a few
 * milliseconds of timer or run time would otherwise become seconds of expiry lateness. One run at a time
 * (at 480x a minute is 125 ms, about what a run takes on a busy machine): the minutes a slow run missed are
 * run next, in order, so no session is expired more than a minute after its expiresAt on the stack's clock;
 * only a backlog of more than MAX_CATCH_UP_RUNS minutes is folded, its oldest minutes skipped.
 */
import type { LocalExecutionRecord, LocalWorkflowControl } from './local-workflow-control.js';
import type { StackClock } from './scaled-clock.js';

export interface SweeperSchedule {
  /** Stops the schedule and waits for the run in progress. */
  stop(): Promise<void>;
}

export const SWEEP_EVERY_SECONDS = 60;

/** Missed minutes run one by one up to this many behind; beyond it the machine cannot keep up anyway. */
export const MAX_CATCH_UP_RUNS = 10;

export const startSweeperSchedule = (options: {
  readonly workflows: Pick<LocalWorkflowControl, 'runSweeper'>;
  readonly clock: StackClock;
  readonly onRun?: (record: LocalExecutionRecord) => void;
  readonly onError?: (error: unknown) => void;
}): SweeperSchedule => {
  const { clock } = options;
  const period = SWEEP_EVERY_SECONDS * 1000;
  let next = clock.now().getTime() + period;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: () => void = () => {};
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, clock.msUntil(new Date(next)));
        timer.unref();
      });
      if (stopped) return;
      const behind = Math.floor((clock.now().getTime() - next) / period);
      if (behind > MAX_CATCH_UP_RUNS) next += (behind - MAX_CATCH_UP_RUNS) * period;
      const at = new Date(next);
      next += period;
      try {
        // Not `onRun?.(await …)`: an optional call skips evaluating its arguments when onRun is absent.
        const record = await options.workflows.runSweeper(at);
        options.onRun?.(record);
      } catch (error) {
        options.onError?.(error);
      }
    }
  };
  const done = loop();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      wake();
      await done;
    },
  };
};
