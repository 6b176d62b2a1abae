import type { RouterContext } from '@koa/router';
import { z } from 'zod';
import { ApiKeyVerifier, presentedKey, ValidationError, type ApiKeyPrincipal, type ApiKeyRole } from '@tidemark/core';

type Method = 'get' | 'post' | 'put' | 'delete';

export interface RouteDef<Q extends z.ZodType, B extends z.ZodType, P extends z.ZodType> {
  method: Method;
  /** Koa path, e.g. /api/v1/keys/:id */
  path: string;
  summary: string;
  tag: string;
  /** Role the key needs; 'public' needs no key. */
  auth: ApiKeyRole | 'public';
  query?: Q;
  body?: B;
  params?: P;
  /** Documents the 200 body in the OpenAPI document. */
  response?: z.ZodType;
  handler(input: { query: z.output<Q>; body: z.output<B>; params: z.output<P>; principal: ApiKeyPrincipal; ctx: RouterContext }): Promise<unknown>;
}

// The registry stores routes of any schema; each was type-checked where it was defined.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDef<any, any, any>;

/** Helper that keeps each route's types while the registry holds them all. */
export function route<Q extends z.ZodType = z.ZodObject, B extends z.ZodType = z.ZodUnknown, P extends z.ZodType = z.ZodObject>(def: RouteDef<Q, B, P>): AnyRoute {
  return def as AnyRoute;
}

function validate<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> {
  if (!schema) return value as z.output<T>;
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: [where, ...i.path].join('.'), message: i.message }));
    throw new ValidationError(`invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { context: { issues } });
  }
  return r.data;
}

/** Wraps a route's handler: authentication, zod validation of query/body/params, JSON answer. */
export function handlerOf(def: AnyRoute, keys: ApiKeyVerifier) {
  return async (ctx: RouterContext): Promise<void> => {
    const principal: ApiKeyPrincipal =
      def.auth === 'public' ? { keyId: '', projectId: '', role: 'read' } : await keys.require(presentedKey(ctx.headers), def.auth);
    const query = validate(def.query, ctx.query, 'query');
    const body = validate(def.body, (ctx.request as unknown as { body?: unknown }).body, 'body');
    const params = validate(def.params, ctx.params, 'params');
    const result = await def.handler({ query, body, params, principal, ctx });
    if (ctx.body === undefined || ctx.body === null) {
      ctx.status = ctx.status === 404 ? 200 : ctx.status;
      ctx.body = result;
    }
  };
}

/** OpenAPI 3.1 document generated from the same zod schemas the routes validate with. */
export function openApiDocument(routes: AnyRoute[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const toSchema = (s: z.ZodType): unknown => z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' });
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['query', r.query],
      ['path', r.params],
    ] as const) {
      const shape = (schema as unknown as { shape?: Record<string, z.ZodType> } | undefined)?.shape;
      if (shape) {
        for (const [name, s] of Object.entries(shape)) {
          parameters.push({ name, in: where, required: where === 'path' || !s.safeParse(undefined).success, schema: toSchema(s), description: s.description });
        }
      }
    }
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth === 'public' ? { security: [] } : { security: [{ apiKey: [] }], description: `Needs a key with role ${r.auth} (or admin).` }),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(r.body) } } } } : {}),
      responses: {
        200: { description: 'OK', ...(r.response ? { content: { 'application/json': { schema: toSchema(r.response) } } } : {}) },
        400: { description: 'Invalid input: { error: { code, message, context.issues } }' },
        401: { description: 'Missing or invalid API key' },
        403: { description: 'The key lacks the role' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key> (or X-API-Key)' } } },
    paths,
  };
}
