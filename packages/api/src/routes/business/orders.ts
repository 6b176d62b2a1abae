import { z } from 'zod';
import { cached, TTL } from '../../analytics/cached';
import { orderQueries, ordersSummary, revenueSeries, REVENUE_BY, type OrderSettings } from '../../analytics/business/orders';
import { dateParam, periodParam, PERIODS } from '../../analytics/dates';
import { DEFAULT_ANALYTICS_OPTIONS } from '../../analytics/options';
import { route, type AnyRoute } from '../../http/route';
import { BASE, n, nn, partial, rangeQuery, type BusinessDeps } from './common';

const orderShare = z.object({ value: z.string(), orders: n, orders_percent: nn, amount: n, amount_percent: nn });
const revenuePoint = z.object({ date: z.string(), orders: n, revenue: n, partial });

/** Order statistics: the summary of a window and the revenue series. */
export function orderRoutes(deps: BusinessDeps): AnyRoute[] {
  const q = orderQueries(deps.clickhouse);
  const settings: OrderSettings = {
    currency: deps.options?.businessCurrency ?? DEFAULT_ANALYTICS_OPTIONS.businessCurrency,
    netStatuses: deps.options?.netOrderStatuses ?? DEFAULT_ANALYTICS_OPTIONS.netOrderStatuses,
  };
  return [
    route({
      method: 'get',
      path: `${BASE}/orders/summary`,
      summary: 'Orders created in a date range: count, amount, average; by status, service type and product category with shares',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        start_date: z.string(),
        end_date: z.string(),
        timezone: z.string(),
        currency: z.string(),
        net_statuses: z.array(z.string()),
        total_orders: n,
        total_amount: n,
        avg_order_amount: nn,
        gross_revenue: n,
        net_orders: n,
        net_revenue: n,
        avg_net_order_amount: nn,
        by_status: z.array(orderShare),
        by_service_type: z.array(orderShare),
        by_product_category: z.array(orderShare),
      }),
      query: z.object({ ...rangeQuery, start_date: dateParam.optional().describe('first day (YYYY-MM-DD); default 29 days before end_date') }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'orders.summary', query, TTL.business, () =>
          ordersSummary(q, principal.projectId, query, settings),
        );
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/orders/revenue`,
      summary:
        'Net or gross revenue and order count per day, week or month over exactly the date window; optionally split by service type or product category or limited to statuses',
      tag: 'analytics',
      auth: 'read',
      response: z.object({
        period: z.enum(PERIODS),
        by: z.enum(REVENUE_BY),
        revenue_kind: z.enum(['net', 'gross', 'custom']),
        statuses: z.array(z.string()),
        currency: z.string(),
        timezone: z.string(),
        start_date: z.string(),
        end_date: z.string(),
        total_orders: n,
        total_revenue: n,
        gross_orders: n,
        gross_revenue: n,
        net_orders: n,
        net_revenue: n,
        points: z.array(revenuePoint),
        groups: z
          .array(z.object({ value: z.string(), orders: n, revenue: n, revenue_percent: nn, points: z.array(revenuePoint) }))
          .optional()
          .describe('with by other than none'),
      }),
      query: z.object({
        period: periodParam.default('day').describe('day | week | month'),
        by: z.enum(REVENUE_BY).default('none').describe('none | service_type | product_category'),
        revenue: z
          .enum(['net', 'gross'])
          .default('net')
          .describe('net: orders in the net statuses (BUSINESS_NET_ORDER_STATUSES, default paid,completed); gross: every order whatever its status'),
        status: z
          .string()
          .max(2000)
          .regex(/^[^,]+(,[^,]+)*$/, 'comma-separated order statuses')
          .optional()
          .describe('only orders in these statuses, comma-separated (e.g. paid,completed); overrides `revenue`'),
        ...rangeQuery,
        start_date: dateParam
          .optional()
          .describe(
            'first day counted (the first point is its whole period, marked partial when the window cuts it); default: 30 days, 12 weeks or 12 months back',
          ),
      }),
      async handler({ query, principal, ctx }) {
        return cached(deps.cache, ctx, principal.projectId, 'orders.revenue', query, TTL.business, () =>
          revenueSeries(q, principal.projectId, query, settings),
        );
      },
    }),
  ];
}
