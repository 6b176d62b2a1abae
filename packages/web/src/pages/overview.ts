/**
 * Overview: is data flowing, how fast, what is it, and is anything wrong.
 * Events/s and active sessions (realtime counters), ingest lag (age of the
 * newest landed event; Kafka consumer lag when Kafka is used), events per
 * minute against the hour before, top events of 24 hours, active alerts.
 */
import { activeAlerts } from '../alerts-api';
import { AM, get, sql, timeseries, type ApiAnswer, type ApiItem } from '../api';
import { hasValues, timeChart } from '../chart';
import { badge, barList, h, stat } from '../dom';
import { fmtAgo, fmtInt, fmtMs, fmtNum } from '../format';
import { hrefOf } from '../router';
import type { View } from '../view';

type Realtime = ApiAnswer<'/api/analytics-monitoring/realtime/overview', 'get'>;
type MetricRow = ApiItem<'/api/analytics-monitoring/monitoring/metrics/database', 'metrics'>;

export function overviewPage(v: View): void {
  const grid = h('div', { class: 'grid grid-stats' });
  v.root.append(h('h1', { class: 'page-title' }, 'Overview'), grid);

  const realtime = v.panel({
    id: 'realtime',
    title: 'Right now',
    load: (signal) => get<Realtime>(`${AM}/realtime/overview`, {}, signal),
    render: (r) =>
      h(
        'div',
        { class: 'stats' },
        stat('realtime.events_per_second', 'Events / s', r.events_last_minute, fmtNum(r.events_last_minute / 60, 1), {
          hint: `${fmtInt(r.events_last_minute)} in the last minute`,
          definition: 'Events / s: events whose time is in the last complete minute, divided by 60 (by event time, so backfilled history does not count).',
        }),
        stat('realtime.events_this_minute', 'This minute', r.events_this_minute, fmtInt(r.events_this_minute), {
          hint: 'still filling',
          partial: true,
          definition: 'This minute: events whose time is in the current minute so far (partial).',
        }),
        stat('realtime.active_sessions', 'Active sessions', r.active_sessions, fmtInt(r.active_sessions), {
          hint: 'last 5 minutes',
          definition: 'Active sessions: distinct session ids of events in the last 5 minutes.',
        }),
        r.total_agents !== null
          ? stat('realtime.online_agents', 'Agents online', r.online_agents, `${fmtInt(r.online_agents)} / ${fmtInt(r.total_agents)}`, {
              definition: 'Agents online: latest agents_online / agents_total metric.',
            })
          : null,
      ),
  });

  const ingest = v.panel({
    id: 'ingest',
    title: 'Ingestion',
    load: async (signal) => {
      // Age of the newest event that landed, measured by ClickHouse's clock (the same clock that stamped received_at).
      // Events and client-to-collector delay only of live events: ones that happened in the last 15 minutes and are not
      // replayed history (property backfill: true, as the demo's history carries) — history is not traffic and not a delay.
      const [row] = await sql<{ events: string; freshness_ms: string | null; delivery_p95_ms: number | null }>(
        `SELECT countIf(live) AS events,
                if(count() = 0, NULL, dateDiff('millisecond', max(received_at), now64(3))) AS freshness_ms,
                quantileIf(0.95)(dateDiff('millisecond', timestamp, received_at), live) AS delivery_p95_ms
         FROM (SELECT received_at, timestamp, timestamp > now() - INTERVAL 15 MINUTE AND NOT JSONExtractBool(properties, 'backfill') AS live
               FROM events_raw_v1 WHERE received_at > now() - INTERVAL 15 MINUTE)`,
        signal,
      );
      const db = await get<{ metrics: MetricRow[] }>(`${AM}/monitoring/metrics/database`, {}, signal);
      const lag = db.metrics.filter((m) => m.name === 'kafka_consumer_lag');
      return {
        events: Number(row?.events ?? 0),
        freshnessMs: row?.freshness_ms === null || row?.freshness_ms === undefined ? null : Math.max(0, Number(row.freshness_ms)),
        deliveryP95: row?.delivery_p95_ms ?? null,
        kafkaLag: lag.length ? lag.reduce((n, m) => n + m.value, 0) : null,
      };
    },
    render: (r) =>
      h(
        'div',
        { class: 'stats' },
        stat('ingest.lag_ms', 'Ingest lag', r.freshnessMs, r.freshnessMs === null ? 'no events' : fmtMs(r.freshnessMs), {
          hint: r.freshnessMs === null ? 'nothing received in 15 minutes' : 'since the newest event landed',
          definition: "Ingest lag: now − received_at of the newest event that landed, by ClickHouse's clock.",
          tone: r.freshnessMs === null ? 'warn' : r.freshnessMs > 120_000 ? 'bad' : 'good',
        }),
        stat('ingest.events_15m', 'Events, 15 min', r.events, fmtInt(r.events), {
          hint: r.deliveryP95 === null || !Number.isFinite(r.deliveryP95) ? '' : `p95 client → collector ${fmtMs(r.deliveryP95)}`,
          definition:
            'Events, 15 min: live events received in the last 15 minutes that also happened in them (replayed history with backfill: true excluded); p95 client → collector: 95th percentile of received_at − timestamp over those events.',
        }),
        r.kafkaLag !== null
          ? stat('ingest.kafka_lag', 'Kafka consumer lag', r.kafkaLag, fmtInt(r.kafkaLag), { hint: 'messages behind', tone: r.kafkaLag > 10_000 ? 'bad' : '' })
          : null,
      ),
  });

  const alerts = v.panel({
    id: 'overview-alerts',
    title: 'Active alerts',
    actions: [h('a', { href: hrefOf('alerts'), class: 'link' }, 'All alerts →')],
    load: (signal) => activeAlerts(signal),
    render: (list) =>
      h(
        'div',
        null,
        h(
          'div',
          { class: 'stats' },
          stat('alerts.firing', 'Firing', list.filter((a) => a.state === 'firing').length, fmtInt(list.filter((a) => a.state === 'firing').length), {
            tone: list.some((a) => a.state === 'firing') ? 'bad' : 'good',
          }),
          stat('alerts.pending', 'Pending', list.filter((a) => a.state === 'pending').length, fmtInt(list.filter((a) => a.state === 'pending').length)),
        ),
        list.length === 0
          ? h('p', { class: 'muted' }, 'Nothing is firing.')
          : h(
              'ul',
              { class: 'alert-mini' },
              ...list
                .slice(0, 5)
                .map((a) =>
                  h(
                    'li',
                    null,
                    badge(a.severity, a.severity.toLowerCase()),
                    ' ',
                    h('a', { href: hrefOf('alerts', { rule: a.rule }) }, a.rule),
                    ' ',
                    h('span', { class: 'muted' }, a.annotations.summary ?? Object.values(a.labels).join(', ')),
                    ' ',
                    h('span', { class: 'muted' }, fmtAgo(a.activeSince)),
                  ),
                ),
            ),
      ),
  });
  grid.append(realtime.el, ingest.el, alerts.el);

  const perMinute = v.panel({
    id: 'events-per-minute',
    title: 'Events per minute, last hour',
    actions: [h('a', { href: hrefOf('events', { range: '1h', interval: '1m', compare: '1' }), class: 'link' }, 'Explore →')],
    class: 'panel-wide',
    load: (signal) => timeseries({ measures: [{ type: 'count', alias: 'events' }], range: { last: '1h' }, interval: '1m', compare: 'previous_period' }, signal),
    render: (r) => {
      const cur = r.series[0]?.points ?? [];
      const prev = r.previous?.[0]?.points ?? [];
      const series = [
        { label: 'Events', values: cur.map((p) => p.events ?? null), fill: true },
        { label: 'Hour before', values: cur.map((_, i) => prev[i]?.events ?? null), dash: true, color: '#9ca3af' },
      ];
      if (!hasValues(series.slice(0, 1)) || cur.every((p) => !p.events)) return null;
      return timeChart({ id: 'events-per-minute', xs: cur.map((p) => p.t), series, format: (x) => fmtInt(x) });
    },
    empty: {
      message: 'No events in the last hour',
      hint: h('span', null, 'Send some to the collector (POST /v1/events), or start with ', h('code', null, '--demo'), '.'),
    },
  });

  const top = v.panel({
    id: 'top-events',
    title: 'Top events, last 24 hours',
    load: (signal) =>
      timeseries({ measures: [{ type: 'count', alias: 'events' }], dimensions: ['name'], range: { last: '24h' }, interval: '1h', limit: 10 }, signal),
    render: (r) => {
      const rows = r.series
        .map((s) => ({ name: s.dimensions.name ?? '', total: s.points.reduce((n, p) => n + (p.events ?? 0), 0) }))
        .filter((s) => s.total > 0);
      if (rows.length === 0) return null;
      return barList(
        'top-events',
        rows.map((s) => ({ label: s.name, value: s.total, text: fmtInt(s.total), href: hrefOf('events', { f: [`name:is:${s.name}`], range: '24h' }) })),
      );
    },
    empty: { message: 'No events in the last 24 hours' },
  });
  v.root.append(h('div', { class: 'grid grid-2' }, perMinute.el, top.el));

  v.every(10_000, () => {
    void realtime.reload();
    void ingest.reload();
  });
  v.every(30_000, () => {
    void alerts.reload();
    void perMinute.reload();
    void top.reload();
  });
}
