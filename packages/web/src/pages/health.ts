/**
 * Health: the services the monitor checks (HTTP/TCP), the databases it
 * watches (the platform's own ClickHouse, Postgres, Kafka and Redis, and any
 * configured), their figures, the lag of every Kafka consumer group, the
 * collector's acknowledgement audit (acknowledged vs landed rows), and the
 * ETL: each synced table's state and divergence (what its last
 * reconciliation found and repaired) and the rows held in its quarantine.
 */
import { AM, get, type ApiItem } from '../api';
import { badge, h, stat, table } from '../dom';
import { fmtAgo, fmtBytes, fmtInt, fmtMs } from '../format';
import type { View } from '../view';

// The answers' shapes, from the types generated from the API's OpenAPI document.
type ServiceHealth = ApiItem<'/api/analytics-monitoring/monitoring/health/services', 'services'>;
type DbHealth = ApiItem<'/api/analytics-monitoring/monitoring/health/database', 'databases'>;
type MetricRow = ApiItem<'/api/analytics-monitoring/monitoring/metrics/database', 'metrics'>;
type EtlTable = ApiItem<'/api/analytics-monitoring/etl/status', 'tables'>;
type QuarantinedRow = ApiItem<'/api/analytics-monitoring/etl/quarantine', 'rows'>;
type AuditSignal = ApiItem<'/api/analytics-monitoring/monitoring/health/ingest-audit', 'signals'>;

/**
 * Rows found different at the table's last reconciliation: keys missing and
 * extra, and rows whose content differed. Quarantined rows are counted as
 * missing by the key comparison (they are in the source, not in
 * ClickHouse); they have their own column, so they are taken off here (as
 * the EtlTableDiverged rule does).
 */
function differences(t: EtlTable): { found: number; repaired: number } | null {
  const r = t.reconciliation;
  if (!r && !t.content) return null;
  const missing = Math.max(0, (r?.missing ?? 0) - (t.quarantinedRows ?? 0));
  return { found: missing + (r?.extra ?? 0) + (t.content?.changed ?? 0), repaired: r?.repaired ?? t.content?.repaired ?? 0 };
}

const utcMinute = (iso: string): string => iso.slice(11, 16);

const upBadge = (up: boolean | null): HTMLElement => (up === null ? badge('unknown', 'info') : up ? badge('up', 'ok') : badge('down', 'critical'));

export function healthPage(v: View): void {
  v.root.append(h('h1', { class: 'page-title' }, 'Health'));
  const services = v.panel({
    id: 'health-services',
    title: 'Services',
    load: (signal) => get<{ services: ServiceHealth[] }>(`${AM}/monitoring/health/services`, { minutes: 10 }, signal),
    render: (r) => {
      if (r.services.length === 0) return null;
      const up = r.services.filter((s) => s.up).length;
      return h(
        'div',
        null,
        h(
          'div',
          { class: 'stats' },
          stat('health.services_up', 'Services up', up, `${fmtInt(up)} / ${fmtInt(r.services.length)}`, { tone: up === r.services.length ? 'good' : 'bad' }),
        ),
        table(
          'health-services',
          r.services,
          [
            { head: 'Service', cell: (s) => s.target },
            { head: 'State', cell: (s) => upBadge(s.up) },
            {
              head: 'Latency',
              title: 'Latency: time to the full answer (HTTP) or the accepted connection (TCP) of the latest check.',
              cell: (s) => h('span', { 'data-value': s.latency_ms ?? '' }, fmtMs(s.latency_ms)),
              class: 'num',
            },
            { head: 'Checked', cell: (s) => fmtAgo(s.at), class: 'num' },
          ],
          (s) => ({ 'data-target': s.target }),
        ),
      );
    },
    empty: {
      message: 'No health checks reported in the last 10 minutes',
      hint: h('span', null, 'List services in ', h('code', null, 'MONITOR_HEALTHCHECK_TARGETS'), ' (name=http://host/health or tcp://host:port).'),
    },
  });

  const databases = v.panel({
    id: 'health-databases',
    title: 'Databases',
    load: async (signal) => {
      const [dbs, metrics] = await Promise.all([
        get<{ databases: DbHealth[] }>(`${AM}/monitoring/health/database`, { minutes: 10 }, signal),
        get<{ metrics: MetricRow[] }>(`${AM}/monitoring/metrics/database`, { minutes: 10 }, signal),
      ]);
      return { dbs: dbs.databases, metrics: metrics.metrics };
    },
    render: ({ dbs, metrics }) => {
      if (dbs.length === 0) return null;
      const of = (db: string, name: string): MetricRow[] => metrics.filter((m) => m.labels.db === db && m.name === name);
      const sum = (rows: MetricRow[]): number | null => (rows.length ? rows.reduce((n, m) => n + m.value, 0) : null);
      const detail = (d: DbHealth): string => {
        switch (d.kind) {
          case 'postgres':
            return `${fmtInt(sum(of(d.db, 'postgres_connections')))} connections · ${fmtInt(sum(of(d.db, 'postgres_slow_statements')) ?? 0)} slow statements`;
          case 'clickhouse':
            return `${fmtInt(sum(of(d.db, 'clickhouse_parts')))} parts · ${fmtInt(sum(of(d.db, 'clickhouse_merges')) ?? 0)} merges`;
          case 'redis':
            return `${fmtBytes(sum(of(d.db, 'redis_memory_bytes')))} · ${fmtInt(sum(of(d.db, 'redis_connected_clients')))} clients`;
          case 'kafka':
            return `lag ${fmtInt(sum(of(d.db, 'kafka_consumer_lag')) ?? 0)} messages`;
          default:
            return '';
        }
      };
      return table(
        'health-databases',
        dbs,
        [
          { head: 'Database', cell: (d) => d.db },
          { head: 'Kind', cell: (d) => d.kind },
          { head: 'State', cell: (d) => upBadge(d.up) },
          { head: 'Figures', cell: (d) => detail(d) },
          { head: 'Checked', cell: (d) => fmtAgo(d.at), class: 'num' },
        ],
        (d) => ({ 'data-db': `${d.kind}:${d.db}`, 'data-up': d.up ? '1' : '0' }),
      );
    },
    empty: {
      message: 'No database checks in the last 10 minutes',
      hint: h('span', null, 'The monitor watches the platform’s own stores (', h('code', null, 'MONITOR_WATCH_PLATFORM'), ') and any in MONITOR_*_URLS.'),
    },
  });

  const kafka = v.panel({
    id: 'health-kafka',
    title: 'Kafka consumer lag',
    load: (signal) => get<{ metrics: MetricRow[] }>(`${AM}/monitoring/metrics/database`, { minutes: 10 }, signal),
    render: (r) => {
      const lag = r.metrics.filter((m) => m.name === 'kafka_consumer_lag');
      if (lag.length === 0) return null;
      const groups = new Map<string, number>();
      for (const m of lag) {
        const k = `${m.labels.group ?? ''} · ${m.labels.topic ?? ''}`;
        groups.set(k, (groups.get(k) ?? 0) + m.value);
      }
      const total = [...groups.values()].reduce((a, b) => a + b, 0);
      return h(
        'div',
        null,
        h(
          'div',
          { class: 'stats' },
          stat('kafka.lag_total', 'Total lag', total, fmtInt(total), { hint: 'messages not yet consumed', tone: total > 10_000 ? 'bad' : 'good' }),
        ),
        table(
          'kafka-lag',
          [...groups].sort((a, b) => b[1] - a[1]),
          [
            { head: 'Group · topic', cell: ([k]) => k },
            { head: 'Lag', cell: ([, n]) => h('span', { 'data-value': n }, fmtInt(n)), class: 'num' },
          ],
        ),
      );
    },
    empty: {
      message: 'No Kafka consumer lag reported',
      hint: 'Without KAFKA_BROKERS the collector writes straight to ClickHouse (embedded mode): there is no consumer to lag.',
    },
  });
  const etl = v.panel({
    id: 'health-etl',
    title: 'Business table sync (ETL)',
    class: 'panel-wide',
    load: (signal) => get<{ tables: EtlTable[] }>(`${AM}/etl/status`, {}, signal),
    render: (r) =>
      r.tables.length === 0
        ? null
        : table(
            'etl-tables',
            r.tables,
            [
              { head: 'Table', cell: (t) => t.target },
              { head: 'Mode', cell: (t) => t.mode },
              { head: 'State', cell: (t) => badge(t.state, t.state === 'ok' ? 'ok' : t.state === 'snapshot' || t.state === 'pending' ? 'info' : 'critical') },
              {
                head: 'Rows',
                // Current rows of the table in ClickHouse (each key once, deletes not counted); the ETL's rowsSynced counts row versions landed (every update is one more).
                cell: (t) =>
                  h(
                    'span',
                    {
                      'data-value': t.rows ?? '',
                      title: `Rows: current rows of ${t.target} (each key once, deleted rows not counted). Row versions landed since the first sync: ${fmtInt(t.rowsSynced)}.`,
                    },
                    t.rows === null || t.rows === undefined ? '—' : fmtInt(t.rows),
                  ),
                class: 'num',
              },
              {
                head: 'Lag',
                title: 'Lag: age of the watermark — every source commit before it is queryable in ClickHouse.',
                cell: (t) => (t.lagSeconds === null ? '—' : fmtMs(t.lagSeconds * 1000)),
                class: 'num',
              },
              {
                head: 'Differences',
                title:
                  'Differences: rows the last reconciliation found different between the source and ClickHouse (keys missing or extra, content changed), and how many it repaired.',
                cell: (t) => {
                  const d = differences(t);
                  if (!d) return h('span', { 'data-value': '' }, '—');
                  return h('span', { 'data-value': d.found }, d.found === 0 ? '0' : badge(`${fmtInt(d.found)} (${fmtInt(d.repaired)} repaired)`, 'warning'));
                },
                class: 'num',
              },
              {
                head: 'Quarantined',
                title: 'Quarantined: rows kept out of ClickHouse because a value cannot land (listed below); retried every run.',
                cell: (t) => h('span', { 'data-value': t.quarantinedRows ?? 0 }, t.quarantinedRows ? badge(fmtInt(t.quarantinedRows), 'warning') : '0'),
                class: 'num',
              },
              { head: 'Last success', cell: (t) => fmtAgo(t.lastSuccessAt), class: 'num' },
            ],
            (t) => ({
              'data-etl-table': t.target,
              'data-state': t.state,
              'data-differences': String(differences(t)?.found ?? ''),
              'data-quarantined': String(t.quarantinedRows ?? 0),
            }),
          ),
    empty: {
      message: 'No business tables are synced',
      hint: h('span', null, 'Configure sources in ', h('code', null, 'ETL_CONFIG'), ', or start with ', h('code', null, '--demo'), '.'),
    },
  });
  const quarantine = v.panel({
    id: 'health-etl-quarantine',
    title: 'ETL quarantined rows',
    class: 'panel-wide',
    load: (signal) => get<{ rows: QuarantinedRow[] }>(`${AM}/etl/quarantine`, { limit: 100 }, signal),
    render: (r) =>
      r.rows.length === 0
        ? null
        : table(
            'etl-quarantine',
            r.rows,
            [
              { head: 'Table', cell: (q) => q.target },
              { head: 'Key', cell: (q) => h('code', null, q.key.join(', ')) },
              { head: 'Column', cell: (q) => q.column ?? '—' },
              { head: 'Reason', cell: (q) => h('span', null, q.reason.replace(/^.*?: row \(.*?\) = \(.*?\): /, '')) },
              { head: 'First seen', cell: (q) => fmtAgo(q.firstSeenAt), class: 'num' },
              {
                head: 'Last seen',
                title: 'Last seen: the last run that read the row and still could not land it.',
                cell: (q) => fmtAgo(q.lastSeenAt),
                class: 'num',
              },
            ],
            (q) => ({ 'data-etl-table': q.target, 'data-key': q.key.join(',') }),
          ),
    empty: {
      message: 'No rows are quarantined',
      hint: 'A row whose value cannot land in ClickHouse (e.g. a number too large for its Decimal) is held here and retried every run; the rest of its table keeps syncing.',
    },
  });

  const audit = v.panel({
    id: 'health-ingest-audit',
    title: 'Ingest audit: acknowledged vs landed',
    load: (signal) => get<{ signals: AuditSignal[] }>(`${AM}/monitoring/health/ingest-audit`, { minutes: 10 }, signal),
    render: (r) => {
      if (r.signals.length === 0) return null;
      const lost = r.signals.reduce((n, s) => n + s.lost, 0);
      return h(
        'div',
        null,
        h(
          'div',
          { class: 'stats' },
          stat('audit.lost', 'Lost rows', lost, fmtInt(lost), { hint: 'acknowledged by the collector, not in ClickHouse', tone: lost > 0 ? 'bad' : 'good' }),
        ),
        table(
          'ingest-audit',
          r.signals,
          [
            { head: 'Signal', cell: (s) => s.signal },
            { head: 'Acknowledged', cell: (s) => h('span', { 'data-value': s.acknowledged }, fmtInt(s.acknowledged)), class: 'num' },
            { head: 'Landed', cell: (s) => h('span', { 'data-value': s.landed }, fmtInt(s.landed)), class: 'num' },
            { head: 'Lost', cell: (s) => (s.lost > 0 ? badge(fmtInt(s.lost), 'critical') : h('span', { 'data-value': 0 }, '0')), class: 'num' },
            {
              head: 'Unacknowledged',
              title: 'Unacknowledged: rows landed that the collector did not acknowledge (written straight into Kafka, or duplicates).',
              cell: (s) => fmtInt(s.unacknowledged),
              class: 'num',
            },
            {
              head: 'Compared (UTC)',
              title: 'Compared minutes of the latest audit run: minutes younger than the grace period are compared once they settle.',
              cell: (s) => `${utcMinute(s.from)}–${utcMinute(s.to)} (grace ${Math.round(s.graceSeconds / 60)} min)`,
            },
            { head: 'Checked', cell: (s) => fmtAgo(s.checkedAt), class: 'num' },
          ],
          (s) => ({ 'data-signal': s.signal, 'data-lost': String(s.lost) }),
        ),
      );
    },
    empty: {
      message: 'No acknowledgement audit in the last 10 minutes',
      hint: 'The collector compares acknowledged and landed rows every minute, for minutes older than 5 minutes.',
    },
  });
  v.root.append(services.el, h('div', { class: 'grid grid-2' }, databases.el, kafka.el), audit.el, etl.el, quarantine.el);
  v.every(15_000, () => v.refreshAll());
}
