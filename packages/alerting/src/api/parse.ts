import { z } from 'zod';
import { ValidationError } from '@tidemark/core';
import { issueMessage } from '../rules/schema';

/**
 * Input validation of the alerting API: a bad input is a ValidationError
 * (400) naming each field, the shape every AlertingService function throws.
 */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: issueMessage(i) }));
  throw new ValidationError(`${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, { context: { issues } });
}

/** A ValidationError about one field. */
export function fieldError(what: string, path: string, message: string, text = `${what}: ${path}: ${message}`): ValidationError {
  return new ValidationError(text, { context: { issues: [{ path, message }] } });
}

export const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);
