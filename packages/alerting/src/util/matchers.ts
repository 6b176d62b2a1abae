import { RE2JS } from 're2js';
import { z } from 'zod';

/**
 * Label matchers with Alertmanager semantics: `=`, `!=`, `=~`, `!~`; regexes
 * are anchored at both ends; a missing label matches as the empty string.
 * Used by routes, silences and maintenance windows alike.
 *
 * Regexes run on re2js, RE2's syntax and linear-time matching as in
 * Alertmanager (Go's regexp): a user's pattern such as `(a+)+$` cannot
 * stall the event loop the way a backtracking RegExp does, and RE2-only
 * syntax errors (backreferences, lookaround) are reported where the
 * matcher is written.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
}

const MATCHER_TEXT = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]*))\s*$/;

/** Parses `name="value"`, `name=~"re.*"`, `name!=value`. */
export function parseMatcher(text: string): Matcher | string {
  const m = MATCHER_TEXT.exec(text);
  if (!m) return `"${text}" is not a matcher; write name="value", name!="value", name=~"regex" or name!~"regex"`;
  const value = m[3] !== undefined ? (JSON.parse(`"${m[3]}"`) as string) : (m[4] ?? '');
  return { name: m[1] as string, op: m[2] as MatchOp, value };
}

const regexCache = new Map<string, RE2JS>();

/** Compiled as Alertmanager does: `^(?:re)$`. @throws re2js' syntax error for a pattern RE2 rejects. */
function anchored(re: string): RE2JS {
  let r = regexCache.get(re);
  if (!r) {
    r = RE2JS.compile(`^(?:${re})$`);
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(re, r);
  }
  return r;
}

export function matches(m: Matcher, labels: Record<string, string>): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return anchored(m.value).test(v);
    case '!~':
      return !anchored(m.value).test(v);
  }
}

/** Every matcher matches (an empty list matches everything). */
export function matchesAll(ms: readonly Matcher[], labels: Record<string, string>): boolean {
  return ms.every((m) => matches(m, labels));
}

const matcherObject = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a label name'),
  op: z.enum(['=', '!=', '=~', '!~']).default('='),
  value: z.string(),
});

/**
 * A matcher as stored (jsonb of a validated silence, window or policy): the
 * object form only, no regex compiled here (matching compiles and caches).
 */
export const storedMatcherSchema = z.object({ name: z.string(), op: z.enum(['=', '!=', '=~', '!~']), value: z.string() });

/**
 * A matcher written as text (`severity="CRITICAL"`) or as an object; regexes
 * are compiled here so a bad one is reported where it is written.
 */
export const matcherSchema = z.union([z.string(), matcherObject]).transform((v, ctx): Matcher => {
  const m = typeof v === 'string' ? parseMatcher(v) : (v as Matcher);
  if (typeof m === 'string') {
    ctx.addIssue({ code: 'custom', message: m });
    return z.NEVER;
  }
  if (m.op === '=~' || m.op === '!~') {
    try {
      anchored(m.value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid regex ${JSON.stringify(m.value)}: ${(err as Error).message}` });
      return z.NEVER;
    }
  }
  return m;
});

/** A list of matchers, or a map of label: value equalities. */
export const matchersSchema = z.union([
  z.array(matcherSchema),
  z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a label name'), z.string())
    .transform((o): Matcher[] => Object.entries(o).map(([name, value]) => ({ name, op: '=', value }))),
]);
