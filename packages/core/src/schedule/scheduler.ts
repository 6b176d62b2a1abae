/**
 * Scheduling with bree, for every role that runs periodic work (ETL: a job
 * per table and the status job; alerting: the engine's tick).
 *
 * Jobs run in this process, not in worker threads: bree's documented
 * extension point `createWorker` is given a worker that calls the job's
 * function, so runs share the process's connection pools and logger, and
 * everything a run does is the same code the tests exercise. Bree still
 * owns timing, cron parsing and the "already running" rule (a job is never
 * started while its previous run is in flight); the table's advisory lock
 * guards against other processes.
 *
 * Measured (2026-11-22): bree's default, a new worker thread per run, cost
 * the alerting tick (every second) about 12% of a core on an idle platform,
 * since each run boots a V8 isolate; in-process runs cost nothing measurable.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import Bree from 'bree';
import type { Logger } from '../log';

export interface ScheduledJob {
  name: string;
  everyMs?: number;
  cron?: string;
  /** Run once right at start (then on schedule). */
  runAtStart?: boolean;
  run: (signal: AbortSignal) => Promise<void>;
}

/** What bree sees as a worker: online → run → "done" (or error + exit 1). */
class InProcessWorker extends EventEmitter {
  readonly threadId = -1;
  readonly isMainThread = true;
  readonly resourceLimits = {};
  private readonly controller = new AbortController();

  constructor(run: (signal: AbortSignal) => Promise<void>) {
    super();
    setImmediate(() => {
      this.emit('online');
      run(this.controller.signal).then(
        () => this.emit('message', 'done'),
        (err: unknown) => {
          this.emit('error', err);
          this.emit('exit', 1);
        },
      );
    });
  }

  /** bree's stop() asks for cancellation; the run sees the abort and ends at its next checkpoint. */
  postMessage(message: unknown): void {
    if (message === 'cancel') this.controller.abort(new Error('scheduler stopping'));
  }

  terminate(): Promise<number> {
    this.controller.abort(new Error('scheduler stopping'));
    return Promise.resolve(0);
  }
}

export class Scheduler {
  private readonly bree: Bree;

  /** `log`: the owning component's logger (bree's own chatter goes to it at debug). */
  constructor(jobs: ScheduledJob[], log: Logger) {
    const byName = new Map(jobs.map((j) => [j.name, j]));
    this.bree = new Bree({
      root: false,
      doRootCheck: false,
      // bree logs every start and stop at info: keep that at debug.
      logger: {
        info: (...a: unknown[]) => log.debug({ bree: a.map(String) }, 'bree'),
        warn: (...a: unknown[]) => log.debug({ bree: a.map(String) }, 'bree'),
        error: (...a: unknown[]) => log.error({ bree: a.map(String) }, 'bree'),
      },
      errorHandler: (err: unknown, data: { name: string }) => log.error({ err, job: data.name }, 'scheduled job failed'),
      jobs: jobs.map((j) => ({
        name: j.name,
        // A real file, so bree's path validation passes; createWorker below never loads it.
        path: __filename,
        timeout: j.runAtStart === false ? false : 0,
        ...(j.cron ? { cron: j.cron } : { interval: j.everyMs ?? 60_000 }),
      })),
    });
    // bree's extension point for workers (see the module comment).
    this.bree.createWorker = (_file: string, options: Partial<{ workerData: { job: { name: string } } }>) => {
      const name = options.workerData?.job.name ?? '';
      const job = byName.get(name);
      const run = job ? job.run : () => Promise.reject(new Error(`no scheduled job ${name}`));
      return new InProcessWorker(run) as unknown as Worker;
    };
  }

  async start(): Promise<void> {
    await this.bree.start();
  }

  /** Runs one job now (outside its schedule), unless it is running already. */
  async runNow(name: string): Promise<void> {
    await this.bree.run(name);
  }

  /** Stops the timers and waits for runs in flight (they stop at their next checkpoint). */
  async stop(): Promise<void> {
    await this.bree.stop();
  }
}
