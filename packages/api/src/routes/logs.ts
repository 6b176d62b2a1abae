import type { ClickHouse } from '@tidemark/core';
import { z } from 'zod';
import { route, type AnyRoute } from '../http/route';
import { logQuerySql, parseLogQuery } from '../logs/query-language';

const logRow = z.object({
  time: z.string(),
  level: z.string(),
  service: z.string(),
  message: z.string(),
  attributes: z.record(z.string(), z.string()),
  trace_id: z.string(),
  request_id: z.string(),
});

/** Log search: time range, the query language, newest first, paged by a cursor (the last timestamp seen). */
export function logRoutes(deps: { clickhouse: ClickHouse }): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/logs/search',
      summary: 'Search logs: level:ERROR AND path:/api/v1/payments/* AND status_code:500, process_time:>2, "text"',
      tag: 'logs',
      auth: 'read',
      query: z.object({
        q: z.string().max(2000).default(''),
        from: z.string().datetime({ offset: true }).optional(),
        to: z.string().datetime({ offset: true }).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        before: z.string().datetime({ offset: true }).optional().describe('page: only lines older than this (the last timestamp of the previous page)'),
      }),
      response: z.object({ items: z.array(logRow), next: z.string().nullable() }),
      async handler({ query, principal }) {
        const params: Record<string, unknown> = {};
        let n = 0;
        const add = (type: string, value: unknown): string => {
          const name = `q${n++}`;
          params[name] = value;
          return `{${name}:${type}}`;
        };
        const to = query.before ?? query.to;
        const where = [
          `project_id = ${add('String', principal.projectId)}`,
          `timestamp >= parseDateTime64BestEffort(${add('String', query.from ?? new Date(Date.now() - 86_400_000).toISOString())}, 3)`,
          ...(to ? [`timestamp < parseDateTime64BestEffort(${add('String', to)}, 3)`] : []),
        ];
        const ast = parseLogQuery(query.q);
        if (ast) where.push(logQuerySql(ast, add));
        const rs = await deps.clickhouse.client.query({
          // The formatted time gets its own alias: an alias named like the column would shadow it in WHERE.
          query: `SELECT formatDateTime(timestamp, '%Y-%m-%dT%H:%i:%s.%fZ') AS time, level, service, message, attributes, trace_id, request_id
                  FROM logs_raw_v1 WHERE ${where.join(' AND ')} ORDER BY logs_raw_v1.timestamp DESC LIMIT ${add('UInt32', query.limit)}`,
          query_params: params,
          format: 'JSONEachRow',
          clickhouse_settings: { max_execution_time: 30 },
        });
        const items = z.array(logRow).parse(await rs.json());
        return { items, next: items.length === query.limit ? items[items.length - 1]!.time : null };
      },
    }),
  ];
}
