import { counter, histogram, Scheduler, type Logger, type Registry } from '@tidemark/core';

/** A source of samples that runs on its own interval. */
export interface Probe {
  /** Shows in logs and in the monitor's own metrics (probe="..."). */
  readonly name: string;
  readonly intervalMs: number;
  /** Measures and emits; a target being down is a measurement (up=0), not an error. */
  run(): Promise<void>;
  /** Releases connections. */
  close?(): Promise<void>;
}

/** A run that takes longer than this is abandoned (logged) so one hung target cannot stop its probe forever. */
const MIN_RUN_TIMEOUT_MS = 30_000;

/**
 * Runs each probe at once and then every intervalMs, each as its own job of
 * core's Scheduler: runs of one probe never overlap, a slow probe does not
 * delay the others, and a failing one is logged and tried again on its next
 * turn.
 */
export class ProbeRunner {
  private readonly running = new Map<string, Promise<void>>();
  private scheduler: Scheduler | undefined;
  private readonly runs;
  private readonly duration;

  constructor(
    private readonly probes: readonly Probe[],
    private readonly logger: Logger,
    metrics: Registry,
  ) {
    this.runs = counter(metrics, 'tidemark_monitor_probe_runs_total', 'Monitor probe runs by outcome', ['probe', 'result']);
    this.duration = histogram(
      metrics,
      'tidemark_monitor_probe_duration_seconds',
      'Monitor probe run time',
      ['probe'],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
  }

  /**
   * Schedules every probe's first run at once, or, for a probe with a gate,
   * once its gate settles (the monitor waits for the platform's own ports).
   */
  start(gates: ReadonlyMap<string, Promise<unknown>> = new Map()): void {
    const names = new Set<string>();
    this.scheduler = new Scheduler(
      this.probes.map((p) => {
        // Job names must be unique; two targets may share a probe name (a database target called "platform").
        let name = `probe:${p.name}`;
        for (let i = 2; names.has(name); i++) name = `probe:${p.name}#${i}`;
        names.add(name);
        const gate = gates.get(p.name);
        return { name, everyMs: p.intervalMs, ...(gate ? { startAfter: gate } : {}), run: () => this.runOnce(p) };
      }),
      this.logger.child({ component: 'monitor-scheduler' }),
    );
    void this.scheduler.start();
  }

  /** Runs one probe now (also used by tests); resolves when it finished or was abandoned. */
  runOnce(p: Probe): Promise<void> {
    const existing = this.running.get(p.name);
    if (existing) return existing;
    const end = this.duration.startTimer({ probe: p.name });
    const timeoutMs = Math.max(MIN_RUN_TIMEOUT_MS, p.intervalMs * 2);
    let timer: NodeJS.Timeout | undefined;
    const run = Promise.race([
      p.run().then(() => 'ok' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
        timer.unref();
      }),
    ])
      .then((result) => {
        this.runs.inc({ probe: p.name, result });
        if (result === 'timeout') this.logger.warn({ probe: p.name, timeoutMs }, 'probe run abandoned: it took too long');
      })
      .catch((err: unknown) => {
        this.runs.inc({ probe: p.name, result: 'error' });
        this.logger.error({ probe: p.name, err }, 'probe run failed');
      })
      .finally(() => {
        clearTimeout(timer);
        end();
        this.running.delete(p.name);
      });
    this.running.set(p.name, run);
    return run;
  }

  /** Runs every probe once, all at once. */
  async runAll(): Promise<void> {
    await Promise.all(this.probes.map((p) => this.runOnce(p)));
  }

  async stop(): Promise<void> {
    await this.scheduler?.stop();
    await Promise.all(this.running.values());
    await Promise.all(this.probes.map((p) => p.close?.().catch((err: unknown) => this.logger.warn({ probe: p.name, err }, 'closing probe failed'))));
  }
}
