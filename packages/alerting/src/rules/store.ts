import type { Pool, PoolClient } from 'pg';
import { retire } from '../engine/state-machine';
import { evaluationPhase, nextSlot } from '../engine/schedule';
import { applySteps, INSTANCE_COLUMNS, rowToInstance } from '../state/store';
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

interface RuleRow {
  project_id: string;
  name: string;
  source: RuleSource;
  source_file: string | null;
  spec: RuleInput;
  spec_hash: string;
  enabled: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export function rowToRule(r: RuleRow): StoredRule {
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
export async function upsertRule(
  client: PoolClient,
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
  const { rows } = await client.query<{ spec_hash: string; source: string; enabled: boolean; source_file: string | null }>(
    'SELECT spec_hash, source, enabled, source_file FROM alert_rules WHERE project_id = $1 AND name = $2 FOR UPDATE',
    [projectId, spec.name],
  );
  const prev = rows[0];
  if (prev && prev.spec_hash === hash && prev.source === source && prev.source_file === sourceFile) return 'unchanged';
  if (!prev) {
    await client.query(
      `INSERT INTO alert_rules (project_id, name, source, source_file, spec, spec_hash, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [projectId, spec.name, source, sourceFile, JSON.stringify(input), hash, spec.enabled],
    );
  } else {
    await client.query(
      `UPDATE alert_rules SET source = $3, source_file = $4, spec = $5, spec_hash = $6, enabled = $7, version = version + 1, updated_at = now()
       WHERE project_id = $1 AND name = $2`,
      [projectId, spec.name, source, sourceFile, JSON.stringify(input), hash, spec.enabled],
    );
  }
  // New: due at its first slot (now, when not spread). An edit never delays the next evaluation past one new interval.
  const phase = evaluationPhase(projectId, spec.name, spec.interval, spread);
  await client.query(
    `INSERT INTO alert_rule_schedule (project_id, rule_name, next_eval_at) VALUES ($1, $2, $3)
     ON CONFLICT (project_id, rule_name) DO UPDATE SET next_eval_at = LEAST(alert_rule_schedule.next_eval_at, $4::timestamptz)`,
    [projectId, spec.name, new Date(nextSlot(now, spec.interval, phase, true)).toISOString(), new Date(nextSlot(now, spec.interval, phase, false)).toISOString()],
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
export async function retireInstances(client: PoolClient, projectId: string, ruleName: string, now: number, why: string): Promise<number> {
  const { rows } = await client.query(
    `SELECT ${INSTANCE_COLUMNS} FROM alert_instances WHERE project_id = $1 AND rule_name = $2 AND state IN ('pending', 'firing', 'recovering') FOR UPDATE`,
    [projectId, ruleName],
  );
  const results = rows.map((r) => retire(rowToInstance(r), now)).filter((r): r is StepResult => r !== undefined);
  await applySteps(client, projectId, ruleName, results, now, why);
  return results.length;
}

/** Deletes a rule after retiring its instances. */
export async function deleteRule(client: PoolClient, projectId: string, name: string, now: number, why = 'rule deleted'): Promise<boolean> {
  const { rows } = await client.query('SELECT 1 FROM alert_rules WHERE project_id = $1 AND name = $2 FOR UPDATE', [projectId, name]);
  if (rows.length === 0) return false;
  await retireInstances(client, projectId, name, now, why);
  // The schedule row goes with the rule (ON DELETE CASCADE): an evaluation in flight loses its lease and writes nothing.
  await client.query('DELETE FROM alert_rules WHERE project_id = $1 AND name = $2', [projectId, name]);
  return true;
}

export async function getRule(db: Pool | PoolClient, projectId: string, name: string): Promise<StoredRule | undefined> {
  const { rows } = await db.query<RuleRow>('SELECT * FROM alert_rules WHERE project_id = $1 AND name = $2', [projectId, name]);
  return rows[0] ? rowToRule(rows[0]) : undefined;
}

export async function listRules(db: Pool | PoolClient, projectId: string): Promise<StoredRule[]> {
  const { rows } = await db.query<RuleRow>('SELECT * FROM alert_rules WHERE project_id = $1 ORDER BY name', [projectId]);
  return rows.map(rowToRule);
}

export async function projectExists(db: Pool | PoolClient, projectId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM projects WHERE id = $1', [projectId]);
  return rows.length > 0;
}

/** Runs fn in a transaction on its own client. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A client whose ROLLBACK failed is in an unknown state: it is destroyed, not returned to the pool.
  let broken = false;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
