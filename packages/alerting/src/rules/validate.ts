import type { ClickHouse } from '@tidemark/core';
import { classifyError, placeholderNames, splitStatements, statementKeyword } from '@tidemark/core';
import { planColumns, ruleParams, RuleShapeError, type Column } from '../engine/evaluate';
import type { RuleSpec } from './schema';

export interface FieldProblem {
  /** Field of the rule, e.g. "sql" or "value_column". */
  field: string;
  message: string;
}

/** Platform tables that hold every project's rows: rule SQL reading them must filter by {project_id:String}. */
const PROJECT_SCOPED = /\b(events_raw|events_1[mhd]|event_measures_1[mhd]|metrics_raw|metrics_1[mhd]|logs_raw|ingest_warnings)_v\d+\b/i;

/** The SQL with string literals, quoted identifiers and comments blanked, for keyword checks. */
export function codeOnly(sql: string): string {
  return sql
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "''")
    .replace(/"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, 'x')
    .replace(/--[^\n]*|#[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ');
}

/** Checks that need no server: one read-only statement, no SETTINGS/FORMAT, the tenant filter. */
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
  if (PROJECT_SCOPED.test(code) && !placeholderNames(rule.sql).includes('project_id')) {
    problems.push({
      field: 'sql',
      message: `reads ${PROJECT_SCOPED.exec(code)?.[0]}, which holds every project's data: filter it with project_id = {project_id:String}`,
    });
  }
  return problems;
}

/**
 * Checks a rule's SQL against ClickHouse as the read-only user: EXPLAIN
 * (syntax, tables, columns, types) and DESCRIBE of the query (which column
 * is the value, which are labels). Nothing is executed. Each problem names
 * the field and carries ClickHouse's own message.
 */
export async function checkRuleSql(ro: ClickHouse, rule: RuleSpec, projectId: string, now: number): Promise<{ problems: FieldProblem[]; columns?: Column[] }> {
  const problems = checkSqlText(rule);
  if (problems.length > 0) return { problems };
  const query_params = ruleParams(rule, projectId, now);
  const clickhouse_settings = { max_execution_time: 10 };
  try {
    await (await ro.client.query({ query: `EXPLAIN ${rule.sql}`, format: 'JSONEachRow', query_params, clickhouse_settings })).json();
  } catch (err) {
    const e = classifyError(err, 'clickhouse');
    const type = (e.context as { type?: string }).type;
    return { problems: [{ field: 'sql', message: `ClickHouse rejected the query${type ? ` (${type})` : ''}: ${e.message}` }] };
  }
  let columns: Column[];
  try {
    const rows = (await (await ro.client.query({ query: `DESCRIBE TABLE (${rule.sql})`, format: 'JSONEachRow', query_params, clickhouse_settings })).json()) as { name: string; type: string }[];
    columns = rows.map((r) => ({ name: r.name, type: r.type }));
  } catch (err) {
    const e = classifyError(err, 'clickhouse');
    return { problems: [{ field: 'sql', message: `ClickHouse could not describe the result: ${e.message}` }] };
  }
  try {
    planColumns(rule, columns);
  } catch (err) {
    if (err instanceof RuleShapeError) return { problems: [{ field: rule.value_column ? 'value_column' : 'sql', message: err.message }], columns };
    throw err;
  }
  return { problems: [], columns };
}
