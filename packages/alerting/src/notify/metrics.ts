import type { Pool } from 'pg';
import { z } from 'zod';
import { Gauge, counter, pgRows, type Counter, type Registry } from '@tidemark/core';

const PENDING_AGE = 'tidemark_alerting_notification_pending_age_seconds';

const PENDING_AGES = {
  name: 'pendingDeliveryAges',
  sql: `SELECT channel_type AS type, channel, EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS age
               FROM alert_notifications WHERE status IN ('pending', 'sending') AND NOT is_test GROUP BY channel_type, channel`,
  row: z.object({ type: z.string(), channel: z.string(), age: z.number() }),
};

/**
 * Notification metrics per channel (labels: channel type and channel name):
 * deliveries sent, failed (permanent, given up, or partial), retried attempts,
 * and the age of the oldest unfinished delivery, read from Postgres at scrape
 * time so every replica reports the same queue.
 */
export class NotificationMetrics {
  readonly sent: Counter<string>;
  readonly failed: Counter<string>;
  readonly retried: Counter<string>;

  constructor(registry: Registry, meta: Pool) {
    const labels = ['type', 'channel'];
    this.sent = counter(registry, 'tidemark_alerting_notifications_sent_total', 'Notification deliveries the receiver accepted', labels);
    this.failed = counter(
      registry,
      'tidemark_alerting_notifications_failed_total',
      'Notification deliveries that failed permanently, gave up or were accepted for only some recipients',
      labels,
    );
    this.retried = counter(
      registry,
      'tidemark_alerting_notifications_retried_total',
      'Notification send attempts that failed retriably (retried in the round or rescheduled)',
      labels,
    );
    if (!registry.getSingleMetric(PENDING_AGE)) {
      // A gauge with a collect callback (the registry helper `gauge` has none): the value is a query, not an event count.
      new Gauge({
        name: PENDING_AGE,
        help: 'Age of the oldest pending or sending notification delivery, per channel (0 when none)',
        labelNames: labels,
        registers: [registry],
        async collect() {
          try {
            const rows = await pgRows(meta, PENDING_AGES);
            this.reset();
            for (const r of rows) this.set({ type: r.type, channel: r.channel }, Math.max(0, Number(r.age)));
          } catch {
            // A scrape must not fail because Postgres is briefly away; the last values stay.
          }
        },
      });
    }
  }
}
