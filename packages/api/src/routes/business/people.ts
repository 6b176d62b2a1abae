import { z } from 'zod';
import { cached, TTL } from '../../analytics/cached';
import { organizationsSummary, rolesDistribution, userActivity, userQueries } from '../../analytics/business/people';
import { intParam } from '../../analytics/dates';
import { route, type AnyRoute } from '../../http/route';
import { BASE, n, nn, type BusinessDeps } from './common';

const userEntry = z.object({ user_id: z.string(), org_id: z.string(), role_id: z.string(), login_count: n, last_login_at: z.string() });
const orgBand = z.object({ value: z.string(), organizations: n, percent: nn, employees: n });

/** User activity, organizations and roles. */
export function peopleRoutes(deps: BusinessDeps): AnyRoute[] {
  const q = userQueries(deps.clickhouse);
  return [
    route({
      method: 'get',
      path: `${BASE}/users/activity`,
      summary: 'User activity: logins, last login recency, DAU/WAU/MAU (users whose last login is within 1, 7, 30 days), most active and most recent users',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        total_users: n,
        total_logins: n,
        avg_logins_per_user: nn,
        never_logged_in: n,
        new_users_30d: n,
        dau: n,
        wau: n,
        mau: n,
        stickiness_percent: nn,
        last_login: z.array(z.object({ range: z.enum(['<1d', '1-7d', '7-30d', '30-90d', '>90d', 'never']), users: n })),
        most_active: z.array(userEntry),
        recent_logins: z.array(userEntry),
      }),
      query: z.object({ limit: intParam(1, 100, 10).describe('users in the most_active and recent_logins lists (default 10)') }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'users.activity', query, TTL.business, () => userActivity(q, principal.projectId, query.limit));
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/organizations/summary`,
      summary: 'Organizations: count, employees, by type and size band, users per organization',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        total_organizations: n,
        total_employees: n,
        avg_employees: nn,
        total_users: n,
        organizations_with_users: n,
        by_type: z.array(orgBand),
        by_size: z.array(orgBand),
        top_organizations: z.array(z.object({ org_id: z.string(), name: z.string(), type: z.string(), employees: n, users: n })),
      }),
      query: z.object({ top: intParam(1, 1000, 10).describe('organizations listed, most users first (default 10)') }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'organizations.summary', query, TTL.business, () =>
          organizationsSummary(q, principal.projectId, query.top),
        );
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/roles/distribution`,
      summary: 'Users per role (every role, also those without users; users of a role id not in the roles table are listed with a null name)',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        total_users: n,
        total_roles: n,
        roles: z.array(z.object({ role_id: z.string(), name: z.string().nullable(), users: n, percent: nn })),
      }),
      async handler({ principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'roles.distribution', {}, TTL.business, () => rolesDistribution(q, principal.projectId));
      },
    }),
  ];
}
