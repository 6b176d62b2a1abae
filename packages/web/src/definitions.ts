/**
 * One-line definitions of the figures the dashboard shows, by stat id (the
 * same text as docs/api.md's Definitions). stat() puts them in the figure's
 * title, so resting the pointer on any figure says what it counts.
 */
export const STAT_DEFINITIONS: Readonly<Record<string, string>> = {
  'realtime.events_per_second':
    'Events / s: events whose time is in the last complete minute, divided by 60 (by event time, so backfilled history does not count).',
  'realtime.events_this_minute': 'This minute: events whose time is in the current minute so far (partial).',
  'realtime.active_sessions': 'Active sessions: distinct session ids of events in the last 5 minutes.',
  'realtime.online_agents': 'Agents online: latest agents_online / agents_total metric.',
  'ingest.lag_ms': "Ingest lag: now − received_at of the newest event that landed, by ClickHouse's clock.",
  'ingest.events_15m':
    'Events, 15 min: live events received in the last 15 minutes that also happened in them (replayed history with backfill: true excluded); p95 client → collector: 95th percentile of received_at − timestamp over those events.',
  'ingest.kafka_lag': 'Kafka consumer lag: messages in the ingest topics not yet committed by the consumers (end offset − committed offset, summed).',
  'alerts.active': 'Active: alerts pending or firing now.',
  'alerts.firing': 'Firing: alerts whose condition held for the rule’s for-duration and that are still true.',
  'alerts.pending': 'Pending: alerts whose condition is true but not yet for the rule’s for-duration.',
  'alerts.acknowledged': 'Acknowledged: active alerts someone acknowledged.',
  'preview.evaluations': 'Evaluations: times the rule was evaluated over the chosen window in the backtest.',
  'preview.episodes': 'Would have fired: episodes in which the backtested rule reached firing.',
  'preview.errors': 'Errors: evaluations of the backtest that failed.',
  'health.services_up': 'Services up: health-checked targets whose latest check succeeded / all targets.',
  'audit.lost':
    'Lost rows: rows the collector acknowledged minus rows landed in ClickHouse, per signal, over the minutes the latest audit run compared (older than its grace period); positive only.',
  'kafka.lag_total': 'Total lag: end offset − committed offset over every consumer group, topic and partition.',
  'customers.total': 'Customers: every current (not deleted) customer row of biz_customers_v1, whatever the window.',
  'customers.new': 'New: customers whose created_at is within the window.',
  'customers.active': 'Active: distinct customers with a service record created within the window.',
  'orders.total': 'Orders: orders created within the window, every status.',
  'orders.gross': 'Gross revenue: sum of amount of every order created within the window, whatever its status (pending, cancelled and refunded too).',
  'orders.net':
    'Net revenue: sum of amount of the orders created within the window whose status is one of BUSINESS_NET_ORDER_STATUSES (default paid, completed).',
  'orders.net_orders': 'Net orders: orders created within the window in a net status.',
  'orders.avg': 'Average net order: net revenue / net orders.',
  'revenue.total':
    'Net revenue: sum of amount of the orders created within the window whose status is one of BUSINESS_NET_ORDER_STATUSES (default paid, completed).',
  'revenue.orders': 'Net orders: orders created within the window in a net status.',
  'revenue.gross': 'Gross revenue: sum of amount of every order created within the window, whatever its status (pending, cancelled and refunded too).',
  'records.total': 'Records: service records created within the window.',
  'records.open': 'Open: records of the window without resolved_at.',
  'records.overdue': 'Overdue: open records whose due_at has passed.',
  'records.resolution_rate': 'Resolved: resolved records / records of the window, in percent.',
  'records.avg_resolution_hours': 'Avg resolution: mean hours from created_at to resolved_at of the resolved records.',
  'records.avg_satisfaction': 'Satisfaction: mean rating (1-5) of the rated records.',
};
