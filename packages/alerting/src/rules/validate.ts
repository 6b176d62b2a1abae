import type { ClickHouse } from '@tidemark/core';
import { classifyError, splitStatements, statementKeyword, TenantQuery } from '@tidemark/core';
import { planColumns, ruleParams, RuleShapeError, tenantLimits, type Column } from '../engine/evaluate';
import type { RuleSpec } from './schema';

export interface FieldProblem {
  /** Field of the rule, e.g. "sql" or "value_column". */
  field: string;
  message: string;
}

/** The SQL with string literals, quoted identifiers and comments blanked, for keyword checks. */
export function codeOnly(sql: string): string {
  return sql
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "''")
    .replace(/"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, 'x')
    .replace(/--[^\n]*|#[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ');
}

/**
 * Early messages that need no server: one statement, a SELECT, no
 * SETTINGS/FORMAT. They are conveniences for rule files; the guard is core's
 * TenantQuery (ClickHouse's parser, the function allowlist, the engine's
 * per-project filters), which every rule query goes through.
 */
export function checkSqlText(rule: RuleSpec): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const statements = splitStatements(rule.sql);
  if (statements.length !== 1) {
    problems.push({ field: 'sql', message: `must be exactly one statement (found ${statements.length})` });
    return problems;
  }
  const kw = statementKeyword(rule.sql);
  if (kw !== 'SELECT' && kw !== 'WITH') problems.push({ field: 'sql', message: `must be a SELECT (rules are read-only), not ${kw || 'empty'}` });
  const code = codeOnly(rule.sql);
  // The engine sets the limits and the format; a SETTINGS clause could lift the limits.
  if (/\bSETTINGS\b/i.test(code)) problems.push({ field: 'sql', message: 'must not have a SETTINGS clause: the engine sets time and row limits' });
  if (/\bFORMAT\b/i.test(code)) problems.push({ field: 'sql', message: 'must not have a FORMAT clause: the engine reads the result itself' });
  return problems;
}

/**
 * Checks a rule's SQL against ClickHouse through core's tenant read path:
 * the statement is parsed by ClickHouse (never executed as written: no
 * EXPLAIN of the user's text, which could carry INTO OUTFILE), checked
 * against the allowlists, then DESCRIBEd as the read-only user with the
 * project's filters to learn which column is the value and which are
 * labels. Each problem names the field and carries the reason.
 */
export async function checkRuleSql(ro: ClickHouse, rule: RuleSpec, projectId: string, now: number): Promise<{ problems: FieldProblem[]; columns?: Column[] }> {
  const problems = checkSqlText(rule);
  if (problems.length > 0) return { problems };
  const params = ruleParams(rule, projectId, now);
  let columns: Column[];
  try {
    columns = await TenantQuery.for(ro).describe(projectId, rule.sql, params, tenantLimits({ timeoutMs: 10_000, maxRows: 10_000 }));
  } catch (err) {
    const e = classifyError(err, 'clickhouse');
    if (e.statusCode === 403) return { problems: [{ field: 'sql', message: `not allowed: ${e.message}` }] };
    const type = (e.context as { type?: string }).type;
    return { problems: [{ field: 'sql', message: `ClickHouse rejected the query${type ? ` (${type})` : ''}: ${e.message}` }] };
  }
  try {
    planColumns(rule, columns);
  } catch (err) {
    if (err instanceof RuleShapeError) return { problems: [{ field: rule.value_column ? 'value_column' : 'sql', message: err.message }], columns };
    throw err;
  }
  return { problems: [], columns };
}
