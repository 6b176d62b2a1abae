import { route, type AnyRoute } from '../http/route';
import { sqlRequest, type SqlConsole } from '../sql/console';

export function sqlRoutes(deps: { console: SqlConsole }): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/sql',
      summary: "Analysts' SQL console: one read-only SELECT over the project's data, with time, row and byte limits; JSON or CSV",
      tag: 'sql',
      auth: 'read',
      body: sqlRequest,
      async handler({ body, principal, ctx }) {
        const out = await deps.console.run(principal.projectId, body.sql, body.format, {
          maxExecutionSeconds: body.timeout_seconds,
          maxResultRows: body.max_rows,
          maxResultBytes: 64 * 1024 * 1024,
        });
        ctx.type = out.contentType;
        ctx.body = out.body;
        return undefined;
      },
    }),
  ];
}
