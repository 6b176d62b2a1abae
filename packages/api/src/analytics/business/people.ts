import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { bizQuery, bizRows, text } from '../biz';
import { percent, round } from '../dates';
import { DIST_ROW, num, project } from './common';

/**
 * Users, organizations and roles (biz_users_v1, biz_organizations_v1,
 * biz_roles_v1): login activity (DAU/WAU/MAU are users whose last login is
 * within 1, 7, 30 days), organizations by type and size band, users per role.
 */

const projectOnly = z.object({ project });

// Aliases never repeat a column name: ClickHouse resolves aliases in WHERE and ORDER BY too.
const userRow = z
  .object({ u_id: z.string(), u_org: z.string(), u_role: z.string(), u_logins: num, u_last: z.string() })
  .transform((r) => ({ user_id: r.u_id, org_id: r.u_org, role_id: r.u_role, login_count: r.u_logins, last_login_at: r.u_last }));

function userList(ch: ClickHouse, order: string, name: string) {
  return bizQuery(ch, {
    name,
    sql: `SELECT toString(user_id) AS u_id, ${text('org_id')} AS u_org, ${text('role_id')} AS u_role, ifNull(login_count, 0) AS u_logins,
                 ifNull(formatDateTime(last_login_at, '%Y-%m-%dT%H:%i:%SZ', 'UTC'), '') AS u_last
          FROM ${bizRows('users')} AND last_login_at IS NOT NULL ORDER BY ${order}, u_id LIMIT {limit:UInt32}`,
    params: z.object({ project, limit: z.number().int() }),
    row: userRow,
  });
}

export function userQueries(ch: ClickHouse) {
  return {
    summary: bizQuery(ch, {
      name: 'analytics.users.summary',
      sql: `WITH fromUnixTimestamp64Milli({now:Int64}) AS n
            SELECT count() AS users, sum(ifNull(login_count, 0)) AS logins, countIf(last_login_at IS NULL) AS never,
                   countIf(last_login_at >= n - INTERVAL 1 DAY) AS dau, countIf(last_login_at >= n - INTERVAL 7 DAY) AS wau,
                   countIf(last_login_at >= n - INTERVAL 30 DAY) AS mau, countIf(last_login_at >= n - INTERVAL 90 DAY) AS active_90d,
                   countIf(created_at >= n - INTERVAL 30 DAY) AS new_users_30d
            FROM ${bizRows('users')}`,
      params: z.object({ project, now: z.number().int() }),
      row: z.object({ users: num, logins: num, never: num, dau: num, wau: num, mau: num, active_90d: num, new_users_30d: num }),
    }),
    recentLogins: userList(ch, 'last_login_at DESC', 'analytics.users.recent'),
    mostActive: userList(ch, 'u_logins DESC, last_login_at DESC', 'analytics.users.most_active'),
    orgDistribution: bizQuery(ch, {
      name: 'analytics.organizations.distribution',
      sql: `SELECT kv.1 AS dimension, kv.2 AS value, count() AS count, sum(o_employees) AS employees
            FROM (SELECT ${text('type')} AS o_type, ifNull(employees, 0) AS o_employees,
                         multiIf(employees IS NULL, 'unknown', employees < 1, '0', employees <= 10, '1-10', employees <= 50, '11-50',
                                 employees <= 200, '51-200', employees <= 1000, '201-1000', '1001+') AS o_size
                  FROM ${bizRows('organizations')})
            ARRAY JOIN [tuple('type', o_type), tuple('size', o_size)] AS kv
            GROUP BY dimension, value ORDER BY dimension, count DESC, value`,
      params: projectOnly,
      row: DIST_ROW.extend({ employees: num }),
    }),
    topOrgs: bizQuery(ch, {
      name: 'analytics.organizations.top',
      sql: `SELECT toString(o.org_id) AS g_id, ${text('o.name')} AS g_name, ${text('o.type')} AS g_type, ifNull(o.employees, 0) AS g_employees, u.n AS g_users
            FROM (SELECT org_id, name, type, employees FROM ${bizRows('organizations')}) AS o
            LEFT JOIN (SELECT org_id, count() AS n FROM ${bizRows('users')} GROUP BY org_id) AS u ON o.org_id = u.org_id
            ORDER BY g_users DESC, g_employees DESC, g_id LIMIT {top:UInt32}`,
      params: z.object({ project, top: z.number().int() }),
      row: z
        .object({ g_id: z.string(), g_name: z.string(), g_type: z.string(), g_employees: num, g_users: num })
        .transform((r) => ({ org_id: r.g_id, name: r.g_name, type: r.g_type, employees: r.g_employees, users: r.g_users })),
    }),
    orgUsers: bizQuery(ch, {
      name: 'analytics.organizations.users',
      sql: `SELECT count() AS users, uniqExact(org_id) AS orgs_with_users FROM ${bizRows('users')}`,
      params: projectOnly,
      row: z.object({ users: num, orgs_with_users: num }),
    }),
    roleNames: bizQuery(ch, {
      name: 'analytics.roles.names',
      sql: `SELECT toString(role_id) AS rid, ${text('name')} AS role_name FROM ${bizRows('roles')}`,
      params: projectOnly,
      row: z.object({ rid: z.string(), role_name: z.string() }),
    }),
    roleUsers: bizQuery(ch, {
      name: 'analytics.roles.users',
      sql: `SELECT ${text('role_id')} AS rid, count() AS users FROM ${bizRows('users')} GROUP BY rid`,
      params: projectOnly,
      row: z.object({ rid: z.string(), users: num }),
    }),
  };
}
export type UserQueries = ReturnType<typeof userQueries>;

/** Login activity and the last-login recency bands (each user in exactly one band). */
export async function userActivity(q: UserQueries, projectId: string, limit: number, now = Date.now()) {
  const [[s], recent, active] = await Promise.all([
    q.summary({ project: projectId, now }),
    q.recentLogins({ project: projectId, limit }),
    q.mostActive({ project: projectId, limit }),
  ]);
  const u = s ?? { users: 0, logins: 0, never: 0, dau: 0, wau: 0, mau: 0, active_90d: 0, new_users_30d: 0 };
  return {
    total_users: u.users,
    total_logins: u.logins,
    avg_logins_per_user: u.users > 0 ? round(u.logins / u.users) : null,
    never_logged_in: u.never,
    new_users_30d: u.new_users_30d,
    dau: u.dau,
    wau: u.wau,
    mau: u.mau,
    stickiness_percent: percent(u.dau, u.mau),
    last_login: [
      { range: '<1d' as const, users: u.dau },
      { range: '1-7d' as const, users: u.wau - u.dau },
      { range: '7-30d' as const, users: u.mau - u.wau },
      { range: '30-90d' as const, users: u.active_90d - u.mau },
      { range: '>90d' as const, users: u.users - u.never - u.active_90d },
      { range: 'never' as const, users: u.never },
    ],
    most_active: active,
    recent_logins: recent,
  };
}

export async function organizationsSummary(q: UserQueries, projectId: string, top: number) {
  const [dist, topOrgs, [users]] = await Promise.all([
    q.orgDistribution({ project: projectId }),
    q.topOrgs({ project: projectId, top }),
    q.orgUsers({ project: projectId }),
  ]);
  const types = dist.filter((x) => x.dimension === 'type');
  const orgs = types.reduce((n, x) => n + x.count, 0);
  const employees = types.reduce((n, x) => n + x.employees, 0);
  const band = (d: string) =>
    dist.filter((x) => x.dimension === d).map((x) => ({ value: x.value, organizations: x.count, percent: percent(x.count, orgs), employees: x.employees }));
  return {
    total_organizations: orgs,
    total_employees: employees,
    avg_employees: orgs > 0 ? round(employees / orgs) : null,
    total_users: users?.users ?? 0,
    organizations_with_users: users?.orgs_with_users ?? 0,
    by_type: band('type'),
    by_size: band('size'),
    top_organizations: topOrgs,
  };
}

/** Users per role: every role (also those without users), then role ids of users that the roles table lacks, with a null name. */
export async function rolesDistribution(q: UserQueries, projectId: string) {
  const [roles, users] = await Promise.all([q.roleNames({ project: projectId }), q.roleUsers({ project: projectId })]);
  const total = users.reduce((n, x) => n + x.users, 0);
  const byId = new Map(users.map((u) => [u.rid, u.users]));
  const out: { role_id: string; name: string | null; users: number; percent: number | null }[] = roles.map((r) => ({
    role_id: r.rid,
    name: r.role_name,
    users: byId.get(r.rid) ?? 0,
    percent: percent(byId.get(r.rid) ?? 0, total),
  }));
  const known = new Set(roles.map((r) => r.rid));
  for (const u of users) if (!known.has(u.rid)) out.push({ role_id: u.rid, name: null, users: u.users, percent: percent(u.users, total) });
  out.sort((a, b) => b.users - a.users || a.role_id.localeCompare(b.role_id));
  return { total_users: total, total_roles: roles.length, roles: out };
}
