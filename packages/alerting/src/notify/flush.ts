import { z } from 'zod';
import { pgExec, pgMaybeOne, pgRows, type Queryable } from '@tidemark/core';
import { recipientsOf, type NotificationAlert } from '../channels';
import { SEVERITY_RANK, type Severity } from '../rules/schema';
import { bigintColumn, routedAlertColumns, stringMapColumn } from '../state/columns';
import { hashParts } from '../util/hash';
import { loadMutes } from './mute';
import { loadPolicy } from './policy';
import { insertNotification, type NotificationPayload } from './records';

/**
 * Flushing, the second half of the dispatcher: a due group becomes
 * deliveries (one per channel and recipient) in the dispatcher's flush
 * transaction, under the group's row lock, so each flush happens once
 * whichever replica runs it.
 */

/** Alerts listed in one notification; the rest are counted in `omitted`. */
export const MAX_ALERTS_PER_NOTIFICATION = 50;

export interface FlushOptions {
  /** ALERTING_SEND_RESOLVED_AFTER_MUTE: hold a resolve that happened while muted until the mute ends (else drop it). */
  sendResolvedAfterMute: boolean;
}

const LOCK_DUE_GROUP = {
  name: 'lockDueGroup',
  sql: `SELECT project_id, group_key, route_name, channels, group_labels, group_interval_ms, repeat_interval_ms, last_sent_at, repeat_seq, created_at
     FROM alert_groups WHERE project_id = $1 AND group_key = $2 AND next_flush_at <= $3 FOR UPDATE SKIP LOCKED`,
  row: z.object({
    project_id: z.string(),
    group_key: z.string(),
    route_name: z.string(),
    channels: z.array(z.string()),
    group_labels: stringMapColumn,
    group_interval_ms: bigintColumn,
    repeat_interval_ms: bigintColumn,
    last_sent_at: z.date().nullable(),
    repeat_seq: z.number(),
    created_at: z.date(),
  }),
};

const memberRow = routedAlertColumns.extend({ notified: z.boolean(), firing_notified: z.boolean() });
type MemberRow = z.output<typeof memberRow>;

const LOCK_MEMBERS = {
  name: 'lockGroupMembers',
  sql: `SELECT rule_name, fingerprint, episode, kind, status, severity, dedup_key, labels, annotations, value, starts_at, ends_at, notified, firing_notified
     FROM alert_group_alerts WHERE project_id = $1 AND group_key = $2 ORDER BY starts_at, rule_name, fingerprint, episode FOR UPDATE`,
  row: memberRow,
};

const ACKNOWLEDGED = {
  name: 'acknowledgedMembers',
  sql: `SELECT rule_name, fingerprint, episode FROM alert_instances
     WHERE project_id = $1 AND acknowledged_at IS NOT NULL AND (rule_name, fingerprint) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
  row: z.object({ rule_name: z.string(), fingerprint: z.string(), episode: z.number() }),
};

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
export async function flushGroup(client: Queryable, projectId: string, groupKey: string, now: number, opts: FlushOptions): Promise<number> {
  const nowIso = new Date(now).toISOString();
  const group = await pgMaybeOne(client, LOCK_DUE_GROUP, [projectId, groupKey, nowIso]);
  if (!group) return 0;
  const members = await pgRows(client, LOCK_MEMBERS, [projectId, groupKey]);
  const acks = await pgRows(client, ACKNOWLEDGED, [projectId, members.map((m) => m.rule_name), members.map((m) => m.fingerprint)]);
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
      else if (opts.sendResolvedAfterMute) heldBack = true;
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
    const payload: NotificationPayload = {
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
        await pgExec(
          client,
          `UPDATE alert_group_alerts SET notified = true, firing_notified = true
           WHERE project_id = $1 AND group_key = $2 AND rule_name = $3 AND fingerprint = $4 AND episode = $5`,
          [projectId, groupKey, m.rule_name, m.fingerprint, m.episode],
        );
      } else drop.push(m);
    }
  }
  for (const m of drop) {
    await pgExec(client, `DELETE FROM alert_group_alerts WHERE project_id = $1 AND group_key = $2 AND rule_name = $3 AND fingerprint = $4 AND episode = $5`, [
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
    await pgExec(client, 'DELETE FROM alert_groups WHERE project_id = $1 AND group_key = $2', [projectId, groupKey]);
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
  await pgExec(
    client,
    `UPDATE alert_groups SET last_flush_at = $3, next_flush_at = $4, last_sent_at = $5, repeat_seq = repeat_seq + $6
     WHERE project_id = $1 AND group_key = $2`,
    [
      projectId,
      groupKey,
      nowIso,
      next === null ? null : new Date(next).toISOString(),
      lastSent === null ? null : new Date(lastSent).toISOString(),
      sent ? 1 : 0,
    ],
  );
  return queued;
}

/** Key/value pairs every record shares. */
function common(records: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((r) => r[k] === v)) out[k] = v;
  return out;
}
