import { z } from 'zod';
import { route, type AnyRoute } from '../http/route';
import { sqlRequest, type SqlConsole } from '../sql/console';

/** The answer is cut here (413): counted on the bytes produced, so constant columns count too. */
export const SQL_MAX_RESULT_BYTES = 64 * 1024 * 1024;
/** Memory one console statement may use in the engine. */
export const SQL_MAX_MEMORY_BYTES = 512 * 1024 * 1024;

export function sqlRoutes(deps: { console: SqlConsole }): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/sql',
      summary:
        "Analysts' SQL console: one read-only SELECT over the project's data, with time, row, byte and memory limits; JSON or CSV (see docs/api.md: what the guard allows)",
      tag: 'sql',
      auth: 'read',
      body: sqlRequest,
      // ClickHouse's JSON output format (format "json"); 64-bit integers arrive as strings.
      response: z.looseObject({
        meta: z.array(z.object({ name: z.string(), type: z.string() })),
        data: z.array(z.record(z.string(), z.unknown())),
        rows: z.number(),
        rows_before_limit_at_least: z.number().optional(),
        statistics: z.looseObject({ elapsed: z.number(), rows_read: z.number(), bytes_read: z.number() }).optional(),
      }),
      otherMedia: { 'text/csv': 'format "csv": CSV with a header line' },
      async handler({ body, principal, ctx }) {
        const out = await deps.console.run(principal.projectId, body.sql, body.format, {
          maxExecutionSeconds: body.timeout_seconds,
          maxResultRows: body.max_rows,
          maxResultBytes: SQL_MAX_RESULT_BYTES,
          maxMemoryBytes: SQL_MAX_MEMORY_BYTES,
        });
        ctx.type = out.contentType;
        ctx.body = out.body;
        return undefined;
      },
    }),
  ];
}
