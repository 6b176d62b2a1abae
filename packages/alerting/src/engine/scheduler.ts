import Bree from 'bree';
import type { Logger } from '@tidemark/core';

/**
 * Bree drives the engine's tick. Bree runs each job in a worker thread;
 * the engine's work is I/O against Postgres and ClickHouse through pools
 * that live in the main thread, and moving it into workers would give each
 * worker its own pools and its own copies of in-flight state. So the bree
 * job is a tiny worker that only posts "tick" to the main thread, where the
 * engine evaluates; bree owns the timing, restarts a crashed worker on the
 * next interval, and never runs two ticks at once.
 */
export interface Scheduler {
  stop(): Promise<void>;
}

/** The worker: stringified by bree and run with eval; it must be self-contained. */
function tickWorker(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  parentPort?.postMessage('tick');
  parentPort?.postMessage('done');
}

export async function startScheduler(opts: { tickMs: number; logger: Logger; onTick: () => void; name?: string }): Promise<Scheduler> {
  const log = opts.logger;
  const name = opts.name ?? 'alerting-tick';
  // Bree's own chatter ("worker online", "signaled completion") is per tick: debug level.
  const breeLogger = {
    info: (msg: unknown, meta?: unknown) => log.debug({ bree: meta }, String(msg)),
    // "Job is already running": the previous tick's worker has not exited yet (a busy host); that tick is skipped.
    warn: (msg: unknown, meta?: unknown) => {
      const text = msg instanceof Error ? msg.message : String(msg);
      if (/already running/.test(text)) log.debug({ bree: meta }, text);
      else log.warn({ bree: meta }, text);
    },
    error: (msg: unknown, meta?: unknown) => log.error({ bree: meta }, msg instanceof Error ? msg.message : String(msg)),
  };
  const bree = new Bree({
    root: false,
    doRootCheck: false,
    logger: breeLogger,
    // timeout 0: the first tick at once, then every tickMs.
    jobs: [{ name, path: tickWorker, timeout: 0, interval: opts.tickMs }],
    workerMessageHandler: ({ message }) => {
      if (message === 'tick') opts.onTick();
    },
    errorHandler: (err) => log.error({ err }, 'bree tick worker failed'),
  });
  await bree.start(name);
  return {
    async stop() {
      await bree.stop();
    },
  };
}
