/**
 * The one scheduler of every role that runs periodic work (alerting: the
 * engine's tick; ETL: a job per table, the status job, CDC's flush check and
 * heartbeat; monitor: a job per probe; collector: the ingest audit), on
 * croner. Plain timers remain only for synchronous ticks (gauges, the demo
 * traffic) and for sweeps inside one component.
 *
 * Jobs run in this process, so runs share the process's connection pools and
 * logger. The rules every job gets:
 * - a run never overlaps the previous run of the same job (croner's overrun
 *   protection skips the ticks that come while a run is in flight; a manual
 *   runNow() joins the run in flight instead of starting another);
 * - a run's error is logged with the job's name and the job stays scheduled;
 * - stop() stops the timers, aborts the signal runs were given and waits for
 *   the runs in flight (they end at their next checkpoint).
 *
 * Timing: a cron job follows its pattern (croner's syntax, seconds field
 * optional). An interval of whole seconds is croner's every-second pattern
 * with croner's minimum `interval` between runs, first due one interval
 * after start (at the next whole second from there). Croner's patterns stop at
 * seconds, so a shorter or fractional interval (tests and the benchmark tick
 * the alerting engine every 100-250 ms) is a chain of croner one-off runs,
 * each due `everyMs` after the previous run started (at once when that run
 * took longer).
 */
import { Cron } from 'croner';
import type { Logger } from '../log';

export interface ScheduledJob {
  name: string;
  everyMs?: number;
  cron?: string;
  /** Run once right at start (then on schedule). Default true. */
  runAtStart?: boolean;
  /** The schedule begins when this settles (e.g. the monitor waits for the platform's own ports). */
  startAfter?: PromiseLike<unknown>;
  run: (signal: AbortSignal) => Promise<void>;
}

interface Entry {
  job: ScheduledJob;
  cron?: Cron;
  running?: Promise<void>;
  lastStart?: number;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly controller = new AbortController();
  private started = false;
  private stopped = false;

  /** `log`: the owning component's logger. @throws on a duplicate name, a job with neither/both of everyMs and cron, or a bad pattern. */
  constructor(
    jobs: ScheduledJob[],
    private readonly log: Logger,
  ) {
    for (const job of jobs) {
      if (this.entries.has(job.name)) throw new Error(`scheduled job ${job.name} is defined twice`);
      if ((job.cron === undefined) === (job.everyMs === undefined)) throw new Error(`scheduled job ${job.name}: give exactly one of everyMs and cron`);
      if (job.everyMs !== undefined && !(job.everyMs > 0 && Number.isFinite(job.everyMs)))
        throw new Error(`scheduled job ${job.name}: everyMs must be a positive number, not ${job.everyMs}`);
      // Parsed now (paused, never armed) so a bad pattern fails at construction, where the config is.
      if (job.cron !== undefined) new Cron(job.cron, { paused: true }).stop();
      this.entries.set(job.name, { job });
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const e of this.entries.values()) {
      const begin = () => {
        if (this.stopped) return;
        this.arm(e, e.job.runAtStart !== false);
      };
      if (e.job.startAfter) e.job.startAfter.then(begin, begin);
      else begin();
    }
  }

  private arm(e: Entry, runNow: boolean): void {
    const { job } = e;
    const protect = () => this.log.debug({ job: job.name }, 'tick skipped: the previous run is still running');
    if (job.cron !== undefined || (job.everyMs as number) % 1000 === 0) {
      const pattern = job.cron ?? '* * * * * *';
      const interval = job.cron === undefined ? (job.everyMs as number) / 1000 : undefined;
      // croner counts an interval from its own scheduled runs, not from trigger(): without startAt a job run at
      // start would run again at the next whole second.
      const options = interval ? { protect, interval, startAt: new Date(Date.now() + (job.everyMs as number)) } : { protect };
      e.cron = new Cron(pattern, options, () => this.execute(e));
      // Through croner, so the run counts for its overrun protection and its interval.
      if (runNow) void e.cron.trigger();
      return;
    }
    // Not before now: croner never fires a one-off date a second or more in the past (a run that outlasted the interval).
    const due = runNow ? Date.now() : Math.max(Date.now(), (e.lastStart ?? Date.now()) + (job.everyMs as number));
    e.cron = new Cron(new Date(due), { protect }, async () => {
      await this.execute(e);
      if (!this.stopped) this.arm(e, false);
    });
  }

  /** One run of a job, or the run in flight; never rejects (errors are logged here). */
  private execute(e: Entry): Promise<void> {
    if (e.running) return e.running;
    e.lastStart = Date.now();
    const run = (async () => {
      try {
        await e.job.run(this.controller.signal);
      } catch (err) {
        this.log.error({ err, job: e.job.name }, 'scheduled job failed');
      }
    })().finally(() => {
      e.running = undefined;
    });
    e.running = run;
    return run;
  }

  /** Runs one job now (outside its schedule), or waits for its run in flight. */
  async runNow(name: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no scheduled job ${name}`);
    await this.execute(e);
  }

  /** Stops the timers, aborts the runs' signal and waits for runs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) e.cron?.stop();
    this.controller.abort(new Error('scheduler stopping'));
    await Promise.all([...this.entries.values()].map((e) => e.running));
  }
}
