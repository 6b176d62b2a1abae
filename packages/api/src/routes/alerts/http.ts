import type { RouterContext } from '@koa/router';
import { z } from 'zod';
import { TidemarkError, ValidationError } from '@tidemark/core';
import type { RuleProblem } from '@tidemark/alerting';

/** The alert routes' request handling: path prefix, query-string coercions, the body as written, 400s that name body fields. */

export const BASE = '/api/analytics-monitoring/alerts';
export const TAG = 'alerts';

/** A query-string number (text) handed to the service's number schema. */
export function num<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), schema);
}

/** A list in the query string: comma-separated (state=firing,pending) or repeated (state=firing&state=pending). */
export function list<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (v) =>
      typeof v === 'string' || Array.isArray(v)
        ? ([] as unknown[])
            .concat(v)
            .flatMap((x) => String(x).split(','))
            .map((x) => x.trim())
            .filter((x) => x !== '')
        : v,
    schema,
  );
}

/**
 * The body exactly as the client wrote it. Rules and policies are stored as
 * written (durations stay "5m", and the rule's spec hash is of the input),
 * so the service gets the raw JSON; the route's zod schema has already
 * rejected anything invalid and documents the body.
 */
export function asWritten(ctx: RouterContext): unknown {
  return (ctx.request as unknown as { body?: unknown }).body;
}

/**
 * The service names a rule's fields as in the rule (`sql`, `condition.threshold`);
 * on the API they are in the body, so the issue paths say `body.sql` like
 * every other 400 of the API.
 */
export function inBody<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof ValidationError) {
      const issues = (err.context.issues ?? []).map((i) => ({ path: i.path ? `body.${i.path}` : 'body', message: i.message }));
      throw new ValidationError(`invalid body: ${err.message}`, { context: { ...err.context, issues }, cause: err });
    }
    throw err;
  });
}

export function ruleProblemsError(problems: RuleProblem[]): TidemarkError {
  const issues = problems.map((p) => ({ path: p.field ? `body.${p.field}` : 'body', message: p.message }));
  return new ValidationError(`invalid rule: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { context: { issues } });
}
