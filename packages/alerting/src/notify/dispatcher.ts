import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';
import type { Logger } from '@tidemark/core';
import { recipientsOf, type Notification, type NotificationAlert } from '../channels';
import type { Clock } from '../clock';
import { SEVERITY_RANK, type Severity } from '../rules/schema';
import type { InstanceKind } from '../state/types';
import { hashParts, stableJson } from '../util/hash';
import { loadMutes } from './mute';
import { groupLabelsOf, loadPolicy, matchRoutes, type EffectivePolicy } from './policy';
import { insertNotification } from './records';

/** Advisory lock key: one replica routes the outbox at a time, in event order. */
const ROUTING_LOCK = 7_316_102;
/** Alerts listed in one notification; the rest are counted in `omitted`. */
export const MAX_ALERTS_PER_NOTIFICATION = 50;

const holderRow = z.object({ group_key: z.string(), route_name: z.string() });
const updatedRow = z.object({ group_key: z.string() });

/**
 * A group's next flush after a change: group_wait after its creation while it
 * was never flushed, else the end of the group_interval after its last flush
 * (never earlier than an already scheduled flush).
 */
const NEXT_FLUSH_ON_CHANGE = `LEAST(
  COALESCE(alert_groups.next_flush_at, 'infinity'::timestamptz),
  CASE WHEN alert_groups.last_flush_at IS NULL THEN alert_groups.created_at + alert_groups.group_wait_ms * interval '1 millisecond'
       ELSE GREATEST($9::timestamptz, alert_groups.last_flush_at + alert_groups.group_interval_ms * interval '1 millisecond') END)`;

/** Sets an existing group's flush timer after one of its members changed. */
async function touchGroup(client: PoolClient, projectId: string, groupKey: string, nowIso: string): Promise<void> {
  await client.query(
    `UPDATE alert_groups SET next_flush_at = ${NEXT_FLUSH_ON_CHANGE.replace('$9', '$3')} WHERE project_id = $1 AND group_key = $2`,
    [projectId, groupKey, nowIso],
  );
}

interface EventRow {
  id: string;
  project_id: string;
  rule_name: string;
  fingerprint: string;
  kind: InstanceKind;
  status: 'firing' | 'resolved';
  severity: Severity;
  episode: number;
  dedup_key: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  starts_at: Date;
  ends_at: Date | null;
}

interface GroupRow {
  project_id: string;
  group_key: string;
  route_name: string;
  channels: string[];
  group_labels: Record<string, string>;
  group_interval_ms: string;
  repeat_interval_ms: string;
  last_sent_at: Date | null;
  repeat_seq: number;
  created_at: Date;
}

interface MemberRow {
  rule_name: string;
  fingerprint: string;
  episode: number;
  kind: InstanceKind;
  status: 'firing' | 'resolved';
  severity: Severity;
  dedup_key: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  starts_at: Date;
  ends_at: Date | null;
  notified: boolean;
  firing_notified: boolean;
}

/**
 * The middle of the pipeline: outbox events → aggregation groups →
 * deliveries. Both steps are Postgres transactions with no I/O to the
 * outside, so each is all-or-nothing, and row locks make every group flush
 * happen once whichever replica runs it.
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
    const nowIso = new Date(now).toISOString();
    const client = await this.o.meta.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [ROUTING_LOCK]);
      if (!lock.rows[0]?.ok) {
        await client.query('ROLLBACK');
        return 0;
      }
      const { rows: events } = await client.query<EventRow>(
        `SELECT id, project_id, rule_name, fingerprint, kind, status, severity, episode, dedup_key, labels, annotations, value, starts_at, ends_at
         FROM alert_events WHERE routed_at IS NULL ORDER BY id LIMIT $1`,
        [limit],
      );
      if (events.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const policies = new Map<string, EffectivePolicy>();
      for (const e of events) {
        let policy = policies.get(e.project_id);
        if (!policy) {
          policy = await loadPolicy(client, e.project_id);
          policies.set(e.project_id, policy);
        }
        await this.routeEvent(client, policy, e, now);
      }
      await client.query('UPDATE alert_events SET routed_at = $1 WHERE id = ANY($2::bigint[])', [nowIso, events.map((e) => e.id)]);
      await client.query('COMMIT');
      return events.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Routes one event. Severity is part of an instance's routing identity:
   *
   * - A resolve goes to every group that holds the episode (the routes its
   *   firing went to), keeping the severity and labels it fired with there,
   *   whatever the resolving evaluation's labels say. Only when no group
   *   holds it (its firing was never routed) is it routed by its labels.
   * - A firing (first, escalation or de-escalation) goes to the routes its
   *   labels match now. A group of a route that no longer matches gets the
   *   episode as resolved at the severity it had there (the page there is
   *   over); a group of a route that still matches but under other group
   *   labels (group_by with severity) loses the member silently, because the
   *   same route's new group announces the change to the same channels.
   *
   * Invariant: after an event is routed, an episode's member is firing in a
   * group only if the instance's current labels match that group's route,
   * so no group repeats an alert that resolved or moved away.
   */
  private async routeEvent(client: PoolClient, policy: EffectivePolicy, e: EventRow, now: number): Promise<void> {
    const nowIso = new Date(now).toISOString();
    const holders = holderRow.array().parse(
      (
        await client.query(
          `SELECT a.group_key, g.route_name FROM alert_group_alerts a JOIN alert_groups g USING (project_id, group_key)
           WHERE a.project_id = $1 AND a.rule_name = $2 AND a.fingerprint = $3 AND a.episode = $4`,
          [e.project_id, e.rule_name, e.fingerprint, e.episode],
        )
      ).rows,
    );
    if (e.status === 'resolved' && holders.length > 0) {
      // event_id guard: an older event never overwrites a newer one of the same episode.
      const updated = updatedRow.array().parse(
        (
          await client.query(
            `UPDATE alert_group_alerts SET status = 'resolved', dedup_key = $5, annotations = $6, value = $7, ends_at = $8, event_id = $9, notified = false
             WHERE project_id = $1 AND rule_name = $2 AND fingerprint = $3 AND episode = $4 AND event_id < $9 RETURNING group_key`,
            [e.project_id, e.rule_name, e.fingerprint, e.episode, e.dedup_key, JSON.stringify(e.annotations), e.value, e.ends_at?.toISOString() ?? nowIso, e.id],
          )
        ).rows,
      );
      for (const u of updated) await touchGroup(client, e.project_id, u.group_key, nowIso);
      return;
    }
    const targets = new Set<string>();
    const targetRoutes = new Set<string>();
    for (const route of matchRoutes(policy, e.labels)) {
      const groupLabels = groupLabelsOf(route, e.labels);
      const groupKey = hashParts(e.project_id, route.name, stableJson(groupLabels)).slice(0, 32);
      targets.add(groupKey);
      targetRoutes.add(route.name);
      await client.query(
        `INSERT INTO alert_groups (project_id, group_key, route_name, channels, group_labels, group_wait_ms, group_interval_ms, repeat_interval_ms, created_at, next_flush_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (project_id, group_key) DO UPDATE SET
           channels = EXCLUDED.channels, group_wait_ms = EXCLUDED.group_wait_ms,
           group_interval_ms = EXCLUDED.group_interval_ms, repeat_interval_ms = EXCLUDED.repeat_interval_ms,
           next_flush_at = ${NEXT_FLUSH_ON_CHANGE}`,
        [
          e.project_id,
          groupKey,
          route.name,
          route.channels,
          JSON.stringify(groupLabels),
          route.group_wait,
          route.group_interval,
          route.repeat_interval,
          nowIso,
          new Date(now + route.group_wait).toISOString(),
        ],
      );
      // event_id guard: an event never overwrites a newer one of the same instance and episode.
      await client.query(
        `INSERT INTO alert_group_alerts (project_id, group_key, rule_name, fingerprint, episode, kind, status, severity, dedup_key, labels, annotations, value, starts_at, ends_at, event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (project_id, group_key, rule_name, fingerprint, episode) DO UPDATE SET
           status = EXCLUDED.status, severity = EXCLUDED.severity, dedup_key = EXCLUDED.dedup_key, labels = EXCLUDED.labels,
           annotations = EXCLUDED.annotations, value = EXCLUDED.value, ends_at = EXCLUDED.ends_at, event_id = EXCLUDED.event_id, notified = false
         WHERE alert_group_alerts.event_id < EXCLUDED.event_id`,
        [
          e.project_id,
          groupKey,
          e.rule_name,
          e.fingerprint,
          e.episode,
          e.kind,
          e.status,
          e.severity,
          e.dedup_key,
          JSON.stringify(e.labels),
          JSON.stringify(e.annotations),
          e.value,
          e.starts_at.toISOString(),
          e.ends_at?.toISOString() ?? null,
          e.id,
        ],
      );
    }
    if (e.status !== 'firing') return;
    for (const h of holders) {
      if (targets.has(h.group_key)) continue;
      const key = [e.project_id, h.group_key, e.rule_name, e.fingerprint, e.episode, e.id];
      if (targetRoutes.has(h.route_name)) {
        await client.query(
          `DELETE FROM alert_group_alerts WHERE project_id = $1 AND group_key = $2 AND rule_name = $3 AND fingerprint = $4 AND episode = $5 AND event_id < $6`,
          key,
        );
        continue;
      }
      // Left this route: the route hears it resolved at the severity it had there (dropped at
      // flush if that firing was never sent). Its dedup key is the event's, prefixed, so it is
      // unique and never equals a real resolve's key.
      const r = await client.query(
        `UPDATE alert_group_alerts SET status = 'resolved', dedup_key = $7, ends_at = $8, event_id = $6, notified = false
         WHERE project_id = $1 AND group_key = $2 AND rule_name = $3 AND fingerprint = $4 AND episode = $5 AND event_id < $6`,
        [...key, hashParts('left', e.dedup_key, h.group_key).slice(0, 40), nowIso],
      );
      if ((r.rowCount ?? 0) > 0) await touchGroup(client, e.project_id, h.group_key, nowIso);
    }
  }

  /** Flushes every group whose timer is due; returns the deliveries queued. */
  async flushGroups(limit = 200): Promise<number> {
    const now = this.o.clock.now();
    const { rows } = await this.o.meta.query<{ project_id: string; group_key: string }>(
      `SELECT project_id, group_key FROM alert_groups WHERE next_flush_at <= $1 ORDER BY next_flush_at LIMIT $2`,
      [new Date(now).toISOString(), limit],
    );
    let queued = 0;
    for (const g of rows) {
      try {
        queued += await this.flushGroup(g.project_id, g.group_key, now);
      } catch (err) {
        this.o.logger.error({ err, project: g.project_id, group: g.group_key }, 'group flush failed; retried on the next tick');
      }
    }
    return queued;
  }

  private async flushGroup(projectId: string, groupKey: string, now: number): Promise<number> {
    const client = await this.o.meta.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await this.flushLocked(client, projectId, groupKey, now);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * One group flush, under the group's row lock (SKIP LOCKED: a replica
   * that finds it locked leaves it to the one holding it).
   *
   * A notification is queued when the group has changes (an alert newly
   * firing, a severity rise, a resolve of an alert whose firing was sent) or
   * when repeat_interval has passed with unacknowledged firing alerts.
   * Muted alerts (silence, maintenance window) are held back: a firing one
   * is sent once its mute ends; a resolve whose firing was sent is sent once
   * its mute ends (ALERTING_SEND_RESOLVED_AFTER_MUTE, default on; off drops
   * it); a resolve whose firing was never sent is dropped.
   */
  private async flushLocked(client: PoolClient, projectId: string, groupKey: string, now: number): Promise<number> {
    const nowIso = new Date(now).toISOString();
    const { rows: groups } = await client.query<GroupRow>(
      `SELECT project_id, group_key, route_name, channels, group_labels, group_interval_ms, repeat_interval_ms, last_sent_at, repeat_seq, created_at
       FROM alert_groups WHERE project_id = $1 AND group_key = $2 AND next_flush_at <= $3 FOR UPDATE SKIP LOCKED`,
      [projectId, groupKey, nowIso],
    );
    const group = groups[0];
    if (!group) return 0;
    const { rows: members } = await client.query<MemberRow>(
      `SELECT rule_name, fingerprint, episode, kind, status, severity, dedup_key, labels, annotations, value, starts_at, ends_at, notified, firing_notified
       FROM alert_group_alerts WHERE project_id = $1 AND group_key = $2 ORDER BY starts_at, rule_name, fingerprint, episode FOR UPDATE`,
      [projectId, groupKey],
    );
    const { rows: acks } = await client.query<{ rule_name: string; fingerprint: string; episode: number }>(
      `SELECT rule_name, fingerprint, episode FROM alert_instances
       WHERE project_id = $1 AND acknowledged_at IS NOT NULL AND (rule_name, fingerprint) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
      [projectId, members.map((m) => m.rule_name), members.map((m) => m.fingerprint)],
    );
    const acked = new Set(acks.map((a) => `${a.rule_name}\u0000${a.fingerprint}\u0000${a.episode}`));
    const isAcked = (m: MemberRow): boolean => acked.has(`${m.rule_name}\u0000${m.fingerprint}\u0000${m.episode}`);
    const mutes = await loadMutes(client, projectId, now);

    const changes: MemberRow[] = [];
    const drop: MemberRow[] = [];
    const context: MemberRow[] = [];
    let heldBack = false;
    for (const m of members) {
      const muted = mutes.mutedBy(m.labels) !== null;
      if (m.status === 'firing') {
        if (!m.notified) {
          if (muted) heldBack = true;
          else changes.push(m);
        } else if (!muted) context.push(m);
      } else if (!m.notified) {
        // A resolve of a firing nobody got is dropped. One whose firing was sent is held while
        // muted and sent when the mute ends (default), so whoever was paged hears it cleared.
        if (!m.firing_notified) drop.push(m);
        else if (!muted) changes.push(m);
        else if (this.o.sendResolvedAfterMute ?? true) heldBack = true;
        else drop.push(m);
      } else drop.push(m);
    }
    const intervalMs = Number(group.group_interval_ms);
    const repeatMs = Number(group.repeat_interval_ms);
    const repeatable = context.filter((m) => !isAcked(m));
    const repeatDue = changes.length === 0 && repeatable.length > 0 && group.last_sent_at !== null && now - group.last_sent_at.getTime() >= repeatMs;

    let queued = 0;
    if (changes.length > 0 || repeatDue) {
      // A change notification shows the group's whole current state; a repeat only what is still unacknowledged.
      const listed = changes.length > 0 ? [...changes, ...context] : repeatable;
      const changeKeys = new Set(changes.map((m) => m.dedup_key));
      const alerts: NotificationAlert[] = listed
        .map((m) => ({
          rule: m.rule_name,
          fingerprint: m.fingerprint,
          kind: m.kind,
          status: m.status,
          severity: m.severity,
          labels: m.labels,
          annotations: m.annotations,
          value: m.value,
          startsAt: m.starts_at.toISOString(),
          endsAt: m.ends_at?.toISOString() ?? null,
          dedupKey: m.dedup_key,
          isNew: changeKeys.has(m.dedup_key),
          acknowledged: isAcked(m),
        }))
        .sort((a, b) => Number(b.isNew) - Number(a.isNew) || (a.status === b.status ? 0 : a.status === 'firing' ? -1 : 1));
      const shown = alerts.slice(0, MAX_ALERTS_PER_NOTIFICATION);
      const firing = alerts.filter((a) => a.status === 'firing');
      const sevFrom = firing.length > 0 ? firing : alerts;
      const severity = sevFrom.reduce<Severity>((s, a) => (SEVERITY_RANK[a.severity] > SEVERITY_RANK[s] ? a.severity : s), 'INFO');
      const seq = group.repeat_seq + 1;
      const payload: Omit<Notification, 'id' | 'idempotencyKey' | 'recipient'> = {
        projectId,
        groupKey,
        groupLabels: group.group_labels,
        status: firing.length > 0 ? 'firing' : 'resolved',
        severity,
        alerts: shown,
        firingCount: firing.length,
        resolvedCount: alerts.length - firing.length,
        omitted: alerts.length - shown.length,
        commonLabels: common(alerts.map((a) => a.labels)),
        commonAnnotations: common(alerts.map((a) => a.annotations)),
        isRepeat: changes.length === 0,
        isTest: false,
        createdAt: nowIso,
      };
      // A group that emptied and formed again restarts repeat_seq: its creation time keeps repeat keys unique.
      const basis = changes.length > 0 ? `changes:${[...changeKeys].sort().join(',')}` : `repeat:${group.created_at.getTime()}:${seq}`;
      const policy = await loadPolicy(client, projectId);
      for (const channel of group.channels) {
        const config = policy.channels.get(channel);
        // A channel missing from the policy still gets a delivery: it fails permanently and visibly.
        for (const recipient of config ? recipientsOf(config) : [undefined]) {
          const key = hashParts(projectId, groupKey, channel, recipient ?? '', basis).slice(0, 40);
          const id = await insertNotification(client, {
            projectId,
            groupKey,
            channel,
            channelType: config?.type ?? 'unknown',
            recipient: recipient ?? null,
            idempotencyKey: key,
            dedupKeys: [...changeKeys],
            payload,
            status: 'pending',
            at: nowIso,
            isTest: false,
            leaseOwner: null,
          });
          if (id !== undefined) queued++;
        }
      }
      for (const m of changes) {
        if (m.status === 'firing') {
          await client.query(
            `UPDATE alert_group_alerts SET notified = true, firing_notified = true
             WHERE project_id = $1 AND group_key = $2 AND rule_name = $3 AND fingerprint = $4 AND episode = $5`,
            [projectId, groupKey, m.rule_name, m.fingerprint, m.episode],
          );
        } else drop.push(m);
      }
    }
    for (const m of drop) {
      await client.query(`DELETE FROM alert_group_alerts WHERE project_id = $1 AND group_key = $2 AND rule_name = $3 AND fingerprint = $4 AND episode = $5`, [
        projectId,
        groupKey,
        m.rule_name,
        m.fingerprint,
        m.episode,
      ]);
    }
    const remaining = members.filter((m) => !drop.includes(m));
    const sent = queued > 0 || changes.length > 0 || repeatDue;
    const lastSent = sent ? now : (group.last_sent_at?.getTime() ?? null);
    if (remaining.length === 0) {
      await client.query('DELETE FROM alert_groups WHERE project_id = $1 AND group_key = $2', [projectId, groupKey]);
      return queued;
    }
    // Next wake-up: soon while something is held back by a mute; at the repeat time while anything fires.
    let next: number | null = null;
    if (heldBack) next = now + intervalMs;
    else if (remaining.some((m) => m.status === 'firing')) {
      next = (lastSent ?? now) + repeatMs;
      // Everything acknowledged or muted: look again a repeat interval from now (a new event reschedules sooner).
      if (next <= now) next = now + repeatMs;
    }
    await client.query(
      `UPDATE alert_groups SET last_flush_at = $3, next_flush_at = $4, last_sent_at = $5, repeat_seq = repeat_seq + $6
       WHERE project_id = $1 AND group_key = $2`,
      [projectId, groupKey, nowIso, next === null ? null : new Date(next).toISOString(), lastSent === null ? null : new Date(lastSent).toISOString(), sent ? 1 : 0],
    );
    return queued;
  }
}

/** Key/value pairs every record shares. */
function common(records: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((r) => r[k] === v)) out[k] = v;
  return out;
}
