import { z } from 'zod';
import { pgRows, type Queryable } from '@tidemark/core';
import type { AlertingRoleConfig } from '../settings';
import { BUILTIN_LOG_CHANNEL, channelConfigSchema, secretRefsOf, type ChannelConfig } from '../channels';
import { labelNameSchema } from '../rules/schema';
import { duration } from '../util/duration';
import { matchersSchema, matchesAll, type Matcher } from '../util/matchers';

/**
 * A project's notification policy: its channels and its routes. Routes are
 * tried in order; the first match wins unless it says `continue: true`.
 * Alerts no route matches go to the default route (channel "log"), so
 * nothing is ever routed nowhere.
 */
export const routeSchema = z.strictObject({
  /** Names the route in group keys and records (default: route-<position>). */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of letters, digits, _ . -')
    .refine((n) => n !== 'default', '"default" is the built-in fallback route')
    .optional(),
  /** Label matchers (`severity="CRITICAL"`, `team=~"db|ops"`) or a map of equalities; empty matches all. */
  matchers: matchersSchema.default([]),
  channels: z.array(z.string()).min(1, 'name at least one channel'),
  /** Labels whose values form a group; ["..."] groups by every label (one alert per group). */
  group_by: z.array(z.union([labelNameSchema, z.literal('...')])).default(['alertname']),
  /** Wait before the first notification of a new group, to collect its alerts. */
  group_wait: duration.prefault('30s'),
  /** Wait between notifications about changes in a group. */
  group_interval: duration.prefault('5m'),
  /** Resend a still-firing, unacknowledged group this often. */
  repeat_interval: duration.prefault('4h'),
  /** Keep trying later routes after this one matched. */
  continue: z.boolean().default(false),
});
export type RouteSpec = z.output<typeof routeSchema>;

export const policySchema = z.strictObject({
  channels: z.array(channelConfigSchema).default([]),
  routes: z.array(routeSchema).default([]),
});
export type PolicyInput = z.input<typeof policySchema>;
export type PolicySpec = z.output<typeof policySchema>;

export const DEFAULT_ROUTE: RouteSpec = {
  name: 'default',
  matchers: [],
  channels: ['log'],
  group_by: ['alertname'],
  group_wait: 30_000,
  group_interval: 300_000,
  repeat_interval: 14_400_000,
  continue: false,
};

export interface EffectivePolicy {
  channels: Map<string, ChannelConfig>;
  routes: (RouteSpec & { name: string })[];
}

/** Problems of a policy that the schema cannot see: unknown channels, duplicates, unset secrets. */
export function checkPolicy(p: PolicySpec, config: AlertingRoleConfig, knownChannels: Set<string> = new Set()): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const defined = new Set<string>();
  p.channels.forEach((c, i) => {
    if (defined.has(c.name)) problems.push({ field: `channels[${i}].name`, message: `channel "${c.name}" is defined twice` });
    defined.add(c.name);
    for (const ref of secretRefsOf(c)) {
      const value = resolveSecret(config, ref);
      if (!value) problems.push({ field: `channels[${i}]`, message: `secret ${ref} is not set (add it to ALERTING_SECRETS or set the config key)` });
    }
  });
  // Routes may name these channels, other sources' channels, and the built-in "log".
  const names = new Set([...knownChannels, ...defined, 'log']);
  p.routes.forEach((r, i) => {
    r.channels.forEach((c, j) => {
      if (!names.has(c)) problems.push({ field: `routes[${i}].channels[${j}]`, message: `no channel named "${c}"` });
    });
  });
  return problems;
}

/** `${NAME}` → its value: an ALERTING_* config key, else an entry of ALERTING_SECRETS; '' when unset. */
export function resolveSecret(config: AlertingRoleConfig, ref: string): string {
  const name = /^\$\{([A-Z][A-Z0-9_]*)\}$/.exec(ref)?.[1];
  if (!name) return '';
  if (name.startsWith('ALERTING_') && name in config) {
    const v = (config as unknown as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : '';
  }
  return config.ALERTING_SECRETS[name] ?? '';
}

/**
 * The policy in effect for a project: file policy first, then API policy
 * (a channel name defined by both is the file's), then the default route.
 */
const POLICIES = {
  name: 'projectPolicies',
  sql: `SELECT source, spec FROM alert_policies WHERE project_id = $1 ORDER BY CASE source WHEN 'file' THEN 0 WHEN 'builtin' THEN 1 ELSE 2 END`,
  row: z.object({ source: z.string(), spec: z.unknown() }),
};

export async function loadPolicy(db: Queryable, projectId: string): Promise<EffectivePolicy> {
  const rows = await pgRows(db, POLICIES, [projectId]);
  const channels = new Map<string, ChannelConfig>([['log', BUILTIN_LOG_CHANNEL]]);
  const routes: EffectivePolicy['routes'] = [];
  const defined = new Set<string>();
  for (const row of rows) {
    // Stored specs were validated on write; parsing again restores defaults and regexes.
    const spec = policySchema.parse(row.spec);
    for (const c of spec.channels) {
      // The first source to define a name owns it (a policy may replace the built-in "log").
      if (defined.has(c.name)) continue;
      defined.add(c.name);
      channels.set(c.name, c);
    }
    spec.routes.forEach((r) => routes.push({ ...r, name: r.name ?? `${row.source}-route-${routes.length}` }));
  }
  routes.push({ ...DEFAULT_ROUTE, name: 'default' });
  return { channels, routes };
}

/** Routes an alert with these labels goes to (the default route only when no other matched). */
export function matchRoutes(policy: EffectivePolicy, labels: Record<string, string>): EffectivePolicy['routes'] {
  const out: EffectivePolicy['routes'] = [];
  for (const r of policy.routes) {
    if (r.name === 'default' && out.length > 0) break;
    if (matchesAll(r.matchers as Matcher[], labels)) {
      out.push(r);
      if (!r.continue) break;
    }
  }
  return out;
}

/** Group labels of an alert under a route. */
export function groupLabelsOf(route: RouteSpec, labels: Record<string, string>): Record<string, string> {
  if (route.group_by.includes('...')) return { ...labels };
  const out: Record<string, string> = {};
  for (const k of route.group_by) out[k] = labels[k] ?? '';
  return out;
}
