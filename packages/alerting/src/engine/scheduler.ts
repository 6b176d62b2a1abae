import { Scheduler, type Logger } from '@tidemark/core';

/**
 * Core's Scheduler (croner) drives the engine's tick. The run happens in
 * this process, where the engine's Postgres and ClickHouse pools and
 * in-flight state live; the scheduler owns the timing and never starts a
 * tick while the previous one is still running.
 */
export async function startScheduler(opts: { tickMs: number; logger: Logger; onTick: () => void; name?: string }): Promise<Scheduler> {
  const scheduler = new Scheduler(
    [
      {
        name: opts.name ?? 'alerting-tick',
        everyMs: opts.tickMs,
        runAtStart: true,
        // The engine evaluates in the background; the tick only wakes it.
        run: async () => opts.onTick(),
      },
    ],
    opts.logger.child({ component: 'alerting-scheduler' }),
  );
  await scheduler.start();
  return scheduler;
}

export type { Scheduler };
