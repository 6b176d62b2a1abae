import { z } from 'zod';
import { ConflictError, NotFoundError, pgRows, withTransaction, type Queryable } from '@tidemark/core';
import type { Pool } from 'pg';
import { ruleNameSchema, type RuleInput, type RuleProblem } from '../rules/schema';
import { deleteRule, getRule, projectExists, upsertRule, type StoredRule } from '../rules/store';

/**
 * Rule writes of the API. Only API rules are written here: a rule from a
 * file or the built-in set is owned by its source, and changing it here is
 * a ConflictError naming where it lives. Each write is one transaction
 * holding the rule's row lock.
 */

export const previewInput = z
  .strictObject({
    /** A rule to try (not stored), or the name of a stored one. */
    rule: z.unknown().optional(),
    name: ruleNameSchema.optional(),
    from: z.coerce.date(),
    to: z.coerce.date(),
    /** Milliseconds between evaluations (default: the rule's interval). */
    step_ms: z.number().int().min(1000).optional(),
  })
  .refine((p) => (p.rule === undefined) !== (p.name === undefined), 'give either rule (a definition) or name (a stored rule)');

const ownedElsewhere = (r: StoredRule, verb: string): ConflictError =>
  new ConflictError(`rule ${r.name} comes from ${r.source === 'file' ? `the file ${r.sourceFile}` : 'the built-in rules'}; ${verb} it there`);

/** `spread`: ALERTING_SPREAD_EVALUATIONS. */
export interface RuleWriteContext {
  pool: Pool;
  now: () => number;
  spread: boolean;
}

export async function createRule(c: RuleWriteContext, projectId: string, rule: RuleInput): Promise<void> {
  if (!(await projectExists(c.pool, projectId))) throw new NotFoundError(`project ${projectId} does not exist`);
  await withTransaction(c.pool, async (client) => {
    const existing = await getRule(client, projectId, rule.name);
    if (existing) throw new ConflictError(`rule ${rule.name} already exists in project ${projectId} (source: ${existing.source})`);
    await upsertRule(client, projectId, rule, 'api', null, c.now(), c.spread);
  });
}

/** Replaces an API rule. Its alert state is kept: an annotation-only edit changes only the text of later notifications. */
export async function updateRule(c: RuleWriteContext, projectId: string, rule: RuleInput): Promise<void> {
  await withTransaction(c.pool, async (client) => {
    const existing = await getRule(client, projectId, rule.name);
    if (!existing) throw new NotFoundError(`no rule ${rule.name} in project ${projectId}`);
    if (existing.source !== 'api') throw ownedElsewhere(existing, 'change');
    await upsertRule(client, projectId, rule, 'api', null, c.now(), c.spread);
  });
}

/** Deletes an API rule; its firing alerts resolve (and their resolves are sent). */
export async function removeRule(c: RuleWriteContext, projectId: string, name: string): Promise<void> {
  await withTransaction(c.pool, async (client) => {
    const existing = await getRule(client, projectId, name);
    if (!existing) throw new NotFoundError(`no rule ${name} in project ${projectId}`);
    if (existing.source !== 'api') throw ownedElsewhere(existing, 'remove');
    await deleteRule(client, projectId, name, c.now());
  });
}

const PROBLEMS = {
  name: 'listRuleProblems',
  sql: `SELECT source_file, rule_name, field, message FROM alert_rule_problems WHERE project_id = $1 ORDER BY source_file, field`,
  row: z.object({ source_file: z.string(), rule_name: z.string(), field: z.string(), message: z.string() }),
};

/** Stored problems of the project's rule files ('' columns are absent fields). */
export async function listRuleProblems(db: Queryable, projectId: string): Promise<RuleProblem[]> {
  const rows = await pgRows(db, PROBLEMS, [projectId]);
  return rows.map((r) => ({ file: r.source_file, ...(r.rule_name ? { rule: r.rule_name } : {}), ...(r.field ? { field: r.field } : {}), message: r.message }));
}
