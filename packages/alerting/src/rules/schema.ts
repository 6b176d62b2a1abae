import { z } from 'zod';
import { placeholderNames } from '@tidemark/core';
import { duration } from '../util/duration';
import { compileTemplate, TemplateError } from '../util/template';

/**
 * The one schema of an alert rule. YAML files, built-in rules and the API
 * all go through it; Postgres stores its output (`RuleSpec`). Field names are
 * snake_case because they are written by people in YAML.
 */

export const SEVERITIES = ['INFO', 'WARNING', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SEVERITY_RANK: Record<Severity, number> = { INFO: 1, WARNING: 2, CRITICAL: 3 };

export const OPS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Op = (typeof OPS)[number];

/** Query parameters rule SQL may use; the engine binds both on every run. */
export const RULE_PARAMS = ['now', 'project_id'] as const;

export const projectIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a project id (a-z, 0-9, _ and -, up to 63)');
export const labelNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a label name ([A-Za-z_][A-Za-z0-9_]*)');
export const ruleNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,127}$/, 'must start with a letter and hold only letters, digits and _ (up to 128)');

/** A template string, compiled here so a broken one is reported at its field. */
export const templateSchema = z
  .string()
  .max(10_000)
  .superRefine((v, ctx) => {
    try {
      compileTemplate(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid template: ${err instanceof TemplateError ? err.message : String(err)}` });
    }
  });

const thresholdsSchema = z
  .strictObject({ INFO: z.number().optional(), WARNING: z.number().optional(), CRITICAL: z.number().optional() })
  .refine((t) => Object.values(t).some((v) => v !== undefined), 'name at least one of INFO, WARNING, CRITICAL');

export const conditionSchema = z
  .strictObject({
    /** value <op> threshold makes the instance active. */
    op: z.enum(OPS),
    /** One threshold: the rule's `severity` applies. */
    threshold: z.number().optional(),
    /** Named severity thresholds: the highest one crossed is the instance's severity. */
    thresholds: thresholdsSchema.optional(),
    /**
     * Relative change: the same SQL also runs at now - offset, rows are
     * matched by label set, and the value becomes the change in percent,
     * (current - previous) / |previous| * 100 (e.g. op "<", threshold -50 for "down by more than half").
     */
    change: z.strictObject({ offset: duration }).optional(),
  })
  .superRefine((c, ctx) => {
    const n = (c.threshold === undefined ? 0 : 1) + (c.thresholds === undefined ? 0 : 1);
    if (n !== 1) ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'give exactly one of threshold or thresholds' });
    if (c.thresholds) {
      if (c.op === '==' || c.op === '!=') {
        ctx.addIssue({ code: 'custom', path: ['thresholds'], message: `severity thresholds need an ordering operator (> >= < <=), not ${c.op}` });
        return;
      }
      // Higher severities must be further past the line, or a CRITICAL value would read as WARNING.
      const up = c.op === '>' || c.op === '>=';
      const present = SEVERITIES.map((s) => [s, c.thresholds?.[s]] as const).filter(([, v]) => v !== undefined) as [Severity, number][];
      for (let i = 1; i < present.length; i++) {
        const [lowS, low] = present[i - 1] as [Severity, number];
        const [highS, high] = present[i] as [Severity, number];
        if (up ? high < low : high > low) {
          ctx.addIssue({
            code: 'custom',
            path: ['thresholds', highS],
            message: `${highS} (${high}) must be ${up ? 'at least' : 'at most'} ${lowS} (${low}) for op ${c.op}`,
          });
        }
      }
    }
    if (c.change && c.change.offset <= 0) ctx.addIssue({ code: 'custom', path: ['change', 'offset'], message: 'must be longer than 0s' });
  });

export const ruleSchema = z
  .strictObject({
    /** The alertname; unique in its project and the identity of the rule's alert state. */
    name: ruleNameSchema,
    description: z.string().max(4000).default(''),
    enabled: z.boolean().default(true),
    /** ClickHouse SELECT returning one row per alert instance; may use {now:DateTime64(3, 'UTC')} and {project_id:String}. */
    sql: z.string().min(1, 'must not be empty').max(100_000),
    /** The numeric column holding the value; needed only when the result has several numeric columns and none is named "value". */
    value_column: labelNameSchema.optional(),
    /** How often the rule runs. */
    interval: duration.prefault('1m'),
    /** Query time limit; capped by ALERTING_QUERY_TIMEOUT_MS. */
    timeout: duration.optional(),
    /** Absent: every returned row is an active instance (the SQL holds the condition). */
    condition: conditionSchema.optional(),
    /** Severity of instances when `condition.thresholds` does not name one. */
    severity: z.enum(SEVERITIES).default('WARNING'),
    /** Pending period: active this long before firing. */
    for: duration.prefault('0s'),
    /** Keeps firing this long after the condition stops holding. */
    keep_firing_for: duration.prefault('0s'),
    /** Added to every instance's labels (and override row labels of the same name). */
    labels: z.record(labelNameSchema, z.string().max(1024)).default({}),
    /** Templates over labels, value, severity and columns, e.g. "CPU {{ value | round:1 }}% on {{ labels.host }}". */
    annotations: z.record(labelNameSchema, templateSchema).default({}),
    /**
     * An empty result. nodata: the rule's NoData instance goes pending, then
     * fires after `for` (default: the rule's for); instances keep their state.
     * ok: empty means all clear. keep_last: nothing changes.
     */
    no_data: z.strictObject({ state: z.enum(['nodata', 'ok', 'keep_last']).default('nodata'), for: duration.optional() }).prefault({}),
    /**
     * A failed query (syntax, timeout, too many rows, duplicate label sets).
     * error: the rule's Error instance fires after `for`; instances keep their
     * state. keep_last: only logged and recorded.
     */
    error: z.strictObject({ state: z.enum(['error', 'keep_last']).default('error'), for: duration.optional() }).prefault({}),
  })
  .superRefine((r, ctx) => {
    if (r.interval < 1000) ctx.addIssue({ code: 'custom', path: ['interval'], message: 'must be at least 1s' });
    if (r.timeout !== undefined && r.timeout < 100) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'must be at least 100ms' });
    const used = placeholderNames(r.sql);
    const unknown = used.filter((p) => !(RULE_PARAMS as readonly string[]).includes(p));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['sql'],
        message: `unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((p) => `{${p}:...}`).join(', ')}; rules may use {now:DateTime64(3, 'UTC')} and {project_id:String}`,
      });
    }
    if (r.condition?.change && !used.includes('now')) {
      ctx.addIssue({
        code: 'custom',
        path: ['condition', 'change'],
        message: "a relative-change rule must select its window with {now:DateTime64(3, 'UTC')}, so it can also run at now - offset",
      });
    }
    if (r.labels.alertname !== undefined || r.labels.severity !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: 'alertname and severity are set by the engine; use name and severity/thresholds' });
    }
  });

export type RuleInput = z.input<typeof ruleSchema>;
export type RuleSpec = z.output<typeof ruleSchema>;

/** Milliseconds an empty result / a failure must last before NoData / Error fire. */
export function noDataFor(r: RuleSpec): number {
  return r.no_data.for ?? r.for;
}
export function errorFor(r: RuleSpec): number {
  return r.error.for ?? r.for;
}

/** True when value `v` is past `threshold` for `op`. */
export function compare(op: Op, v: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return v > threshold;
    case '>=':
      return v >= threshold;
    case '<':
      return v < threshold;
    case '<=':
      return v <= threshold;
    case '==':
      return v === threshold;
    case '!=':
      return v !== threshold;
  }
}

/**
 * Decides one row: active or not, and with which severity. Without a
 * condition a returned row is active. A missing value (NULL, NaN) is never
 * past a threshold.
 */
export function judge(rule: RuleSpec, value: number | null): { active: boolean; severity: Severity } {
  const c = rule.condition;
  if (!c) return { active: true, severity: rule.severity };
  if (value === null || !Number.isFinite(value)) return { active: false, severity: rule.severity };
  if (c.thresholds) {
    for (const s of [...SEVERITIES].reverse()) {
      const t = c.thresholds[s];
      if (t !== undefined && compare(c.op, value, t)) return { active: true, severity: s };
    }
    return { active: false, severity: rule.severity };
  }
  return { active: compare(c.op, value, c.threshold as number), severity: rule.severity };
}

/** One problem of a rule, pointing at where it is written. */
export interface RuleProblem {
  /** File (or "api") the rule came from. */
  file: string;
  rule?: string;
  /** Dotted path of the field, e.g. rules[2].condition.threshold. */
  field?: string;
  message: string;
}

/** A zod issue's message; for a bad record key, the key's own problem (zod only says "Invalid key in record"). */
export function issueMessage(i: z.core.$ZodIssue): string {
  const inner = (i as { issues?: { message: string }[] }).issues;
  if (i.code === 'invalid_key' && inner?.[0]) return `${inner[0].message} (the key)`;
  const keys = i.code === 'unrecognized_keys' ? ` (${(i as { keys?: string[] }).keys?.join(', ')})` : '';
  return `${i.message}${keys}`;
}

/** Zod issues as problems, with paths under `prefix`. */
export function zodProblems(error: z.ZodError, file: string, prefix: string, rule?: string): RuleProblem[] {
  return error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const field = `${prefix}${path}`.replace(/^\./, '');
    return { file, ...(rule ? { rule } : {}), ...(field ? { field } : {}), message: issueMessage(i) };
  });
}
