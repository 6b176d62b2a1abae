import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError } from '../errors';
import { CONFIG_KEYS, configSchema, type Config } from './schema';

export { configSchema, CONFIG_KEYS, type Config, type ConfigInput } from './schema';

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
 * Parses the whole configuration once. Sources, lowest precedence first: the
 * file named by TIDEMARK_CONFIG, then the environment, then `overrides`
 * (command-line flags). Unknown keys in the file are errors (typos must not
 * pass silently); unknown environment variables are ignored.
 *
 * @throws ConfigError naming every bad key with its problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof Config, unknown>> = {}): Config {
  const file = env.TIDEMARK_CONFIG ? readConfigFile(env.TIDEMARK_CONFIG) : {};
  const unknown = Object.keys(file).filter((k) => !(CONFIG_KEYS as string[]).includes(k));
  const merged: Record<string, unknown> = { ...file };
  for (const key of CONFIG_KEYS) {
    if (env[key] !== undefined) merged[key] = env[key];
    if (overrides[key] !== undefined) merged[key] = overrides[key];
  }
  const result = configSchema.safeParse(merged);
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

/** A copy of the config safe to log: secrets replaced, credentials stripped from URLs. */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (SECRET_KEY.test(key)) out[key] = value === '' ? '' : '<redacted>';
    // Credentials inside URLs anywhere in a value (lists of URLs too).
    else if (typeof value === 'string' && /:\/\/[^/@\s,]*@/.test(value)) out[key] = value.replace(/\/\/[^/@\s,]*@/g, '//<redacted>@');
    else out[key] = value;
  }
  return out;
}
