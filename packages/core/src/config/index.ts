import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import * as configFields from './fields';
import { configSchema, type Config } from './schema';

export { configSchema, CONFIG_KEYS, type Config, type ConfigInput } from './schema';
/** Field types for role settings slices (env strings coerced, problems named). */
export { configFields };

/** A configuration schema: core's, a role's (core's extended by its slice), or the platform's. */
export type ConfigSchema = z.ZodObject<z.ZodRawShape>;
/** The parsed configuration a schema gives. */
export type ConfigOf<S extends ConfigSchema> = z.output<S>;

/** Keys whose values never appear in logs. */
const SECRET_KEY = /PASSWORD|SECRET|TOKEN|(^|_)KEY$/;

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`TIDEMARK_CONFIG: cannot read ${file}: ${(err as Error).message}`, { context: { keys: ['TIDEMARK_CONFIG'] } });
  }
  let parsed: unknown;
  try {
    parsed = path.extname(file) === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`TIDEMARK_CONFIG: ${file} is not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, {
      context: { keys: ['TIDEMARK_CONFIG'] },
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`TIDEMARK_CONFIG: ${file} must hold a map of setting names to values`, { context: { keys: ['TIDEMARK_CONFIG'] } });
  }
  return parsed as Record<string, unknown>;
}

/**
 * Parses a configuration once against `schema`. Sources, lowest precedence
 * first: the file named by TIDEMARK_CONFIG, then the environment, then
 * `overrides` (command-line flags). Keys the schema does not know are errors
 * in the file (typos must not pass silently) unless `otherFileKeys: 'ignore'`,
 * and ignored in the environment.
 *
 * @throws ConfigError naming every bad key with its problem.
 */
export function parseConfig<S extends ConfigSchema>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<string, unknown>> = {},
  opts: { otherFileKeys?: 'error' | 'ignore' } = {},
): z.output<S> {
  const keys = Object.keys(schema.shape);
  const file = env.TIDEMARK_CONFIG ? readConfigFile(env.TIDEMARK_CONFIG) : {};
  const unknown = opts.otherFileKeys === 'ignore' ? [] : Object.keys(file).filter((k) => !keys.includes(k));
  const merged: Record<string, unknown> = { ...file };
  for (const key of keys) {
    if (env[key] !== undefined) merged[key] = env[key];
    if (overrides[key] !== undefined) merged[key] = overrides[key];
  }
  const result = schema.safeParse(merged);
  const problems: { key: string; message: string }[] = unknown.map((key) => ({
    key,
    message: `unknown setting in ${env.TIDEMARK_CONFIG}`,
  }));
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '(root)');
      const value = merged[key];
      const shown = value === undefined ? 'unset' : SECRET_KEY.test(key) ? '<redacted>' : JSON.stringify(value);
      problems.push({ key, message: `${issue.message} (got ${shown})` });
    }
  }
  if (problems.length > 0 || !result.success) {
    const lines = problems.map((p) => `  ${p.key}: ${p.message}`).join('\n');
    throw new ConfigError(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`, {
      context: { keys: problems.map((p) => p.key) },
    });
  }
  return result.data;
}

/**
 * The core settings only, for the embedded engines' own processes; roles and
 * the platform use parseConfig with their schema. The TIDEMARK_CONFIG file
 * such a process inherits is the platform's, holding every role's keys: they
 * are not this process's to judge (the platform's strict parse names typos).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof Config, unknown>> = {}): Config {
  return parseConfig(configSchema, env, overrides, { otherFileKeys: 'ignore' });
}

/** A copy of the config safe to log: secrets replaced, credentials stripped from URLs. */
export function redactConfig(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (SECRET_KEY.test(key)) out[key] = value === '' ? '' : '<redacted>';
    // Credentials inside URLs anywhere in a value (lists of URLs too).
    else if (typeof value === 'string' && /:\/\/[^/@\s,]*@/.test(value)) out[key] = value.replace(/\/\/[^/@\s,]*@/g, '//<redacted>@');
    else out[key] = value;
  }
  return out;
}
