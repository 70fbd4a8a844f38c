/**
 * The local stand-in for the sweeper's EventBridge Scheduler schedule (rate(1 minute) in template.yaml):
 * a sweeper run for every minute of the stack's own clock, so a time-scaled stack sweeps as often, in its
 * time, as AWS does. Each run reads the minute it was scheduled for as its now: on a scaled clock a few
 * milliseconds of timer or run time would otherwise become seconds of expiry lateness. One run at a time
 * (at 600x a minute is 100 ms, about what a run takes on a busy machine): minutes that passed during a run
 * are folded into the next one, which expires everything due by then.
 */
import type { LocalExecutionRecord, LocalWorkflowControl } from './local-workflow-control.js';
import type { StackClock } from './scaled-clock.js';

export interface SweeperSchedule {
  /** Stops the schedule and waits for the run in progress. */
  stop(): Promise<void>;
}

export const SWEEP_EVERY_SECONDS = 60;

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
      const now = clock.now().getTime();
      while (next + period <= now) next += period;
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
