import crypto from 'node:crypto';
import zlib from 'node:zlib';
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
  /**
   * The JSON body of the success answer: documented in /openapi.json (the dashboard's
   * types are generated from it) and checked against every real answer where
   * response validation is on (tests, development; see handlerOf).
   */
  response?: z.ZodType;
  /** The success status when it is not 200 (201 for creations). */
  status?: 200 | 201;
  /** Other media types the success answer may have instead of JSON (the SQL console's CSV), described in words. */
  otherMedia?: Record<string, string>;
  handler(input: { query: z.output<Q>; body: z.output<B>; params: z.output<P>; principal: ApiKeyPrincipal; ctx: RouterContext }): Promise<unknown>;
}

// The registry stores routes of any schema; each was type-checked where it was defined.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDef<any, any, any>;

/** Helper that keeps each route's types while the registry holds them all. */
export function route<Q extends z.ZodType = z.ZodObject, B extends z.ZodType = z.ZodUnknown, P extends z.ZodType = z.ZodObject>(
  def: RouteDef<Q, B, P>,
): AnyRoute {
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

/** Thrown (a 500) when an answer does not match its route's response schema: a server bug, never the caller's. */
export class ResponseSchemaError extends Error {
  constructor(
    readonly route: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`the answer of ${route} does not match its response schema: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'ResponseSchemaError';
  }
}

function decoded(body: Buffer, contentEncoding: string): Buffer {
  if (/^br$/i.test(contentEncoding)) return zlib.brotliDecompressSync(body);
  if (/^gzip$/i.test(contentEncoding)) return zlib.gunzipSync(body);
  return body;
}

/**
 * Checks a route's answer against its response schema, as the client would
 * read it: the body after a JSON round trip (Dates become strings, undefined
 * members vanish). A JSON Buffer (the SQL console; decompressed first when
 * `contentEncoding` says it is, as http/compressed's sendJsonText sends cache
 * hits) or JSON text is parsed; other media types are not checked. Throws
 * ResponseSchemaError.
 */
export function checkResponse(def: AnyRoute, body: unknown, contentType: string, contentEncoding = ''): void {
  const name = `${def.method.toUpperCase()} ${def.path}`;
  // A route without a schema has nothing to check here; test/openapi.test.ts fails for it instead.
  if (!def.response || !/json/i.test(contentType)) return;
  let wire: unknown;
  try {
    wire = Buffer.isBuffer(body)
      ? JSON.parse(decoded(body, contentEncoding).toString('utf8'))
      : typeof body === 'string'
        ? JSON.parse(body)
        : body === undefined
          ? undefined
          : JSON.parse(JSON.stringify(body));
  } catch (err) {
    throw new ResponseSchemaError(name, [{ path: '', message: `not JSON: ${(err as Error).message}` }]);
  }
  const r = def.response.safeParse(wire);
  if (!r.success)
    throw new ResponseSchemaError(
      name,
      r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
}

export interface HandlerOptions {
  /**
   * Check every success answer against the route's response schema (checkResponse).
   * On in tests and development; off in production by default, where parsing every
   * large answer again (a time series of thousands of points) would cost CPU on each
   * request for a check the tests already make.
   */
  validateResponses?: boolean;
}

/** Wraps a route's handler: authentication, zod validation of query/body/params, JSON answer, optionally the answer's check. */
export function handlerOf(def: AnyRoute, keys: ApiKeyVerifier, opts: HandlerOptions = {}) {
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
    if (opts.validateResponses && ctx.status >= 200 && ctx.status < 300)
      checkResponse(def, ctx.body, ctx.response.get('Content-Type') || ctx.type || '', ctx.response.get('Content-Encoding'));
  };
}

/**
 * zod writes a recursive schema (the time-series filter) as `$defs` of the
 * schema with `#/$defs/...` references, which inside an OpenAPI document
 * point at the document's root and resolve nowhere. They move to
 * components.schemas, named after a hash of the definitions (the same schema
 * used by several routes is stored once), and the references follow.
 */
function hoistDefs(schema: Record<string, unknown>, components: Record<string, unknown>): Record<string, unknown> {
  const defs = schema.$defs as Record<string, unknown> | undefined;
  if (!defs) return schema;
  const hash = crypto.createHash('sha1').update(JSON.stringify(defs)).digest('hex').slice(0, 8);
  const names = new Map(Object.keys(defs).map((k) => [`#/$defs/${k}`, `#/components/schemas/${k.replace(/^_+/, '')}_${hash}`]));
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' && names.has(x) ? names.get(x) : rewrite(x)]));
    }
    return v;
  };
  const { $defs: _defs, ...rest } = schema;
  for (const [k, def] of Object.entries(defs)) components[names.get(`#/$defs/${k}`)!.slice('#/components/schemas/'.length)] = rewrite(def);
  return rewrite(rest) as Record<string, unknown>;
}

/** OpenAPI 3.1 document generated from the same zod schemas the routes validate with. */
export function openApiDocument(routes: AnyRoute[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, unknown> = {};
  const jsonSchema = (s: z.ZodType, io: 'input' | 'output'): unknown => {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { unrepresentable: 'any', io }) as Record<string, unknown>;
    return hoistDefs(rest, schemas);
  };
  const toSchema = (s: z.ZodType): unknown => jsonSchema(s, 'input');
  // Answers are described as they are sent (the output side of any default or transform).
  const toResponseSchema = (s: z.ZodType): unknown => jsonSchema(s, 'output');
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
        [r.status ?? 200]: {
          description: r.status === 201 ? 'Created' : 'OK',
          ...(r.response || r.otherMedia
            ? {
                content: {
                  ...(r.response ? { 'application/json': { schema: toResponseSchema(r.response) } } : {}),
                  ...Object.fromEntries(Object.entries(r.otherMedia ?? {}).map(([type, description]) => [type, { schema: { type: 'string', description } }])),
                },
              }
            : {}),
        },
        400: { description: 'Invalid input: { error: { code, message, context.issues } }' },
        401: { description: 'Missing or invalid API key' },
        403: { description: 'The key lacks the role' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key> (or X-API-Key)' } },
      ...(Object.keys(schemas).length ? { schemas } : {}),
    },
    paths,
  };
}
