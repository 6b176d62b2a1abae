import type { Pool } from 'pg';
import { z } from 'zod';
import { pgExec, pgOne, pgRows, rollback, withTransaction, type Logger } from '@tidemark/core';
import type { Clock } from '../clock';
import { flushGroup } from './flush';
import { loadPolicy, type EffectivePolicy } from './policy';
import { eventRow, routeEvent } from './route';

export { MAX_ALERTS_PER_NOTIFICATION } from './flush';

/** Advisory lock key: one replica routes the outbox at a time, in event order. */
const ROUTING_LOCK = 7_316_102;

const TRY_ROUTING_LOCK = { name: 'tryRoutingLock', sql: 'SELECT pg_try_advisory_xact_lock($1) AS ok', row: z.object({ ok: z.boolean() }) };
const UNROUTED_EVENTS = {
  name: 'unroutedEvents',
  sql: `SELECT id, project_id, rule_name, fingerprint, kind, status, severity, episode, dedup_key, labels, annotations, value, starts_at, ends_at
         FROM alert_events WHERE routed_at IS NULL ORDER BY id LIMIT $1`,
  row: eventRow,
};
const DUE_GROUPS = {
  name: 'dueGroups',
  sql: `SELECT project_id, group_key FROM alert_groups WHERE next_flush_at <= $1 ORDER BY next_flush_at LIMIT $2`,
  row: z.object({ project_id: z.string(), group_key: z.string() }),
};

/**
 * The middle of the pipeline: outbox events → aggregation groups
 * (notify/route.ts) → deliveries (notify/flush.ts). Both steps are Postgres
 * transactions with no I/O to the outside, so each is all-or-nothing, and
 * row locks make every group flush happen once whichever replica runs it.
 */
export class Dispatcher {
  constructor(
    private readonly o: {
      meta: Pool;
      clock: Clock;
      logger: Logger;
      /** ALERTING_SEND_RESOLVED_AFTER_MUTE: hold a resolve that happened while muted until the mute ends (else drop it). */
      sendResolvedAfterMute?: boolean;
    },
  ) {}

  /**
   * Puts new outbox events into their groups (route × group_by values) and
   * sets the groups' flush timers: group_wait for a new group, the end of
   * the group_interval after the last flush for an existing one.
   */
  async routeEvents(limit = 500): Promise<number> {
    const now = this.o.clock.now();
    return withTransaction(this.o.meta, async (client) => {
      // Another replica is routing: its pass covers these events.
      if (!(await pgOne(client, TRY_ROUTING_LOCK, [ROUTING_LOCK])).ok) return rollback(0);
      const events = await pgRows(client, UNROUTED_EVENTS, [limit]);
      if (events.length === 0) return 0;
      const policies = new Map<string, EffectivePolicy>();
      for (const e of events) {
        let policy = policies.get(e.project_id);
        if (!policy) {
          policy = await loadPolicy(client, e.project_id);
          policies.set(e.project_id, policy);
        }
        await routeEvent(client, policy, e, now);
      }
      await pgExec(client, 'UPDATE alert_events SET routed_at = $1 WHERE id = ANY($2::bigint[])', [new Date(now).toISOString(), events.map((e) => e.id)]);
      return events.length;
    });
  }

  /** Flushes every group whose timer is due; returns the deliveries queued. */
  async flushGroups(limit = 200): Promise<number> {
    const now = this.o.clock.now();
    const due = await pgRows(this.o.meta, DUE_GROUPS, [new Date(now).toISOString(), limit]);
    const opts = { sendResolvedAfterMute: this.o.sendResolvedAfterMute ?? true };
    let queued = 0;
    for (const g of due) {
      try {
        queued += await withTransaction(this.o.meta, (client) => flushGroup(client, g.project_id, g.group_key, now, opts));
      } catch (err) {
        this.o.logger.error({ err, project: g.project_id, group: g.group_key }, 'group flush failed; retried on the next tick');
      }
    }
    return queued;
  }
}
