/**
 * The local sweeper schedule: a run per minute of the stack's clock, each reading the minute it was
 * scheduled for; one run at a time, minutes missed during a slow run folded into the next.
 */
import { describe, expect, it } from 'vitest';
import type { LocalExecutionRecord } from '../../local/local-workflow-control.js';
import { ScaledClock } from '../../local/scaled-clock.js';
import { startSweeperSchedule } from '../../local/sweeper-schedule.js';

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
    // On whole minutes of the stack's clock, in order (a busy machine may fold one into the next).
    const offsets = runs.map((at) => at.getTime() - start);
    expect(offsets.length).toBeGreaterThanOrEqual(3);
    expect(offsets[0]).toBe(60_000);
    expect(offsets.every((offset) => offset % 60_000 === 0)).toBe(true);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(offsets).size).toBe(offsets.length);
  });

  it('never overlaps runs, folds the minutes a slow run missed, and stop waits for the run in progress', async () => {
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
    // Assess
    expect(overlapped).toBe(false);
    expect(finished).toBe(runs.length);
    expect(runs[0]).toBe(60_000);
    // The second run is for the latest minute that had passed when the first ended, not the next one.
    expect(runs[1]).toBeGreaterThanOrEqual(240_000);
    expect((runs[1] ?? 0) % 60_000).toBe(0);
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
