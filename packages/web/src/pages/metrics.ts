/**
 * Metrics: system health of every host the monitor samples, and service
 * health from the request samples the SDK middleware records
 * (http_request_duration_ms, one sample per request, labels service, route,
 * method, status): requests, error rate (5xx), latency percentiles.
 */
import { AM, get, sql, timeseries, type ApiItem, type Filter } from '../api';
import { hasValues, timeChart } from '../chart';
import { h, stat, table } from '../dom';
import { fmtBytes, fmtInt, fmtMs, fmtNum, fmtPct } from '../format';
import { hrefOf, pick, withParams } from '../router';
import type { View } from '../view';

const RANGES = ['15m', '1h', '6h', '24h', '7d'] as const;
const RANGE_SQL: Record<(typeof RANGES)[number], string> = { '15m': '15 MINUTE', '1h': '1 HOUR', '6h': '6 HOUR', '24h': '24 HOUR', '7d': '7 DAY' };
const REQUEST_METRIC = 'http_request_duration_ms';

type MetricRow = ApiItem<'/api/analytics-monitoring/monitoring/metrics/system', 'metrics'>;

interface ServiceRow {
  service: string;
  requests: string;
  errors: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export function metricsPage(v: View): void {
  const range = pick(v.params, 'range', RANGES, '1h');
  const serviceRaw = v.params.get('service') ?? '';
  const service = /^[\w.:/-]{1,200}$/.test(serviceRaw) ? serviceRaw : '';
  const filter: Filter = service
    ? {
        and: [
          { field: 'name', op: 'is', value: REQUEST_METRIC },
          { field: 'labels.service', op: 'is', value: service },
        ],
      }
    : { field: 'name', op: 'is', value: REQUEST_METRIC };

  const rangeSel = h('select', { name: 'range', id: 'ctl-range' }, ...RANGES.map((r) => h('option', { value: r }, `Last ${r}`)));
  rangeSel.value = range;
  rangeSel.addEventListener('change', () => v.go(withParams(v.params, { range: rangeSel.value === '1h' ? null : rangeSel.value })));
  v.root.append(
    h('h1', { class: 'page-title' }, 'Metrics'),
    h(
      'section',
      { class: 'panel panel-controls' },
      h(
        'div',
        { class: 'controls' },
        h('label', { class: 'ctl' }, h('span', null, 'Range'), rangeSel),
        service
          ? h(
              'span',
              { class: 'chip', 'data-filter': `service:${service}` },
              `service = ${service}`,
              h('a', { class: 'chip-x', href: hrefOf('metrics', withParams(v.params, { service: null })), 'aria-label': 'All services' }, '×'),
            )
          : null,
      ),
    ),
  );

  const system = v.panel({
    id: 'system',
    title: 'System',
    load: (signal) => get<{ metrics: MetricRow[] }>(`${AM}/monitoring/metrics/system`, { minutes: 10 }, signal),
    render: (r) => {
      const hosts = new Map<string, Map<string, number>>();
      for (const m of r.metrics) {
        const host = m.labels.host ?? '';
        if (!hosts.has(host)) hosts.set(host, new Map());
        hosts.get(host)!.set(m.name, m.value);
      }
      if (hosts.size === 0) return null;
      return h(
        'div',
        { class: 'hosts' },
        ...[...hosts].map(([host, m]) => {
          const val = (n: string): number | null => m.get(n) ?? null;
          const pctTone = (x: number | null, warn: number, bad: number): 'good' | 'warn' | 'bad' | '' =>
            x === null ? '' : x >= bad ? 'bad' : x >= warn ? 'warn' : 'good';
          return h(
            'div',
            { class: 'host', 'data-host': host },
            h('h3', null, host || 'host'),
            h(
              'div',
              { class: 'stats' },
              stat(`system.${host}.cpu`, 'CPU', val('system_cpu_percent'), fmtPct(val('system_cpu_percent')), {
                tone: pctTone(val('system_cpu_percent'), 80, 95),
              }),
              stat(`system.${host}.memory`, 'Memory', val('system_memory_percent'), fmtPct(val('system_memory_percent')), {
                tone: pctTone(val('system_memory_percent'), 85, 95),
              }),
              stat(`system.${host}.disk`, 'Disk used', val('system_disk_used_percent'), fmtPct(val('system_disk_used_percent')), {
                tone: pctTone(val('system_disk_used_percent'), 85, 95),
              }),
              stat(`system.${host}.load1`, 'Load (1 min)', val('system_load1'), fmtNum(val('system_load1'), 2), {
                hint: `5 min ${fmtNum(val('system_load5'), 2)} · 15 min ${fmtNum(val('system_load15'), 2)}`,
              }),
              stat(`system.${host}.processes`, 'Processes', val('system_processes'), fmtInt(val('system_processes'))),
              stat(`system.${host}.rx`, 'Network in', val('system_network_rx_bytes_total'), fmtBytes(val('system_network_rx_bytes_total')), {
                hint: 'total received',
              }),
            ),
          );
        }),
      );
    },
    empty: {
      message: 'No system metrics in the last 10 minutes',
      hint: 'The monitor role samples them (MONITOR_SYSTEM_INTERVAL_MS); it needs a fixed COLLECTOR_PORT or MONITOR_COLLECTOR_URL.',
    },
  });

  const services = v.panel({
    id: 'services',
    title: `Services, last ${range}`,
    class: 'panel-wide',
    // Exact percentiles over the whole window from the raw samples (the rollups keep them per interval).
    load: (signal) =>
      sql<ServiceRow>(
        `SELECT labels['service'] AS service, count() AS requests, countIf(toUInt16OrZero(labels['status']) >= 500) AS errors,
                quantile(0.5)(value) AS p50, quantile(0.95)(value) AS p95, quantile(0.99)(value) AS p99
         FROM metrics_raw_v1
         WHERE name = '${REQUEST_METRIC}' AND timestamp > now() - INTERVAL ${RANGE_SQL[range]}
         GROUP BY service ORDER BY requests DESC, service LIMIT 50`,
        signal,
      ),
    render: (rows) => {
      if (rows.length === 0) return null;
      return table(
        'services',
        rows,
        [
          { head: 'Service', cell: (r) => h('a', { href: hrefOf('metrics', withParams(v.params, { service: r.service })) }, r.service || '(none)') },
          {
            head: 'Requests',
            title: 'Requests: http_request_duration_ms samples (one per request) of the service in the range.',
            cell: (r) => h('span', { 'data-value': r.requests }, fmtInt(Number(r.requests))),
            class: 'num',
          },
          {
            head: 'Error rate',
            title: 'Error rate: requests with status 5xx / all requests of the range, in percent.',
            cell: (r) => {
              const rate = Number(r.requests) > 0 ? (Number(r.errors) / Number(r.requests)) * 100 : 0;
              return h('span', { 'data-value': rate.toFixed(4), class: rate >= 5 ? 'bad' : rate >= 1 ? 'warn' : '' }, fmtPct(rate, 2));
            },
            class: 'num',
          },
          { head: 'p50', title: 'p50: median request duration over the whole range (exact, from the raw samples).', cell: (r) => fmtMs(r.p50), class: 'num' },
          {
            head: 'p95',
            title: 'p95: 95th percentile of request duration over the whole range (exact, from the raw samples), not an average of intervals.',
            cell: (r) => h('span', { 'data-value': r.p95 ?? '' }, fmtMs(r.p95)),
            class: 'num',
          },
          {
            head: 'p99',
            title: 'p99: 99th percentile of request duration over the whole range (exact, from the raw samples).',
            cell: (r) => fmtMs(r.p99),
            class: 'num',
          },
        ],
        (r) => ({ 'data-service': r.service, ...(r.service === service ? { class: 'selected' } : {}) }),
      );
    },
    empty: {
      message: `No requests recorded in the last ${range}`,
      hint: 'Services report them with the SDK middleware (http_request_duration_ms); see docs/sdk.md.',
    },
  });

  const latency = v.panel({
    id: 'latency',
    title: `Latency percentiles${service ? ` · ${service}` : ''}`,
    load: (signal) =>
      timeseries(
        {
          signal: 'metrics',
          measures: [
            { type: 'p50', alias: 'p50' },
            { type: 'p95', alias: 'p95' },
            { type: 'p99', alias: 'p99' },
          ],
          filter,
          range: { last: range },
          interval: 'auto',
        },
        signal,
      ),
    render: (r) => {
      const pts = r.series[0]?.points ?? [];
      const series = [
        { label: 'p50', values: pts.map((p) => p.p50 ?? null), color: '#16a34a' },
        { label: 'p95', values: pts.map((p) => p.p95 ?? null), color: '#ea580c' },
        { label: 'p99', values: pts.map((p) => p.p99 ?? null), color: '#dc2626' },
      ];
      return hasValues(series) ? timeChart({ id: 'latency', xs: pts.map((p) => p.t), series, format: fmtMs }) : null;
    },
    empty: { message: 'No request latencies in this range' },
  });

  const errors = v.panel({
    id: 'errors',
    title: `Requests and error rate${service ? ` · ${service}` : ''}`,
    load: (signal) =>
      timeseries(
        {
          signal: 'metrics',
          measures: [{ type: 'count', alias: 'n' }],
          dimensions: ['labels.status'],
          filter,
          range: { last: range },
          interval: 'auto',
          limit: 100,
        },
        signal,
      ),
    render: (r) => {
      const xs = r.series[0]?.points.map((p) => p.t) ?? [];
      const total = xs.map(() => 0);
      const failed = xs.map(() => 0);
      for (const s of r.series) {
        const is5xx = Number(s.dimensions['labels.status']) >= 500;
        s.points.forEach((p, i) => {
          total[i]! += p.n ?? 0;
          if (is5xx) failed[i]! += p.n ?? 0;
        });
      }
      if (total.every((x) => x === 0)) return null;
      const rate = total.map((t, i) => (t > 0 ? (failed[i]! / t) * 100 : null));
      return h(
        'div',
        { class: 'chart-pair' },
        timeChart({
          id: 'requests',
          xs,
          series: [
            { label: 'Requests', values: total, color: '#2563eb' },
            { label: '5xx', values: failed, color: '#dc2626' },
          ],
          bars: false,
          format: fmtInt,
          height: 180,
        }),
        timeChart({
          id: 'error-rate',
          xs,
          series: [{ label: 'Error rate', values: rate, color: '#dc2626', fill: true }],
          format: (x) => fmtPct(x, 1),
          height: 160,
        }),
      );
    },
    empty: { message: 'No requests in this range' },
  });
  v.root.append(system.el, services.el, h('div', { class: 'grid grid-2' }, latency.el, errors.el));
  v.every(30_000, () => v.refreshAll());
}
