import { z } from 'zod';
import { pgExec, pgMaybeOne, pgRows, type Queryable } from '@tidemark/core';
import { retire } from '../engine/state-machine';
import { evaluationPhase, nextSlot } from '../engine/schedule';
import { applySteps, loadActiveInstances } from '../state/store';
import type { StepResult } from '../state/types';
import { hashParts, stableJson } from '../util/hash';
import { ruleSchema, type RuleInput, type RuleSpec } from './schema';

export type RuleSource = 'file' | 'builtin' | 'api';

/** A rule as stored: `spec` is the validated input, as written (durations as text). */
export interface StoredRule {
  projectId: string;
  name: string;
  source: RuleSource;
  sourceFile: string | null;
  spec: RuleInput;
  enabled: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * Stored specs were validated when written; the row schema checks only that
 * one is an object (parseStoredSpec restores the full spec where it is run).
 */
const storedSpec = z.custom<RuleInput>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'stored rule spec must be an object');

const ruleRow = z.object({
  project_id: z.string(),
  name: z.string(),
  source: z.enum(['file', 'builtin', 'api']),
  source_file: z.string().nullable(),
  spec: storedSpec,
  enabled: z.boolean(),
  version: z.number(),
  created_at: z.date(),
  updated_at: z.date(),
});
const RULE_COLUMNS = 'project_id, name, source, source_file, spec, enabled, version, created_at, updated_at';

function rowToRule(r: z.output<typeof ruleRow>): StoredRule {
  return {
    projectId: r.project_id,
    name: r.name,
    source: r.source,
    sourceFile: r.source_file,
    spec: r.spec,
    enabled: r.enabled,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

const parsed = new Map<string, RuleSpec>();

/**
 * The parsed spec of a stored rule, cached by its hash (stored specs were
 * validated when written; parsing restores durations and defaults).
 */
export function parseStoredSpec(spec: unknown, specHash?: string): RuleSpec {
  const key = specHash ?? hashParts(stableJson(spec));
  let r = parsed.get(key);
  if (!r) {
    r = ruleSchema.parse(spec);
    if (parsed.size > 20_000) parsed.clear();
    parsed.set(key, r);
  }
  return r;
}

export const specHash = (spec: unknown): string => hashParts(stableJson(spec));

/**
 * Creates or replaces a rule, in the caller's transaction. The alert state
 * is keyed by (project, rule name, fingerprint) and is never reset by an
 * edit: the next evaluation applies the new definition to the existing
 * instances (an annotation-only edit changes nothing but the text).
 * Disabling a rule resolves its instances (with notifications).
 */
const LOCK_RULE_HEAD = {
  name: 'lockRuleHead',
  sql: 'SELECT spec_hash, source, enabled, source_file FROM alert_rules WHERE project_id = $1 AND name = $2 FOR UPDATE',
  row: z.object({ spec_hash: z.string(), source: z.string(), enabled: z.boolean(), source_file: z.string().nullable() }),
};

export async function upsertRule(
  client: Queryable,
  projectId: string,
  input: RuleInput,
  source: RuleSource,
  sourceFile: string | null,
  now: number,
  /** ALERTING_SPREAD_EVALUATIONS. */
  spread: boolean,
): Promise<'created' | 'updated' | 'unchanged'> {
  const spec = ruleSchema.parse(input);
  const hash = specHash(input);
  const prev = await pgMaybeOne(client, LOCK_RULE_HEAD, [projectId, spec.name]);
  if (prev && prev.spec_hash === hash && prev.source === source && prev.source_file === sourceFile) return 'unchanged';
  if (!prev) {
    await pgExec(client, `INSERT INTO alert_rules (project_id, name, source, source_file, spec, spec_hash, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      projectId,
      spec.name,
      source,
      sourceFile,
      JSON.stringify(input),
      hash,
      spec.enabled,
    ]);
  } else {
    await pgExec(
      client,
      `UPDATE alert_rules SET source = $3, source_file = $4, spec = $5, spec_hash = $6, enabled = $7, version = version + 1, updated_at = now()
       WHERE project_id = $1 AND name = $2`,
      [projectId, spec.name, source, sourceFile, JSON.stringify(input), hash, spec.enabled],
    );
  }
  // New: due at its first slot (now, when not spread). An edit never delays the next evaluation past one new interval.
  const phase = evaluationPhase(projectId, spec.name, spec.interval, spread);
  await pgExec(
    client,
    `INSERT INTO alert_rule_schedule (project_id, rule_name, next_eval_at) VALUES ($1, $2, $3)
     ON CONFLICT (project_id, rule_name) DO UPDATE SET next_eval_at = LEAST(alert_rule_schedule.next_eval_at, $4::timestamptz)`,
    [
      projectId,
      spec.name,
      new Date(nextSlot(now, spec.interval, phase, true)).toISOString(),
      new Date(nextSlot(now, spec.interval, phase, false)).toISOString(),
    ],
  );
  if (prev?.enabled && !spec.enabled) await retireInstances(client, projectId, spec.name, now, 'rule disabled');
  return prev ? 'updated' : 'created';
}

/**
 * Ends every active instance of a rule: firing ones resolve (their resolve
 * notification is queued in this transaction), pending ones go inactive.
 * Instance rows are kept, so the episode numbers of a re-created rule keep
 * counting and dedup keys never repeat.
 */
export async function retireInstances(client: Queryable, projectId: string, ruleName: string, now: number, why: string): Promise<number> {
  const active = await loadActiveInstances(client, projectId, ruleName);
  const results = active.map((i) => retire(i, now)).filter((r): r is StepResult => r !== undefined);
  await applySteps(client, projectId, ruleName, results, now, why);
  return results.length;
}

/** Deletes a rule after retiring its instances. */
const LOCK_RULE = {
  name: 'lockRule',
  sql: 'SELECT 1 AS one FROM alert_rules WHERE project_id = $1 AND name = $2 FOR UPDATE',
  row: z.object({ one: z.number() }),
};

export async function deleteRule(client: Queryable, projectId: string, name: string, now: number, why = 'rule deleted'): Promise<boolean> {
  if (!(await pgMaybeOne(client, LOCK_RULE, [projectId, name]))) return false;
  await retireInstances(client, projectId, name, now, why);
  // The schedule row goes with the rule (ON DELETE CASCADE): an evaluation in flight loses its lease and writes nothing.
  await pgExec(client, 'DELETE FROM alert_rules WHERE project_id = $1 AND name = $2', [projectId, name]);
  return true;
}

const GET_RULE = { name: 'getRule', sql: `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE project_id = $1 AND name = $2`, row: ruleRow };
const LIST_RULES = { name: 'listRules', sql: `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE project_id = $1 ORDER BY name`, row: ruleRow };
const PROJECT_EXISTS = { name: 'projectExists', sql: 'SELECT 1 AS one FROM projects WHERE id = $1', row: z.object({ one: z.number() }) };

export async function getRule(db: Queryable, projectId: string, name: string): Promise<StoredRule | undefined> {
  const r = await pgMaybeOne(db, GET_RULE, [projectId, name]);
  return r ? rowToRule(r) : undefined;
}

export async function listRules(db: Queryable, projectId: string): Promise<StoredRule[]> {
  return (await pgRows(db, LIST_RULES, [projectId])).map(rowToRule);
}

export async function projectExists(db: Queryable, projectId: string): Promise<boolean> {
  return (await pgMaybeOne(db, PROJECT_EXISTS, [projectId])) !== undefined;
}
