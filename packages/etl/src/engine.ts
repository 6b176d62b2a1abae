/**
 * The ETL engine: every configured source and table, their connection pools,
 * CDC streams, the schedule (core's Scheduler) and status publishing. The role starts one;
 * tests and the benchmark drive one directly (runTable / runAll).
 */
import type { Pool } from 'pg';
import { classifyError, NotFoundError, Scheduler, type ClickHouse, type Logger, type Registry, type ScheduledJob } from '@tidemark/core';
import { ensureTableState, getTableState, pruneRuns, recordFailure, resetTable } from './checkpoint/store';
import type { EtlConfig, SourceConfig, TableConfig } from './config/schema';
import { logProgress, type ProgressListener } from './progress/progress';
import { createSourcePool } from './source/session';
import { exportMetrics, getSyncStatus, publishStatusToClickHouse, type SyncStatus } from './status/status';
import { CdcStream } from './sync/cdc';
import type { SourceDeps, SyncDeps, SyncHooks } from './sync/deps';
import { withTableLock } from './sync/lock';
import { backoffMs, runTable, tableLockName, type RunOptions, type TableRunResult } from './sync/table-sync';
import { dropTarget, type DdlOptions } from './target/ddl';
import { clearQuarantine } from './sync/quarantine';

export interface EtlEngineOptions {
  config: EtlConfig;
  /** Client on the Tidemark ClickHouse database (targets land here). */
  clickhouse: ClickHouse;
  /** Metadata Postgres with the 0200_etl tables. */
  meta: Pool;
  logger: Logger;
  /** Prometheus registry for the ETL's gauges. */
  metrics?: Registry;
  /** CLICKHOUSE_CLUSTER, for ON CLUSTER DDL with Replicated engines. */
  cluster?: string;
  onProgress?: ProgressListener;
  hooks?: SyncHooks;
  /** Pools to use instead of connecting to a source's URL (the embedded demo source). */
  sourcePools?: Record<string, Pool>;
  /** CDC heartbeat / slot-lag interval (ms). */
  cdcHeartbeatMs?: number;
  /** How often status is recomputed, exported and mirrored into ClickHouse (ms). */
  statusEveryMs?: number;
}

export class EtlEngine {
  private readonly pools = new Map<string, Pool>();
  private readonly ownPools = new Set<string>();
  private readonly streams = new Map<string, CdcStream>();
  private scheduler: Scheduler | undefined;
  /** Set by stop(): from then on no table run starts (runTable answers 'skipped'). */
  private stopped = false;
  /** Table runs started and not finished, whoever started them: stop() waits for them. */
  private readonly inFlight = new Set<Promise<TableRunResult>>();
  private readonly abort = new AbortController();
  private readonly log: Logger;

  constructor(private readonly opts: EtlEngineOptions) {
    this.log = opts.logger;
    for (const s of opts.config.sources) {
      const given = opts.sourcePools?.[s.name];
      if (given) this.pools.set(s.name, given);
      else {
        // Each table run holds its lock connection plus up to `parallelism` readers; CDC and
        // short autocommit queries need a couple more. A smaller pool could deadlock runs
        // waiting for each other's connections.
        const parallel = Math.max(1, ...s.tables.map((t) => t.parallelism));
        const max = Math.max(s.maxConnections, s.maxConcurrentTables * (parallel + 1) + 3);
        this.pools.set(s.name, createSourcePool({ url: s.url, source: s.name, max, logger: opts.logger }));
        this.ownPools.add(s.name);
      }
      this.slots.set(s.name, new Semaphore(s.maxConcurrentTables));
    }
  }

  /** Per source: at most maxConcurrentTables table runs at once, whoever starts them (schedule, runAll, API). */
  private readonly slots = new Map<string, Semaphore>();

  get config(): EtlConfig {
    return this.opts.config;
  }

  tables(): TableConfig[] {
    return this.opts.config.sources.flatMap((s) => s.tables);
  }

  table(key: string): TableConfig {
    const t = this.tables().find((x) => x.key === key || `${x.schema}.${x.name}` === key || x.name === key || x.target === key);
    if (!t) throw new NotFoundError(`no configured ETL table ${key}`);
    return t;
  }

  private sourceOf(t: TableConfig): SourceConfig {
    return this.opts.config.sources.find((s) => s.name === t.source) as SourceConfig;
  }

  pool(source: string): Pool {
    const p = this.pools.get(source);
    if (!p) throw new NotFoundError(`no ETL source ${source}`);
    return p;
  }

  private ddl(): DdlOptions {
    return this.opts.cluster ? { cluster: this.opts.cluster } : {};
  }

  /** What the table runs and the CDC stream of a source share. */
  private sourceDeps(source: SourceConfig): SourceDeps {
    return {
      ch: this.opts.clickhouse,
      meta: this.opts.meta,
      logger: this.log,
      source,
      sourcePool: this.pool(source.name),
      ddl: this.ddl(),
      ...(this.opts.hooks ? { hooks: this.opts.hooks } : {}),
    };
  }

  deps(source: SourceConfig): SyncDeps {
    return { ...this.sourceDeps(source), onProgress: this.opts.onProgress ?? logProgress(this.log), signal: this.abort.signal };
  }

  /** The CDC stream of a source (created on first use, not started). */
  stream(sourceName: string): CdcStream {
    let s = this.streams.get(sourceName);
    if (!s) {
      const source = this.opts.config.sources.find((x) => x.name === sourceName);
      if (!source) throw new NotFoundError(`no ETL source ${sourceName}`);
      s = new CdcStream({
        ...this.sourceDeps(source),
        ...(this.opts.cdcHeartbeatMs !== undefined ? { heartbeatMs: this.opts.cdcHeartbeatMs } : {}),
      });
      this.streams.set(sourceName, s);
    }
    return s;
  }

  /**
   * One run of one table (snapshot, incremental, reconciliation as due). Never throws for the table's own problems.
   * Once stop() was called it starts nothing and answers 'skipped'; a run that started is waited for by stop().
   */
  async runTable(key: string, opts: Pick<RunOptions, 'reconcile'> = {}): Promise<TableRunResult> {
    const cfg = this.table(key);
    if (this.stopped) return this.skippedStopping(cfg);
    const run = this.startRun(cfg, opts);
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  private skippedStopping(cfg: TableConfig): TableRunResult {
    this.log.debug({ table: cfg.key }, 'ETL stopping; table run not started');
    return { table: cfg.key, status: 'skipped', rows: 0 };
  }

  private async startRun(cfg: TableConfig, opts: Pick<RunOptions, 'reconcile'>): Promise<TableRunResult> {
    const source = this.sourceOf(cfg);
    const run: RunOptions = { ...opts };
    if (cfg.mode === 'cdc') {
      const stream = this.stream(source.name);
      run.ensureCdc = (plan) => stream.ensureTable(plan);
      run.onPlan = (plan, state) => stream.setPlan(plan, state.phase, state.generation);
    }
    const slot = this.slots.get(source.name) as Semaphore;
    try {
      // A run that waited for its slot while stop() was called does not start either.
      return await slot.run(() => (this.stopped ? Promise.resolve(this.skippedStopping(cfg)) : runTable(this.deps(source), cfg, run)));
    } catch (raw) {
      // runTable records its table's own failures; what reaches here happened before it could
      // (the source unreachable for the lock): recorded too, so status and alerts show it.
      const err = classifyError(raw, 'postgres');
      this.log.error({ table: cfg.key, err }, 'table run could not start');
      await ensureTableState(this.opts.meta, cfg)
        .then(() => recordFailure(this.opts.meta, cfg.key, err.message))
        .catch(() => undefined);
      return { table: cfg.key, status: 'failed', rows: 0, error: err };
    }
  }

  /**
   * Runs every table once: sources in parallel, each source's tables
   * `maxConcurrentTables` at a time. One table failing does not stop others.
   */
  async runAll(opts: Pick<RunOptions, 'reconcile'> = {}): Promise<TableRunResult[]> {
    const results: TableRunResult[] = [];
    await Promise.all(
      this.opts.config.sources.map(async (s) => {
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < s.tables.length) {
            const t = s.tables[next++] as TableConfig;
            results.push(await this.runTable(t.key, opts));
          }
        };
        await Promise.all(Array.from({ length: Math.min(s.maxConcurrentTables, s.tables.length) }, worker));
      }),
    );
    return results;
  }

  /**
   * Starts a table over: a new generation and a new snapshot. With rebuild,
   * the ClickHouse table and view are dropped first (after an incompatible
   * schema change); without, the new snapshot's newer versions replace the
   * old rows and the reconciliation after it removes deleted ones.
   */
  async resync(key: string, opts: { rebuild?: boolean } = {}): Promise<void> {
    const cfg = this.table(key);
    const pool = this.pool(cfg.source);
    const done = await withTableLock(pool, tableLockName({ ch: this.opts.clickhouse }, cfg), async () => {
      await ensureTableState(this.opts.meta, cfg);
      if (opts.rebuild) await dropTarget(this.opts.clickhouse, { targetTable: `${cfg.target}_v1`, targetView: cfg.target }, this.ddl());
      await resetTable(this.opts.meta, cfg.key, cfg.mode, opts.rebuild ? 'resync with rebuild requested' : 'resync requested');
      // The new snapshot finds the rows that still cannot land again.
      await clearQuarantine(this.opts.meta, cfg.key);
    });
    if (!done.acquired) throw new NotFoundError(`${cfg.key} is being synced right now; try again when the run ends`);
  }

  /** Starts the CDC streams of every source with cdc tables. */
  async startCdc(): Promise<void> {
    for (const s of this.opts.config.sources) {
      if (s.tables.some((t) => t.mode === 'cdc')) await this.stream(s.name).start();
    }
  }

  async status(): Promise<SyncStatus> {
    return getSyncStatus(this.opts.meta);
  }

  /** Recomputes status; exports gauges; mirrors it into ClickHouse for the alert rules. */
  async publishStatus(): Promise<SyncStatus> {
    const status = await getSyncStatus(this.opts.meta);
    if (this.opts.metrics) exportMetrics(this.opts.metrics, status);
    await publishStatusToClickHouse(this.opts.clickhouse, status);
    for (const t of status.tables.filter((x) => x.stalled)) {
      this.log.warn({ table: t.table, lastSuccessAt: t.lastSuccessAt, stallAfterSeconds: t.stallAfterSeconds, lastError: t.lastError }, 'sync stalled');
    }
    return status;
  }

  /** Starts everything: table registration, CDC streams, the schedule. */
  async start(): Promise<void> {
    for (const t of this.tables()) await ensureTableState(this.opts.meta, t);
    if (this.stopped) return;
    await this.startCdc();
    const jobs: ScheduledJob[] = this.tables().map((t) => ({
      name: t.key,
      ...(t.schedule.cron ? { cron: t.schedule.cron } : { everyMs: t.schedule.everyMs ?? 60_000 }),
      run: async () => {
        // Backoff on repeated failures (a missing source table must not fail every tick).
        const state = await getTableState(this.opts.meta, t.key);
        const wait = state && state.lastErrorAt ? backoffMs(t.schedule.everyMs ?? 60_000, state.consecutiveFailures) : 0;
        if (state?.lastErrorAt && Date.now() - state.lastErrorAt.getTime() < wait) {
          this.log.debug({ table: t.key, failures: state.consecutiveFailures, waitMs: wait }, 'backing off after repeated failures');
          return;
        }
        await this.runTable(t.key);
      },
    }));
    jobs.push({
      name: 'etl:status',
      everyMs: this.opts.statusEveryMs ?? 15_000,
      run: async () => {
        await this.publishStatus();
        await pruneRuns(this.opts.meta);
      },
    });
    // stop() during the awaits above: no schedule at all.
    if (this.stopped) return;
    this.scheduler = new Scheduler(jobs, this.log.child({ component: 'etl-scheduler' }));
    await this.scheduler.start();
    this.log.info({ tables: this.tables().length, sources: this.opts.config.sources.length }, 'ETL started');
  }

  /**
   * Stops the schedule, waits for every table run in flight (scheduled or
   * not; no new one starts from the moment stop() is called), then stops the
   * streams and closes the pools it opened.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort(new Error('ETL stopping'));
    await this.scheduler?.stop();
    await Promise.allSettled([...this.inFlight]);
    for (const s of this.streams.values()) await s.stop();
    for (const name of this.ownPools) await this.pools.get(name)?.end();
  }

  /** A table's checkpoint state (tests, the CLI). */
  async state(key: string) {
    return getTableState(this.opts.meta, this.table(key).key);
  }
}

/** A counting semaphore: run() waits for one of `size` slots. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
