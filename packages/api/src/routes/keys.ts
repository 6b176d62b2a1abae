import type { Pool } from 'pg';
import { z } from 'zod';
import { API_KEY_ROLES, createApiKey, NotFoundError, pgRows, revokeApiKey } from '@tidemark/core';
import { route, type AnyRoute } from '../http/route';

const keyRow = z.object({
  id: z.string(),
  role: z.enum(API_KEY_ROLES),
  key_prefix: z.string(),
  description: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
const LIST_KEYS = {
  name: 'keys.list',
  sql: `SELECT id, role, key_prefix, description, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
               to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS revoked_at
        FROM api_keys WHERE project_id = $1 ORDER BY created_at`,
  row: keyRow,
};

/** Key management for admins; every operation is confined to the admin key's own project. */
export function keyRoutes(deps: { meta: Pool }): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/keys',
      summary: "List the project's API keys (prefixes only; keys are stored as hashes)",
      tag: 'keys',
      auth: 'admin',
      response: z.object({ items: z.array(keyRow) }),
      async handler({ principal }) {
        return { items: await pgRows(deps.meta, LIST_KEYS, [principal.projectId]) };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/keys',
      summary: 'Create an API key for the project; the key is returned once',
      tag: 'keys',
      auth: 'admin',
      body: z.object({ role: z.enum(API_KEY_ROLES), description: z.string().max(200).default('') }),
      status: 201,
      response: z.object({ id: z.string(), key: z.string().describe('the key itself, shown only in this answer'), role: z.enum(API_KEY_ROLES) }),
      async handler({ body, principal, ctx }) {
        const { id, key } = await createApiKey(deps.meta, { projectId: principal.projectId, role: body.role, description: body.description });
        ctx.status = 201;
        return { id, key, role: body.role };
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/keys/:id',
      summary: 'Revoke a key of the project',
      tag: 'keys',
      auth: 'admin',
      response: z.object({ revoked: z.string() }),
      params: z.object({ id: z.uuid() }),
      async handler({ params, principal }) {
        if (!(await revokeApiKey(deps.meta, principal.projectId, params.id))) throw new NotFoundError(`no active key ${params.id} in this project`);
        return { revoked: params.id };
      },
    }),
  ];
}
