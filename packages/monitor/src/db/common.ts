import type { Logger } from '@tidemark/core';
import type { Probe } from '../schedule/runner';
import type { MetricSink } from '../sink';

export type DbKind = 'postgres' | 'clickhouse' | 'kafka' | 'redis';

/**
 * Reachability of one watched database: db_up{db,kind} (1/0, the sample the
 * DatabaseDown rule reads), db_latency_ms{db,kind} of the probe's first
 * round trip, db_info{db,kind,version} = 1. A change of state is logged
 * once (WARN unreachable, INFO reachable again), not on every check.
 */
export class DbStatus {
  private last: boolean | undefined;

  constructor(
    readonly kind: DbKind,
    readonly db: string,
    private readonly sink: MetricSink,
    private readonly logger: Logger,
  ) {}

  up(timestamp: number, latencyMs: number, version?: string): void {
    const labels = { db: this.db, kind: this.kind };
    this.sink.metric('db_up', 1, { labels, timestamp });
    this.sink.metric('db_latency_ms', latencyMs, { labels, timestamp });
    if (version) this.sink.metric('db_info', 1, { labels: { ...labels, version }, timestamp });
    if (this.last === false) {
      this.logger.info({ db: this.db, kind: this.kind }, 'database reachable again');
      this.sink.log('info', `${this.kind} ${this.db} is reachable again`, labels, { service: 'tidemark-monitor', timestamp });
    }
    this.last = true;
  }

  down(timestamp: number, err: unknown): void {
    const labels = { db: this.db, kind: this.kind };
    this.sink.metric('db_up', 0, { labels, timestamp });
    const error = err instanceof Error ? err.message : String(err);
    if (this.last !== false) {
      this.logger.warn({ db: this.db, kind: this.kind, error }, 'database unreachable');
      this.sink.log('error', `${this.kind} ${this.db} is unreachable: ${error}`, { ...labels, error }, { service: 'tidemark-monitor', timestamp });
    }
    this.last = false;
  }
}

/**
 * What every database probe shares: its name (`<kind>:<name>`, in logs and
 * the monitor's own metrics), its interval, and the DbStatus its
 * reachability is reported through.
 */
export abstract class DbProbe implements Probe {
  readonly name: string;
  readonly intervalMs: number;
  protected readonly status: DbStatus;

  constructor(
    kind: DbKind,
    opts: { name: string; intervalMs: number; logger: Logger },
    protected readonly sink: MetricSink,
  ) {
    this.name = `${kind}:${opts.name}`;
    this.intervalMs = opts.intervalMs;
    this.status = new DbStatus(kind, opts.name, sink, opts.logger);
  }

  abstract run(): Promise<void>;
}

/** Milliseconds since a process.hrtime.bigint() reading. */
export function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Resolves fn() or rejects after ms: a database that stops answering mid-check must not hang the probe. */
export async function withTimeout<T>(what: string, ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
