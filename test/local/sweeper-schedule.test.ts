/**
 * The local sweeper schedule: a run per minute of the stack's clock, each reading the minute it was
 * scheduled for; one run at a time, the minutes a slow run missed run next in order (a long backlog folded).
 */
import { describe, expect, it } from 'vitest';
import type { LocalExecutionRecord } from '../../local/local-workflow-control.js';
import { ScaledClock } from '../../local/scaled-clock.js';
import { MAX_CATCH_UP_RUNS, startSweeperSchedule } from '../../local/sweeper-schedule.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startSweeperSchedule', () => {
  it('runs once a minute of a scaled clock, each run at its scheduled minute', async () => {
    // Prepare: 600x, so a minute is 100 ms
    const clock = new ScaledClock(600);
    const start = clock.now().getTime();
    const runs: Date[] = [];
    // Act
    const schedule = startSweeperSchedule({
      clock,
      workflows: {
        runSweeper: async (at?: Date) => {
          runs.push(at ?? new Date(0));
          return {} as LocalExecutionRecord;
        },
      },
    });
    await sleep(450);
    await schedule.stop();
    // Assess
    // On whole minutes of the stack's clock, in order, none skipped.
    const offsets = runs.map((at) => at.getTime() - start);
    expect(offsets.length).toBeGreaterThanOrEqual(3);
    expect(offsets[0]).toBe(60_000);
    expect(offsets.every((offset) => offset % 60_000 === 0)).toBe(true);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(offsets).toEqual(offsets.map((_, i) => (i + 1) * 60_000));
  });

  it('never overlaps runs, runs the minutes a slow run missed in order, and stop waits for the run in progress', async () => {
    // Prepare: each run takes 3 minutes of the stack's clock
    const clock = new ScaledClock(600);
    const start = clock.now().getTime();
    const runs: number[] = [];
    let inProgress = 0;
    let overlapped = false;
    let finished = 0;
    // Act
    const schedule = startSweeperSchedule({
      clock,
      workflows: {
        runSweeper: async (at?: Date) => {
          overlapped ||= inProgress > 0;
          inProgress++;
          runs.push((at?.getTime() ?? 0) - start);
          await sleep(300);
          inProgress--;
          finished++;
          return {} as LocalExecutionRecord;
        },
      },
    });
    await sleep(500);
    await schedule.stop();
    // Assess: the second run is for the minute after the first, though it starts minutes late, so a session
    // due in that minute is expired at it (lateness at most a minute on the stack's clock).
    expect(overlapped).toBe(false);
    expect(finished).toBe(runs.length);
    expect(runs.slice(0, 2)).toEqual([60_000, 120_000]);
  });

  it('folds a backlog of more than MAX_CATCH_UP_RUNS minutes, skipping its oldest minutes', async () => {
    // Prepare: 6000x (a minute is 10 ms); the first run takes about 20 minutes of the stack's clock
    const clock = new ScaledClock(6000);
    const start = clock.now().getTime();
    const runs: { at: number; startedAt: number }[] = [];
    const schedule = startSweeperSchedule({
      clock,
      workflows: {
        runSweeper: async (at?: Date) => {
          runs.push({ at: (at?.getTime() ?? 0) - start, startedAt: clock.now().getTime() - start });
          if (runs.length === 1) await sleep(200);
          return {} as LocalExecutionRecord;
        },
      },
    });
    await sleep(260);
    await schedule.stop();
    const [first, second] = runs;
    expect(first?.at).toBe(60_000);
    // Not minute 2: more than MAX_CATCH_UP_RUNS minutes behind when it started, so only the last ones are run.
    expect(second?.at).toBeGreaterThan(120_000);
    expect((second?.startedAt ?? 0) - (second?.at ?? 0)).toBeLessThanOrEqual(
      (MAX_CATCH_UP_RUNS + 1) * 60_000,
    );
    expect((second?.at ?? 0) % 60_000).toBe(0);
  });

  it('reports a failed run and keeps the schedule going', async () => {
    const clock = new ScaledClock(600);
    const errors: unknown[] = [];
    let calls = 0;
    const schedule = startSweeperSchedule({
      clock,
      workflows: {
        runSweeper: async () => {
          calls++;
          throw new Error('DynamoDB Local gone');
        },
      },
      onError: (error) => errors.push(error),
    });
    await sleep(350);
    await schedule.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(errors).toHaveLength(calls);
  });
});
