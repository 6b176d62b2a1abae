import type { ClickHouse } from '@tidemark/core';
import { classifyError, placeholderNames, TenantQuery, TidemarkError } from '@tidemark/core';
import { judge, type RuleSpec } from '../rules/schema';
import type { Observation } from '../state/types';
import { labelsFingerprint } from '../util/hash';
import { compileTemplate, type CompiledTemplate } from '../util/template';

/** The rule's result could not be turned into instances (not a ClickHouse failure). */
export class RuleShapeError extends TidemarkError<{ rule: string }> {
  constructor(message: string, rule: string) {
    super(message, { code: 'RULE_RESULT_INVALID', retriable: false, statusCode: 400 }, { context: { rule } });
  }
}

export interface Column {
  name: string;
  type: string;
}

/** One row of a rule's result. */
export interface RuleRow {
  fingerprint: string;
  /** The row's string columns. */
  labels: Record<string, string>;
  value: number | null;
  /** Every other column, for templates ({{ columns.x }}). */
  columns: Record<string, unknown>;
}

const NUMERIC = /^(?:Nullable\()?(?:LowCardinality\()?(?:U?Int(?:8|16|32|64|128|256)|Float(?:32|64)|BFloat16|Decimal(?:32|64|128|256)?\(.*\)|Bool)\)?\)?$/;
const STRING = /^(?:Nullable\()?(?:LowCardinality\()?(?:Nullable\()?(?:String|FixedString\(\d+\)|Enum(?:8|16)?\(.*\)|UUID|IPv4|IPv6)\)?\)?\)?$/;

export const isNumericType = (t: string): boolean => NUMERIC.test(t);
export const isStringType = (t: string): boolean => STRING.test(t);

/**
 * How a result's columns are read: which is the value, which are labels.
 * The same function checks a rule at load (from DESCRIBE) and reads every
 * evaluation, so a rule that validates is read the way it was checked.
 */
export function planColumns(rule: RuleSpec, columns: Column[]): { value: string | null; labels: string[]; others: string[] } {
  const numeric = columns.filter((c) => isNumericType(c.type)).map((c) => c.name);
  let value: string | null;
  if (rule.value_column) {
    const col = columns.find((c) => c.name === rule.value_column);
    if (!col)
      throw new RuleShapeError(
        `value_column "${rule.value_column}" is not a column of the result (columns: ${columns.map((c) => c.name).join(', ')})`,
        rule.name,
      );
    if (!isNumericType(col.type)) throw new RuleShapeError(`value_column "${rule.value_column}" has type ${col.type}; it must be numeric`, rule.name);
    value = col.name;
  } else if (numeric.length === 1) value = numeric[0] as string;
  else if (numeric.includes('value')) value = 'value';
  else if (numeric.length === 0) {
    if (rule.condition)
      throw new RuleShapeError(
        `the result has no numeric column to compare with the threshold (columns: ${columns.map((c) => `${c.name} ${c.type}`).join(', ')})`,
        rule.name,
      );
    value = null;
  } else {
    throw new RuleShapeError(`the result has several numeric columns (${numeric.join(', ')}); name one "value" or set value_column`, rule.name);
  }
  const labels = columns.filter((c) => c.name !== value && isStringType(c.type)).map((c) => c.name);
  const others = columns.filter((c) => c.name !== value && !labels.includes(c.name)).map((c) => c.name);
  return { value, labels, others };
}

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** ClickHouse text for a time, in the type the SQL declared for {now:...}. */
export function formatNow(at: number, declaredType: string | undefined): string | number {
  const iso = new Date(at).toISOString();
  if (declaredType && /^(Nullable\()?DateTime(\(|$)/.test(declaredType.trim())) return Math.floor(at / 1000);
  if (declaredType && /^(Nullable\()?Date(32)?$/.test(declaredType.trim())) return iso.slice(0, 10);
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** Types the SQL declares for each placeholder: {now:DateTime} → { now: 'DateTime' }. */
export function placeholderTypes(sql: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of sql.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^}]+)\}/g)) out[m[1] as string] ??= (m[2] as string).trim();
  return out;
}

/** The parameters the rule's SQL uses, bound for one run. */
export function ruleParams(rule: RuleSpec, projectId: string, at: number): Record<string, string | number> {
  const used = placeholderNames(rule.sql);
  const types = placeholderTypes(rule.sql);
  const params: Record<string, string | number> = {};
  if (used.includes('now')) params.now = formatNow(at, types.now);
  if (used.includes('project_id')) params.project_id = projectId;
  return params;
}

export interface QueryLimits {
  timeoutMs: number;
  maxRows: number;
  /** Bytes of one answer (default RULE_MAX_RESULT_BYTES). */
  maxResultBytes?: number;
  /** Engine memory of one evaluation (default RULE_MAX_MEMORY_BYTES). */
  maxMemoryBytes?: number;
}

/** A rule's answer is labels and values: 16 MiB is far more than any sane rule returns. */
export const RULE_MAX_RESULT_BYTES = 16 * 1024 * 1024;
export const RULE_MAX_MEMORY_BYTES = 512 * 1024 * 1024;

/** The tenant read path's limits for one rule query. */
export function tenantLimits(limits: QueryLimits): { timeoutMs: number; maxRows: number; maxResultBytes: number; maxMemoryBytes: number } {
  return {
    timeoutMs: limits.timeoutMs,
    maxRows: limits.maxRows,
    maxResultBytes: limits.maxResultBytes ?? RULE_MAX_RESULT_BYTES,
    maxMemoryBytes: limits.maxMemoryBytes ?? RULE_MAX_MEMORY_BYTES,
  };
}

/** Rule SQL limits: the rule's own timeout, never above the configured cap. */
export function effectiveTimeout(rule: RuleSpec, capMs: number): number {
  return Math.min(rule.timeout ?? capMs, capMs);
}

/**
 * Runs the rule's SQL once, at time `at`, through core's tenant-scoped read
 * path (TenantQuery): ClickHouse's parser checks the statement, the
 * read-only user runs it with every tenant table filtered to `projectId` by
 * the engine, whatever the SQL says; {project_id:String} is only a
 * convenience. Time limit (max_execution_time plus a client-side backstop),
 * row limit (max_result_rows, overflow = error), byte and memory limits.
 * Returns one RuleRow per result row.
 *
 * @throws a classified TidemarkError (refused SQL, ClickHouse error, timeout)
 *         or RuleShapeError (no value column, duplicate label sets).
 */
export async function runRuleQuery(ro: ClickHouse, rule: RuleSpec, projectId: string, at: number, limits: QueryLimits): Promise<RuleRow[]> {
  let data: unknown[];
  try {
    const body = await TenantQuery.for(ro).run(projectId, rule.sql, {
      params: ruleParams(rule, projectId, at),
      format: 'JSONCompactEachRowWithNamesAndTypes',
      limits: tenantLimits(limits),
    });
    data = body
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as unknown);
  } catch (err) {
    const e = classifyError(err, 'clickhouse');
    (e.context as Record<string, unknown>).rule = rule.name;
    throw e;
  }
  const [names, types, ...rows] = data as unknown[][];
  if (!names || !types) throw new RuleShapeError('ClickHouse returned no column header', rule.name);
  const columns = names.map((n, i) => ({ name: String(n), type: String(types[i]) }));
  const plan = planColumns(rule, columns);
  const idx = new Map(columns.map((c, i) => [c.name, i]));
  const seen = new Map<string, number>();
  const out: RuleRow[] = [];
  rows.forEach((row, r) => {
    const labels: Record<string, string> = {};
    for (const l of plan.labels) {
      const v = row[idx.get(l) as number];
      labels[l] = v === null || v === undefined ? '' : String(v);
    }
    const fingerprint = labelsFingerprint(labels);
    const dup = seen.get(fingerprint);
    if (dup !== undefined) {
      const shown = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(', ');
      throw new RuleShapeError(
        `rows ${dup + 1} and ${r + 1} have the same label set {${shown}}; each row must have its own (add a column or GROUP BY it)`,
        rule.name,
      );
    }
    seen.set(fingerprint, r);
    const extra: Record<string, unknown> = {};
    for (const o of plan.others) extra[o] = row[idx.get(o) as number];
    out.push({ fingerprint, labels, value: plan.value === null ? null : toNumber(row[idx.get(plan.value) as number]), columns: extra });
  });
  return out;
}

/**
 * A relative-change rule: the same SQL at `at` and at `at - offset`, rows
 * matched by label set, value = change in percent. A row without a previous
 * value (or a previous 0) has no change: value null, never active.
 */
export async function runRule(ro: ClickHouse, rule: RuleSpec, projectId: string, at: number, limits: QueryLimits): Promise<RuleRow[]> {
  const change = rule.condition?.change;
  if (!change) return runRuleQuery(ro, rule, projectId, at, limits);
  const [cur, prev] = await Promise.all([runRuleQuery(ro, rule, projectId, at, limits), runRuleQuery(ro, rule, projectId, at - change.offset, limits)]);
  const before = new Map(prev.map((r) => [r.fingerprint, r.value]));
  return cur.map((r) => {
    const p = before.get(r.fingerprint) ?? null;
    const pct = r.value === null || p === null || p === 0 ? null : ((r.value - p) / Math.abs(p)) * 100;
    return { ...r, value: pct, columns: { ...r.columns, current: r.value, previous: p } };
  });
}

const templateCache = new WeakMap<RuleSpec, Map<string, CompiledTemplate>>();

/** Annotations of one instance, rendered from the rule's templates. */
export function renderAnnotations(
  rule: RuleSpec,
  ctx: { labels: Record<string, string>; value: number | null; severity: string; columns?: Record<string, unknown> },
): Record<string, string> {
  let compiled = templateCache.get(rule);
  if (!compiled) {
    compiled = new Map(Object.entries(rule.annotations).map(([k, v]) => [k, compileTemplate(v)]));
    templateCache.set(rule, compiled);
  }
  const out: Record<string, string> = {};
  const data = { ...ctx, rule: rule.name, alertname: rule.name, columns: ctx.columns ?? {} };
  for (const [k, t] of compiled) out[k] = t.render(data);
  return out;
}

/** The labels an instance carries in notifications: row labels, then rule labels, then alertname and severity. */
export function instanceLabels(rule: RuleSpec, rowLabels: Record<string, string>, severity: string): Record<string, string> {
  return { ...rowLabels, ...rule.labels, alertname: rule.name, severity };
}

/** Observations of a successful evaluation: one per row. */
export function observe(rule: RuleSpec, rows: RuleRow[]): Observation[] {
  return rows.map((row) => {
    const { active, severity } = judge(rule, row.value);
    const labels = instanceLabels(rule, row.labels, severity);
    return {
      fingerprint: row.fingerprint,
      kind: 'alert',
      labels,
      annotations: active ? renderAnnotations(rule, { labels, value: row.value, severity, columns: row.columns }) : {},
      active,
      severity,
      value: row.value,
    };
  });
}

/** The fingerprints of a rule's NoData and Error instances (fixed per rule). */
export const NODATA_FINGERPRINT = labelsFingerprint({ __tidemark_kind__: 'nodata' });
export const ERROR_FINGERPRINT = labelsFingerprint({ __tidemark_kind__: 'error' });

/** The NoData / Error instance of a rule, active or not. */
export function healthObservation(rule: RuleSpec, kind: 'nodata' | 'error', active: boolean, message?: string): Observation {
  const labels = { ...rule.labels, alertname: rule.name, severity: rule.severity, alertstate: kind === 'nodata' ? 'NoData' : 'Error' };
  const summary = kind === 'nodata' ? `${rule.name}: the rule's query returned no rows` : `${rule.name}: the rule's query failed: ${message ?? ''}`;
  return {
    fingerprint: kind === 'nodata' ? NODATA_FINGERPRINT : ERROR_FINGERPRINT,
    kind,
    labels,
    annotations: active ? { summary, ...(message ? { error: message } : {}) } : {},
    active,
    severity: rule.severity,
    value: null,
  };
}
