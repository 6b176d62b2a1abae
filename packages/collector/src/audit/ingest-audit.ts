import os from 'node:os';
import { gauge, type ClickHouse, type KeyValueStore, type Logger, type Registry } from '@tidemark/core';
import { z } from 'zod';
import type { SignalName } from '../signals';

export interface IngestAuditOptions {
  /** A minute is compared only once it is this old (ms): landing lag and late events settle first. */
  graceMs: number;
  /** How far back minutes are compared (ms); acknowledgement counters live a little longer. */
  horizonMs: number;
  /** The projects to audit (the metadata Postgres' projects). */
  projects(): Promise<string[]>;
  logger: Logger;
  metrics: Registry;
  /** Names this collector in ingest_audit_v1 (several collectors each record their own runs); default: the host name. */
  collector?: string;
}

/** The audit of one project over the horizon, as /v1/status shows it and the API can read it from the store. */
export interface ProjectAudit {
  project: string;
  checkedAt: string;
  /** Compared minutes: from (inclusive) to (exclusive), UTC "YYYY-MM-DD hh:mm". */
  from: string;
  to: string;
  /** Per signal: acknowledged and landed rows over the compared minutes, and the minutes where they differ. */
  signals: Record<
    SignalName,
    { acknowledged: number; landed: number; lost: number; unacknowledged: number; minutes: { minute: string; acknowledged: number; landed: number }[] }
  >;
}

/** Landed rows per project and minute of the stored timestamp, read from the cheapest table that has them. */
const LANDED_SQL: Record<SignalName, string> = {
  events: `SELECT project_id, formatDateTime(bucket, '%Y-%m-%d %H:%i') AS minute, sum(events) AS n FROM events_1m_v1
           WHERE bucket >= {from:DateTime} AND bucket < {to:DateTime} GROUP BY project_id, minute`,
  metrics: `SELECT project_id, formatDateTime(bucket, '%Y-%m-%d %H:%i') AS minute, sum(count) AS n FROM metrics_1m_v1
            WHERE bucket >= {from:DateTime} AND bucket < {to:DateTime} GROUP BY project_id, minute`,
  logs: `SELECT project_id, formatDateTime(toStartOfMinute(timestamp), '%Y-%m-%d %H:%i') AS minute, count() AS n FROM logs_raw_v1
         WHERE timestamp >= {from:DateTime} AND timestamp < {to:DateTime} GROUP BY project_id, minute`,
};

const SIGNALS: readonly SignalName[] = ['events', 'metrics', 'logs'];

/** One row of ingest_audit_v1 (clickhouse/0005_ingest_audit.sql): a project's signal in one audit run. */
const auditRow = z.object({
  project_id: z.string(),
  signal: z.string(),
  checked_at: z.string(),
  from_minute: z.string(),
  to_minute: z.string(),
  grace_seconds: z.number().int().nonnegative(),
  acknowledged: z.number().int().nonnegative(),
  landed: z.number().int().nonnegative(),
  lost: z.number().int().nonnegative(),
  unacknowledged: z.number().int().nonnegative(),
  differing_minutes: z.number().int().nonnegative(),
  collector: z.string(),
});
const minuteText = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
/** ClickHouse DateTime64(3) text of an instant. */
const instantText = (ms: number): string => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

/**
 * The acknowledgement audit (issue 12): rows the collector acknowledged per
 * project, signal and minute (of the stored timestamp, so the minute
 * rollups answer the other side cheaply), compared with what landed in
 * ClickHouse once the minute is older than the grace period. "Lost" is
 * acknowledged minus landed over the compared minutes, where positive: data
 * this platform said it had and does not. "Unacknowledged" is the opposite
 * (rows written straight into Kafka, which the collector never acknowledged,
 * or duplicates); such rows can hide a loss of the same size in the same
 * project, which the per-minute list still shows.
 *
 * Counters live in the key-value store (Redis when configured, shared by
 * every collector; in the process otherwise, which is exact for embedded
 * mode's single process). An increment that fails is logged and shows as
 * "unacknowledged", never as a false loss.
 */
export class IngestAudit {
  private readonly lostGauge;
  private readonly extraGauge;
  private readonly checkedGauge;
  private readonly record;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly ch: ClickHouse,
    private readonly opts: IngestAuditOptions,
  ) {
    this.record = ch.insert({ table: 'ingest_audit_v1', row: auditRow });
    this.lostGauge = gauge(
      opts.metrics,
      'tidemark_ingest_audit_lost_rows',
      'Rows acknowledged by the collector that did not land in ClickHouse (compared minutes of the audit horizon)',
      ['project', 'signal'],
    );
    this.extraGauge = gauge(
      opts.metrics,
      'tidemark_ingest_audit_unacknowledged_rows',
      'Rows landed that the collector did not acknowledge (direct Kafka producers, or duplicates), compared minutes of the horizon',
      ['project', 'signal'],
    );
    this.checkedGauge = gauge(opts.metrics, 'tidemark_ingest_audit_last_run_seconds', 'Unix time of the last completed acknowledgement audit');
  }

  private key(project: string, signal: SignalName, minute: string): string {
    return `audit:ack:${project}:${signal}:${minute}`;
  }

  /** Counts rows the collector just acknowledged (after the sink made them durable), by minute of their stored timestamp. */
  async acknowledged(project: string, signal: SignalName, rows: readonly { timestamp: string }[]): Promise<void> {
    const byMinute = new Map<string, number>();
    for (const r of rows) {
      const m = r.timestamp.slice(0, 16); // chTime text: "YYYY-MM-DD hh:mm:ss.mmm"
      byMinute.set(m, (byMinute.get(m) ?? 0) + 1);
    }
    const ttl = this.opts.horizonMs + 3_600_000;
    try {
      await Promise.all([...byMinute].map(([m, n]) => this.kv.incr(this.key(project, signal, m), n, ttl)));
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, project, signal }, 'could not count acknowledged rows for the audit');
    }
  }

  /** Compares every project's acknowledged and landed rows over the horizon; updates the gauges and the stored results. */
  async run(now = Date.now()): Promise<ProjectAudit[]> {
    const to = Math.floor((now - this.opts.graceMs) / 60_000) * 60_000;
    const from = to - Math.max(60_000, Math.floor(this.opts.horizonMs / 60_000) * 60_000);
    const minutes: string[] = [];
    for (let t = from; t < to; t += 60_000) minutes.push(minuteText(t));
    const params = { from: `${minuteText(from)}:00`, to: `${minuteText(to)}:00` };
    const landed = new Map<string, number>(); // signal|project|minute
    for (const signal of SIGNALS) {
      const rows = await this.ch.query({
        name: `collector.audit.${signal}`,
        sql: LANDED_SQL[signal],
        params: z.object({ from: z.string(), to: z.string() }),
        row: z.object({ project_id: z.string(), minute: z.string(), n: z.coerce.number() }),
      })(params);
      for (const r of rows) landed.set(`${signal}|${r.project_id}|${r.minute}`, r.n);
    }
    const out: ProjectAudit[] = [];
    const rows: z.input<typeof auditRow>[] = [];
    const checkedAt = instantText(now);
    for (const project of await this.opts.projects()) {
      const differing: number[] = [];
      const audit: ProjectAudit = {
        project,
        checkedAt: new Date(now).toISOString(),
        from: minuteText(from),
        to: minuteText(to),
        signals: {} as ProjectAudit['signals'],
      };
      for (const signal of SIGNALS) {
        const acked = await Promise.all(minutes.map(async (m) => Number((await this.kv.get(this.key(project, signal, m))) ?? 0)));
        const s = { acknowledged: 0, landed: 0, lost: 0, unacknowledged: 0, minutes: [] as { minute: string; acknowledged: number; landed: number }[] };
        let differ = 0;
        minutes.forEach((m, i) => {
          const a = acked[i]!;
          const l = landed.get(`${signal}|${project}|${m}`) ?? 0;
          s.acknowledged += a;
          s.landed += l;
          if (a !== l) differ++;
          if (a !== l && s.minutes.length < 60) s.minutes.push({ minute: m, acknowledged: a, landed: l });
        });
        // Over the horizon, not per minute: a resend after a 503 whose first send was
        // written lands as that first copy (its own, earlier timestamp when the client
        // gave none) and is acknowledged as the resend, so single minutes can differ
        // both ways while nothing is lost. The minutes that differ are listed.
        s.lost = Math.max(0, s.acknowledged - s.landed);
        s.unacknowledged = Math.max(0, s.landed - s.acknowledged);
        audit.signals[signal] = s;
        differing.push(differ);
        this.lostGauge.set({ project, signal }, s.lost);
        this.extraGauge.set({ project, signal }, s.unacknowledged);
        if (s.lost > 0) this.opts.logger.error({ project, signal, lost: s.lost, minutes: s.minutes.slice(0, 5) }, 'acknowledged rows did not land');
      }
      await this.kv.set(`audit:result:${project}`, JSON.stringify(audit), this.opts.horizonMs * 2).catch(() => undefined);
      out.push(audit);
      SIGNALS.forEach((signal, i) => {
        const s = audit.signals[signal];
        rows.push({
          project_id: project,
          signal,
          checked_at: checkedAt,
          from_minute: params.from,
          to_minute: params.to,
          grace_seconds: Math.round(this.opts.graceMs / 1000),
          acknowledged: s.acknowledged,
          landed: s.landed,
          lost: s.lost,
          unacknowledged: s.unacknowledged,
          differing_minutes: differing[i] ?? 0,
          collector: this.opts.collector ?? os.hostname(),
        });
      });
    }
    // Every project gets its rows on every run, losses or not: an alert rule over
    // ingest_audit_v1 then resolves when a later run finds nothing lost. A failed
    // write fails the run (the role logs it and retries next minute); the gauges
    // and the stored result above are already current.
    await this.record(rows);
    this.checkedGauge.set(Math.floor(now / 1000));
    return out;
  }

  /** The last stored audit of a project (what /v1/status shows; the query API can read the same key). */
  async result(project: string): Promise<ProjectAudit | undefined> {
    const text = await this.kv.get(`audit:result:${project}`);
    return text ? (JSON.parse(text) as ProjectAudit) : undefined;
  }
}
