import { Writable } from 'node:stream';
import { createLogger } from '../src/log';
import { Scheduler } from '../src/schedule/scheduler';

const logger = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduling on croner (jobs run in this process)', () => {
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
    // 20 ms interval, 150 ms runs: the ticks that come while the job still runs are skipped.
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

  test('a sub-second job whose run outlasted a second runs again at once, then on its interval', async () => {
    const starts: number[] = [];
    const scheduler = new Scheduler(
      [
        {
          name: 'long-then-short',
          everyMs: 50,
          run: async () => {
            starts.push(Date.now());
            if (starts.length === 1) await sleep(1100);
          },
        },
      ],
      logger,
    );
    await scheduler.start();
    await sleep(1600);
    await scheduler.stop();
    expect(starts.length).toBeGreaterThanOrEqual(3);
    expect((starts[1] as number) - (starts[0] as number)).toBeLessThan(1500);
  });

  test('whole-second and cron jobs run on croner patterns with overrun protection; errors are logged with the job name', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    let slowRuns = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let cronRuns = 0;
    const scheduler = new Scheduler(
      [
        {
          // Every second, each run 2.5 s: croner's first tick (in [1 s, 2 s)) comes while the run at start still runs.
          name: 'second',
          everyMs: 1000,
          run: async () => {
            slowRuns++;
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await sleep(2500);
            inFlight--;
          },
        },
        {
          name: 'every-second-cron',
          cron: '* * * * * *',
          runAtStart: false,
          run: async () => {
            cronRuns++;
            throw new Error('cron boom');
          },
        },
      ],
      createLogger({ level: 'debug' }, sink),
    );
    await scheduler.start();
    await sleep(2050);
    await scheduler.stop();
    expect(maxInFlight).toBe(1);
    expect(inFlight).toBe(0);
    expect(slowRuns).toBeGreaterThanOrEqual(1);
    expect(slowRuns).toBeLessThanOrEqual(2);
    expect(lines.filter((l) => l.msg === 'tick skipped: the previous run is still running' && l.job === 'second').length).toBeGreaterThanOrEqual(1);
    expect(cronRuns).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => l.msg === 'scheduled job failed' && l.job === 'every-second-cron').length).toBe(cronRuns);
    const after = cronRuns;
    await sleep(1100);
    expect(cronRuns).toBe(after);
  });

  test('runNow joins the run in flight; a job waits for its startAfter; bad definitions fail at construction', async () => {
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const scheduler = new Scheduler(
      [
        {
          name: 'gated',
          everyMs: 60_000,
          startAfter: gate,
          run: async () => {
            runs++;
            await sleep(50);
          },
        },
      ],
      logger,
    );
    await scheduler.start();
    await sleep(30);
    expect(runs).toBe(0);
    release();
    await sleep(10);
    expect(runs).toBe(1);
    await Promise.all([scheduler.runNow('gated'), scheduler.runNow('gated')]);
    expect(runs).toBe(1);
    await scheduler.runNow('gated');
    expect(runs).toBe(2);
    await scheduler.stop();
    expect(() => new Scheduler([{ name: 'x', cron: 'not a pattern', run: async () => undefined }], logger)).toThrow();
    expect(() => new Scheduler([{ name: 'x', run: async () => undefined }], logger)).toThrow(/exactly one of everyMs and cron/);
    expect(() => new Scheduler([{ name: 'x', everyMs: 0, run: async () => undefined }], logger)).toThrow(/positive/);
  });
});
