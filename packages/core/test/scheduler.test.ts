import { createLogger } from '../src/log';
import { Scheduler } from '../src/schedule/scheduler';

const logger = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bree scheduling (jobs run in this process)', () => {
  test('jobs run at start and on their interval; a job never overlaps itself; stop waits for the run in flight and signals it', async () => {
    const runs: Record<string, number> = { fast: 0, slow: 0 };
    let inFlight = 0;
    let maxInFlight = 0;
    let aborted = false;
    const scheduler = new Scheduler(
      [
        {
          name: 'fast',
          everyMs: 50,
          run: async () => {
            runs.fast = (runs.fast ?? 0) + 1;
          },
        },
        {
          name: 'slow',
          everyMs: 20,
          run: async (signal) => {
            runs.slow = (runs.slow ?? 0) + 1;
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await sleep(150);
            if (signal.aborted) aborted = true;
            inFlight--;
          },
        },
      ],
      logger,
    );
    await scheduler.start();
    await sleep(420);
    await scheduler.stop();
    expect(runs.fast).toBeGreaterThanOrEqual(5);
    // 20 ms interval, 150 ms runs: bree skips the ticks that come while the job still runs.
    expect(runs.slow).toBeGreaterThanOrEqual(2);
    expect(runs.slow).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBe(1);
    expect(inFlight).toBe(0);
    expect(aborted).toBe(true);
    const after = { ...runs };
    await sleep(120);
    expect(runs).toEqual(after);
  });

  test('a failing job is reported and scheduled again', async () => {
    let calls = 0;
    const scheduler = new Scheduler(
      [
        {
          name: 'flaky',
          everyMs: 30,
          run: async () => {
            calls++;
            throw new Error('boom');
          },
        },
      ],
      logger,
    );
    await scheduler.start();
    await sleep(200);
    await scheduler.stop();
    expect(calls).toBeGreaterThanOrEqual(3);
  });
});
