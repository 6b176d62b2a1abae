import type { Logger } from 'pino';
import { classifyError, TidemarkError } from '../errors';

/** The part of a Koa context an error answer writes (core does not depend on Koa). */
export interface ErrorContext {
  status: number;
  body: unknown;
  path: string;
  set(field: string, value: string): void;
}

/**
 * Answers a failed request the one way every Tidemark HTTP server does:
 * `{ error: { code, message, retriable, context } }` with the error's status,
 * `Retry-After` when it says when to come back, the full error logged for a
 * 5xx (the client gets only the classified message) and a debug line for a
 * refusal. Classification stays in errors/ (one place).
 */
export function sendError(ctx: ErrorContext, raw: unknown, logger: Logger): TidemarkError {
  const err = raw instanceof TidemarkError ? raw : classifyError(raw);
  ctx.status = err.statusCode;
  ctx.body = err.toJSON();
  if (err.retryAfterMs !== undefined) ctx.set('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)));
  if (err.statusCode >= 500) logger.error({ err: raw, path: ctx.path }, 'request failed');
  else logger.debug({ code: err.code, path: ctx.path, message: err.message }, 'request refused');
  return err;
}
