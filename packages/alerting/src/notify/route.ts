import { z } from 'zod';
import { pgExec, pgRows, type Queryable } from '@tidemark/core';
import { bigintColumn, routedAlertColumns } from '../state/columns';
import { hashParts, stableJson } from '../util/hash';
import { groupLabelsOf, matchRoutes, type EffectivePolicy } from './policy';

/**
 * Routing, the first half of the dispatcher: an outbox event goes into the
 * aggregation groups (route x group_by values) of the routes it matches,
 * and the groups' flush timers are set. Runs inside the dispatcher's
 * routing transaction (one router at a time, events in id order).
 */

/** A row of alert_events (the outbox), as the router reads it. */
export const eventRow = routedAlertColumns.extend({ id: bigintColumn, project_id: z.string() });
export type EventRow = z.output<typeof eventRow>;

const HOLDERS = {
  name: 'episodeHolders',
  sql: `SELECT a.group_key, g.route_name FROM alert_group_alerts a JOIN alert_groups g USING (project_id, group_key)
         WHERE a.project_id = $1 AND a.rule_name = $2 AND a.fingerprint = $3 AND a.episode = $4`,
  row: z.object({ group_key: z.string(), route_name: z.string() }),
};
const RESOLVE_HELD = {
  name: 'resolveHeldEpisode',
  sql: `UPDATE alert_group_alerts SET status = 'resolved', dedup_key = $5, annotations = $6, value = $7, ends_at = $8, event_id = $9, notified = false
           WHERE project_id = $1 AND rule_name = $2 AND fingerprint = $3 AND episode = $4 AND event_id < $9 RETURNING group_key`,
  row: z.object({ group_key: z.string() }),
};

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
async function touchGroup(client: Queryable, projectId: string, groupKey: string, nowIso: string): Promise<void> {
  await pgExec(client, `UPDATE alert_groups SET next_flush_at = ${NEXT_FLUSH_ON_CHANGE.replace('$9', '$3')} WHERE project_id = $1 AND group_key = $2`, [
    projectId,
    groupKey,
    nowIso,
  ]);
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
export async function routeEvent(client: Queryable, policy: EffectivePolicy, e: EventRow, now: number): Promise<void> {
  const nowIso = new Date(now).toISOString();
  const holders = await pgRows(client, HOLDERS, [e.project_id, e.rule_name, e.fingerprint, e.episode]);
  if (e.status === 'resolved' && holders.length > 0) {
    // event_id guard: an older event never overwrites a newer one of the same episode.
    const updated = await pgRows(client, RESOLVE_HELD, [
      e.project_id,
      e.rule_name,
      e.fingerprint,
      e.episode,
      e.dedup_key,
      JSON.stringify(e.annotations),
      e.value,
      e.ends_at?.toISOString() ?? nowIso,
      e.id,
    ]);
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
    await pgExec(
      client,
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
    await pgExec(
      client,
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
      await pgExec(
        client,
        `DELETE FROM alert_group_alerts WHERE project_id = $1 AND group_key = $2 AND rule_name = $3 AND fingerprint = $4 AND episode = $5 AND event_id < $6`,
        key,
      );
      continue;
    }
    // Left this route: the route hears it resolved at the severity it had there (dropped at
    // flush if that firing was never sent). Its dedup key is the event's, prefixed, so it is
    // unique and never equals a real resolve's key.
    const moved = await pgExec(
      client,
      `UPDATE alert_group_alerts SET status = 'resolved', dedup_key = $7, ends_at = $8, event_id = $6, notified = false
       WHERE project_id = $1 AND group_key = $2 AND rule_name = $3 AND fingerprint = $4 AND episode = $5 AND event_id < $6`,
      [...key, hashParts('left', e.dedup_key, h.group_key).slice(0, 40), nowIso],
    );
    if (moved > 0) await touchGroup(client, e.project_id, h.group_key, nowIso);
  }
}
