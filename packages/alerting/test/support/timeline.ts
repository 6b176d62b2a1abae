/**
 * A timeline harness in the style of Alertmanager's acceptance tests: time
 * is a ManualClock the test moves; data is declared as time series in a
 * ClickHouse table (rule SQL reads it through {now}); the engine runs every
 * step at every simulated second (evaluate → route → flush → send, sends
 * awaited); a real webhook receiver on loopback records what arrives and
 * when, on the same clock. Assertions compare the whole list of
 * notifications with their times.
 */
import type { PolicyInput, RuleInput } from '../../src';
import { AlertEngine, AlertingService, ManualClock } from '../../src';
import { uniqueName, type TestEnv } from './env';
import { WebhookReceiver } from './receivers';

export const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);

/**
 * Rule SQL over a harness table: the latest value per host within the last 15 s.
 * The table has a project_id column because rule SQL may only read tenant tables
 * (the tenant-scoped read path filters them by the rule's project).
 */
export function seriesSql(table: string): string {
  return `SELECT host, argMax(value, ts) AS value FROM ${table}
WHERE project_id = {project_id:String} AND ts <= {now:DateTime64(3, 'UTC')} AND ts > {now:DateTime64(3, 'UTC')} - INTERVAL 15 SECOND
GROUP BY host`;
}

export interface SentSummary {
  /** Seconds after T0 on the test clock. */
  t: number;
  status: string;
  repeat: boolean;
  /** "host:status:SEVERITY", "*" when new in this notification, "(ack)" when acknowledged. */
  alerts: string[];
}

export class Timeline {
  readonly clock = new ManualClock(T0);
  engine!: AlertEngine;
  service!: AlertingService;
  hook!: WebhookReceiver;
  projectId = '';
  readonly table = uniqueName('tl').toLowerCase();
  private overrides: Record<string, unknown> = {};

  private constructor(readonly env: TestEnv) {}

  static async create(env: TestEnv, opts: { policy?: (hookUrl: string) => PolicyInput; configOverrides?: Record<string, unknown> } = {}): Promise<Timeline> {
    // Tests of a file share one database and run one after another: what earlier tests left
    // (rules, groups, queued notifications) must not be picked up by this test's engine.
    await env.pool.query(`DELETE FROM alert_rules`);
    await env.pool.query(`DELETE FROM alert_groups`);
    await env.pool.query(`UPDATE alert_events SET routed_at = now() WHERE routed_at IS NULL`);
    await env.pool.query(`UPDATE alert_notifications SET status = 'failed', last_error = 'left by an earlier test' WHERE status IN ('pending', 'sending')`);
    const tl = new Timeline(env);
    tl.hook = await new WebhookReceiver('webhook', () => tl.clock.now()).listen();
    tl.overrides = { ALERTING_WEBHOOK_SECRET: tl.hook.secret, ALERTING_SEND_RETRIES: 1, ...opts.configOverrides };
    tl.projectId = await env.createProject();
    await env.rw.command(
      `CREATE TABLE ${tl.table} (project_id String, ts DateTime64(3, 'UTC'), host String, value Float64) ENGINE = MergeTree ORDER BY (project_id, host, ts)`,
    );
    tl.service = new AlertingService({ meta: env.pool, readonly: env.ro, config: tl.config(), logger: env.logger, clock: tl.clock });
    tl.engine = tl.newEngine();
    await tl.engine.start();
    const policy = opts.policy?.(tl.hook.url) ?? {
      channels: [{ name: 'hook', type: 'webhook' as const, url: tl.hook.url }],
      routes: [{ channels: ['hook'], group_by: ['...'], group_wait: '0s', group_interval: '10s', repeat_interval: '1h' }],
    };
    await tl.service.putPolicy(tl.projectId, policy);
    return tl;
  }

  config() {
    return this.env.config(this.overrides);
  }

  private newEngine(): AlertEngine {
    return new AlertEngine({
      config: this.config(),
      meta: this.env.pool,
      readonly: this.env.ro,
      logger: this.env.logger,
      clock: this.clock,
      replicaId: 'timeline',
      retryInitialMs: 1,
    });
  }

  /** A new engine process on the same database and clock (the old one is abandoned as if it crashed). */
  async restart(): Promise<void> {
    this.engine = this.newEngine();
    await this.engine.start();
  }

  /** Samples of `host` every 5 s from `fromS` (inclusive) to `toS` (exclusive), seconds after T0. */
  async series(host: string, fromS: number, toS: number, value: number): Promise<void> {
    const rows = [];
    for (let s = fromS; s < toS; s += 5)
      rows.push({ project_id: this.projectId, ts: new Date(T0 + s * 1000).toISOString().replace('T', ' ').replace('Z', ''), host, value });
    await this.env.rw.client.insert({ table: this.table, values: rows, format: 'JSONEachRow' });
  }

  async addRule(rule: Partial<RuleInput> & { name: string }): Promise<void> {
    await this.service.createRule(this.projectId, {
      sql: seriesSql(this.table),
      interval: '10s',
      condition: { op: '>', threshold: 80 },
      no_data: { state: 'ok' },
      ...rule,
    });
  }

  /** Moves the clock one second at a time up to `toS` seconds after T0, running the engine at each second. */
  async runTo(toS: number): Promise<void> {
    const target = T0 + toS * 1000;
    if (this.clock.now() === T0 && !this.started) {
      this.started = true;
      await this.engine.runOnce();
    }
    while (this.clock.now() < target) {
      this.clock.advance(1000);
      await this.engine.runOnce();
    }
  }
  private started = false;

  get t(): number {
    return (this.clock.now() - T0) / 1000;
  }

  sent(): SentSummary[] {
    return this.hook.notifications().map(({ at, body }) => ({
      t: (at - T0) / 1000,
      status: body.status,
      repeat: body.isRepeat,
      alerts: body.alerts.map(
        (a) => `${a.labels.host ?? a.labels.alertstate}:${a.status}:${a.labels.severity}${a.isNew ? '*' : ''}${a.acknowledged ? '(ack)' : ''}`,
      ),
    }));
  }

  /** State transitions as "t host from→to". */
  async transitions(): Promise<string[]> {
    const h = await this.service.history(this.projectId, { limit: 1000 });
    return h
      .reverse()
      .filter((e) => e.from !== e.to)
      .map((e) => `${(Date.parse(e.at) - T0) / 1000} ${e.labels.host ?? e.labels.alertstate} ${e.from}>${e.to}`);
  }

  async close(): Promise<void> {
    await this.engine.stop();
    await this.service.close();
    await this.hook.close();
  }
}
