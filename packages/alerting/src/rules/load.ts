import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import YAML from 'yaml';
import { z } from 'zod';
import { pgExec, pgRows, withTransaction, type ClickHouse, type Logger } from '@tidemark/core';
import type { AlertingRoleConfig } from '../settings';
import { checkPolicy, policySchema, type PolicySpec } from '../notify/policy';
import { hashParts, stableJson } from '../util/hash';
import { projectIdSchema, ruleSchema, zodProblems, type RuleInput, type RuleProblem, type RuleSpec } from './schema';
import { deleteRule, projectExists, upsertRule, type RuleSource } from './store';
import { checkRuleSql } from './validate';

/**
 * A rule file (YAML, kept in git):
 *
 *   project: shop
 *   rules: [ ...rules... ]
 *   channels: [ ...channels... ]   # optional: the project's file policy
 *   routes: [ ...routes... ]
 *
 * Each rule is validated on its own: a bad rule is reported with its file
 * and field and the others load.
 */
const fileSchema = z.strictObject({
  project: projectIdSchema.optional(),
  rules: z.array(z.unknown()).default([]),
  channels: z.array(z.unknown()).optional(),
  routes: z.array(z.unknown()).optional(),
});

export interface ParsedRule {
  index: number;
  input: RuleInput;
  spec: RuleSpec;
}

export interface ParsedFile {
  file: string;
  project: string | undefined;
  rules: ParsedRule[];
  /** Names of rules in the file that failed validation (their stored version is kept). */
  badRules: string[];
  /** False when the file as a whole could not be read (YAML, shape): none of its stored rules is deleted. */
  complete: boolean;
  policy: PolicySpec | undefined;
  /** The policy as written (what is stored: parsing it again restores durations and matchers). */
  policyInput: { channels: unknown[]; routes: unknown[] } | undefined;
  problems: RuleProblem[];
}

/** Parses one file's text: YAML, the file shape, then each rule and the policy. */
export function parseRuleFile(file: string, text: string, defaultProject?: string): ParsedFile {
  const out: ParsedFile = { file, project: defaultProject, rules: [], badRules: [], complete: false, policy: undefined, policyInput: undefined, problems: [] };
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    out.problems.push(...doc.errors.map((e) => ({ file, message: `not valid YAML: ${e.message.split('\n')[0]}` })));
    return out;
  }
  const top = fileSchema.safeParse(doc.toJS() ?? {});
  if (!top.success) {
    out.problems.push(...zodProblems(top.error, file, ''));
    return out;
  }
  out.project = top.data.project ?? defaultProject;
  if (!out.project) {
    out.problems.push({ file, field: 'project', message: 'name the project the rules belong to (project: <id>)' });
    return out;
  }
  out.complete = true;
  const names = new Set<string>();
  top.data.rules.forEach((raw, index) => {
    const name = typeof (raw as { name?: unknown })?.name === 'string' ? (raw as { name: string }).name : undefined;
    const r = ruleSchema.safeParse(raw);
    if (!r.success) {
      out.problems.push(...zodProblems(r.error, file, `rules[${index}]`, name));
      if (name) out.badRules.push(name);
      return;
    }
    if (names.has(r.data.name)) {
      out.problems.push({ file, rule: r.data.name, field: `rules[${index}].name`, message: `rule "${r.data.name}" is defined twice in this file` });
      return;
    }
    names.add(r.data.name);
    out.rules.push({ index, input: raw as RuleInput, spec: r.data });
  });
  if (top.data.channels !== undefined || top.data.routes !== undefined) {
    const raw = { channels: top.data.channels ?? [], routes: top.data.routes ?? [] };
    const p = policySchema.safeParse(raw);
    if (p.success) {
      out.policy = p.data;
      out.policyInput = raw;
    } else out.problems.push(...zodProblems(p.error, file, ''));
  }
  return out;
}

/** Every .yaml/.yml file of a folder, in name order. */
export function readRuleDir(dir: string, defaultProject?: string): ParsedFile[] {
  let names: string[];
  try {
    names = fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/i.test(f))
      .sort();
  } catch (err) {
    return [
      {
        file: dir,
        project: undefined,
        rules: [],
        badRules: [],
        complete: false,
        policy: undefined,
        policyInput: undefined,
        problems: [{ file: dir, message: `cannot read the rules folder: ${(err as Error).message}` }],
      },
    ];
  }
  return names.map((f) => {
    const file = path.join(dir, f);
    return parseRuleFile(file, fs.readFileSync(file, 'utf8'), defaultProject);
  });
}

/** A cheap identity of a folder's rule files (names, sizes, mtimes) to notice edits. */
export function ruleDirStamp(dir: string): string {
  try {
    const parts = fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/i.test(f))
      .sort()
      .map((f) => {
        const st = fs.statSync(path.join(dir, f));
        return `${f}:${st.size}:${st.mtimeMs}`;
      });
    return hashParts(...parts);
  } catch {
    return 'unreadable';
  }
}

export interface SyncReport {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  problems: RuleProblem[];
}

/** Merges the policies of several files of one project (channel names must be unique across them). */
function mergePolicies(files: ParsedFile[]): { spec: PolicySpec; input: { channels: unknown[]; routes: unknown[] } } | undefined {
  const withPolicy = files.filter((f) => f.policy && f.policyInput);
  if (withPolicy.length === 0) return undefined;
  return {
    spec: { channels: withPolicy.flatMap((f) => f.policy?.channels ?? []), routes: withPolicy.flatMap((f) => f.policy?.routes ?? []) },
    input: { channels: withPolicy.flatMap((f) => f.policyInput?.channels ?? []), routes: withPolicy.flatMap((f) => f.policyInput?.routes ?? []) },
  };
}

const PROJECTS_OF_SOURCE = {
  name: 'projectsOfSource',
  sql: 'SELECT DISTINCT project_id FROM alert_rules WHERE source = $1',
  row: z.object({ project_id: z.string() }),
};
const RULES_OF_SOURCE = {
  name: 'rulesOfSource',
  sql: 'SELECT name, source_file FROM alert_rules WHERE project_id = $1 AND source = $2',
  row: z.object({ name: z.string(), source_file: z.string().nullable() }),
};

/**
 * Makes the stored rules of one source ('file' or 'builtin') match the
 * parsed files, per project, in one transaction per project:
 * valid rules are created or updated (SQL checked against ClickHouse first),
 * rules no longer in any file are deleted (their firing alerts resolve),
 * and rules that failed validation keep their previous stored version.
 * Every problem is returned, logged, and stored in alert_rule_problems.
 */
export async function syncRuleFiles(
  deps: { meta: Pool; readonly: ClickHouse; config: AlertingRoleConfig; logger: Logger; now: number },
  source: Exclude<RuleSource, 'api'>,
  files: ParsedFile[],
): Promise<SyncReport> {
  const report: SyncReport = { created: 0, updated: 0, unchanged: 0, deleted: 0, problems: [] };
  // A file that could not be read at all keeps every rule stored from it: a YAML typo must not resolve live alerts.
  const unreadable = new Set(files.filter((f) => !f.complete).map((f) => f.file));
  const folderUnreadable = files.some(
    (f) => !f.complete && f.rules.length === 0 && f.project === undefined && /cannot read the rules folder/.test(f.problems[0]?.message ?? ''),
  );
  const byProject = new Map<string, ParsedFile[]>();
  for (const f of files) {
    report.problems.push(...f.problems);
    if (f.project) byProject.set(f.project, [...(byProject.get(f.project) ?? []), f]);
  }
  // Projects that had rules of this source before but have no file now: their rules go.
  const known = await pgRows(deps.meta, PROJECTS_OF_SOURCE, [source]);
  for (const k of known) if (!byProject.has(k.project_id)) byProject.set(k.project_id, []);

  for (const [project, pfiles] of byProject) {
    const problems: RuleProblem[] = pfiles.flatMap((f) => f.problems);
    if (pfiles.length > 0 && !(await projectExists(deps.meta, project))) {
      const p = pfiles.map((f) => ({ file: f.file, field: 'project', message: `project "${project}" does not exist` }));
      report.problems.push(...p);
      continue;
    }
    const keep = new Set<string>(pfiles.flatMap((f) => f.badRules));
    const valid: { file: string; rule: ParsedRule }[] = [];
    const seen = new Map<string, string>();
    for (const f of pfiles) {
      for (const rule of f.rules) {
        const other = seen.get(rule.spec.name);
        if (other) {
          const p = { file: f.file, rule: rule.spec.name, field: `rules[${rule.index}].name`, message: `rule "${rule.spec.name}" is also defined in ${other}` };
          problems.push(p);
          report.problems.push(p);
          keep.add(rule.spec.name);
          continue;
        }
        seen.set(rule.spec.name, f.file);
        const check = await checkRuleSql(deps.readonly, rule.spec, project, deps.now);
        if (check.problems.length > 0) {
          const p = check.problems.map((cp) => ({ file: f.file, rule: rule.spec.name, field: `rules[${rule.index}].${cp.field}`, message: cp.message }));
          problems.push(...p);
          report.problems.push(...p);
          keep.add(rule.spec.name);
          continue;
        }
        valid.push({ file: f.file, rule });
      }
    }
    const policy = mergePolicies(pfiles);
    if (policy) {
      const pp = checkPolicy(policy.spec, deps.config).map((x) => ({ file: pfiles.find((f) => f.policy)?.file ?? '', field: x.field, message: x.message }));
      problems.push(...pp);
      report.problems.push(...pp);
    }
    const policyOk = policy !== undefined && !problems.some((p) => !p.rule && (p.field?.startsWith('channels') || p.field?.startsWith('routes')));
    await withTransaction(deps.meta, async (client) => {
      // One writer per project and source: replicas loading the same files at once queue here.
      await pgExec(client, 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [7_316_101, `${source}:${project}`]);
      for (const { file, rule } of valid) {
        const r = await upsertRule(client, project, rule.input, source, file, deps.now, deps.config.ALERTING_SPREAD_EVALUATIONS);
        report[r]++;
      }
      const names = new Set(valid.map((v) => v.rule.spec.name));
      const rows = await pgRows(client, RULES_OF_SOURCE, [project, source]);
      for (const r of rows) {
        if (folderUnreadable || (r.source_file !== null && unreadable.has(r.source_file))) continue;
        if (!names.has(r.name) && !keep.has(r.name)) {
          await deleteRule(client, project, r.name, deps.now, `rule removed from ${source} files`);
          report.deleted++;
        }
      }
      if (policyOk && policy) {
        await pgExec(
          client,
          `INSERT INTO alert_policies (project_id, source, spec) VALUES ($1, $2, $3)
           ON CONFLICT (project_id, source) DO UPDATE SET spec = EXCLUDED.spec, updated_at = now() WHERE alert_policies.spec::text <> EXCLUDED.spec::text`,
          [project, source, stableJson(policy.input)],
        );
      } else if (!policy && !pfiles.some((f) => f.problems.length > 0)) {
        // No file defines a policy any more: the file policy goes (the API policy and the default route remain).
        // A file that failed to parse might have held it, so then the stored one is kept.
        await pgExec(client, 'DELETE FROM alert_policies WHERE project_id = $1 AND source = $2', [project, source]);
      }
      await pgExec(client, 'DELETE FROM alert_rule_problems WHERE project_id = $1 AND source = $2', [project, source]);
      for (const p of problems) {
        await pgExec(client, 'INSERT INTO alert_rule_problems (project_id, source, source_file, rule_name, field, message) VALUES ($1, $2, $3, $4, $5, $6)', [
          project,
          source,
          p.file,
          p.rule ?? '',
          p.field ?? '',
          p.message,
        ]);
      }
    });
  }
  for (const p of report.problems) {
    deps.logger.error({ file: p.file, rule: p.rule, field: p.field }, `alert rule problem: ${p.file}${p.field ? ` ${p.field}` : ''}: ${p.message}`);
  }
  return report;
}
