import { z } from 'zod';

/*
 * Field types shared by the configuration slices: core's (schema.ts) and each
 * role's (packages/<role>/src/settings.ts). Environment variables are strings;
 * these coerce them and name the problem when they cannot.
 */

/** Env strings "true/1/yes/on" and "false/0/no/off" as booleans. */
export const envBool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])])
  .transform((v) => (typeof v === 'boolean' ? v : ['true', '1', 'yes', 'on'].includes(v)));

export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInt = z.coerce.number().int().positive();
export const url = z.string().url();
/**
 * A setting holding JSON (a map of prices, of secrets, ...): env strings are
 * parsed, an empty string means an empty object, a config file may give the
 * object itself. Text that is not JSON reaches the schema as text, so the
 * error names the key with the schema's message.
 */
export const jsonEnv = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    if (v.trim() === '') return {};
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }, schema);

/** Unset and empty mean the same: not configured. */
export const optional = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
