import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError } from '@tidemark/core';
import { etlConfigSchema, resolveConfig, type EtlConfig } from './schema';

/** `sources[0].tables[2].mode` from a zod path. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const part of p) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

/**
 * Replaces ${VAR} in every string of the document (so passwords stay out of
 * the file). A missing variable is an error naming the field that uses it.
 */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, at: (string | number)[], problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name];
      if (v === undefined) {
        problems.push(`${formatPath(at)}: environment variable ${name} is not set`);
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...at, i], problems));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, [...at, k], problems);
    return out;
  }
  return value;
}

/**
 * Validates an ETL config document (already parsed from YAML/JSON, or built
 * in code). `file` names it in errors.
 *
 * @throws ConfigError listing every problem as `<file>: <path>: <message>`.
 */
export function parseEtlConfig(doc: unknown, opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): EtlConfig {
  const file = opts.file ?? '<inline ETL config>';
  const problems: string[] = [];
  const interpolated = interpolate(doc, opts.env ?? process.env, [], problems);
  const result = etlConfigSchema.safeParse(interpolated);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${formatPath(issue.path)}: ${issue.message}`);
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(
      `invalid ETL config ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${file}: ${p}`).join('\n')}`,
      {
        context: { keys: problems.map((p) => p.split(':')[0] ?? p) },
      },
    );
  }
  return resolveConfig(result.data);
}

/** Reads and validates the ETL config file (YAML, or JSON when it ends in .json). */
export function loadEtlConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): EtlConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`ETL_CONFIG: cannot read ${file}: ${(err as Error).message}`, { context: { keys: ['ETL_CONFIG'] } });
  }
  let doc: unknown;
  try {
    doc = path.extname(file) === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`ETL_CONFIG: ${file} is not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, {
      context: { keys: ['ETL_CONFIG'] },
    });
  }
  return parseEtlConfig(doc, { file, env });
}
