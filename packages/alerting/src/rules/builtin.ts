import fs from 'node:fs';
import path from 'node:path';
import { parseRuleFile, type ParsedFile } from './load';

/** The shipped example rules (packages/alerting/builtin-rules/examples.yaml; same depth from src/ and dist/). */
export const BUILTIN_RULES_FILE = path.resolve(__dirname, '..', '..', 'builtin-rules', 'examples.yaml');

/** Names of every built-in rule. */
export function builtinRuleNames(): string[] {
  return parseRuleFile(BUILTIN_RULES_FILE, fs.readFileSync(BUILTIN_RULES_FILE, 'utf8'), 'x').rules.map((r) => r.spec.name);
}

/**
 * The built-in rules ALERTING_BUILTIN_RULES turns on ("all", or names), for
 * the project ALERTING_BUILTIN_PROJECT. An unknown name is a problem, not
 * silently ignored.
 */
export function builtinRuleFile(selection: string, project: string): ParsedFile {
  const parsed = parseRuleFile(BUILTIN_RULES_FILE, fs.readFileSync(BUILTIN_RULES_FILE, 'utf8'), project);
  const wanted = selection
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.includes('all')) return parsed;
  const known = new Set(parsed.rules.map((r) => r.spec.name));
  const unknown = wanted.filter((w) => !known.has(w));
  return {
    ...parsed,
    rules: parsed.rules.filter((r) => wanted.includes(r.spec.name)),
    problems: [
      ...parsed.problems,
      ...unknown.map((u) => ({ file: 'ALERTING_BUILTIN_RULES', field: u, message: `no built-in rule named "${u}"; built-ins: ${[...known].join(', ')}` })),
    ],
  };
}
