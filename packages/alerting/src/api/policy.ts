import { z } from 'zod';
import { NotFoundError, pgExec, pgMaybeOne, pgRows, ValidationError, type Queryable } from '@tidemark/core';
import type { AlertingRoleConfig } from '../settings';
import { checkPolicy, loadPolicy, policySchema, type PolicyInput, type PolicySpec } from '../notify/policy';
import { projectExists } from '../rules/store';
import { stableJson } from '../util/hash';

/**
 * The API's notification policy of a project. File policies are read-only
 * here: a channel a rule file defines cannot be defined again by the API.
 */

const API_SPEC = { name: 'apiPolicy', sql: `SELECT spec FROM alert_policies WHERE project_id = $1 AND source = 'api'`, row: z.object({ spec: z.unknown() }) };
const OTHER_SPECS = {
  name: 'fileChannelNames',
  sql: `SELECT spec FROM alert_policies WHERE project_id = $1 AND source <> 'api'`,
  row: z.object({ spec: z.unknown() }),
};
/** What a stored file policy is read for here: its channel names. */
const storedChannels = z.object({ channels: z.array(z.object({ name: z.string() })).optional() });

export async function getPolicy(db: Queryable, projectId: string): Promise<{ api: PolicySpec; effective: { channels: string[]; routes: string[] } }> {
  const row = await pgMaybeOne(db, API_SPEC, [projectId]);
  const eff = await loadPolicy(db, projectId);
  return {
    api: row ? policySchema.parse(row.spec) : { channels: [], routes: [] },
    effective: { channels: [...eff.channels.keys()], routes: eff.routes.map((r) => r.name) },
  };
}

/** Stores the API policy `spec` (validated from `input`); `input` is what is stored, as written. */
export async function putPolicy(db: Queryable, config: AlertingRoleConfig, projectId: string, spec: PolicySpec, input: PolicyInput): Promise<void> {
  const rows = await pgRows(db, OTHER_SPECS, [projectId]);
  const fileChannels = new Set(rows.flatMap((r) => (storedChannels.parse(r.spec).channels ?? []).map((c) => c.name)));
  const clash = spec.channels.filter((c) => fileChannels.has(c.name)).map((c) => c.name);
  const problems = [
    ...checkPolicy(spec, config, fileChannels),
    ...clash.map((n) => ({ field: 'channels', message: `channel "${n}" is defined by a rule file` })),
  ];
  if (problems.length > 0) {
    throw new ValidationError(`policy: ${problems.map((x) => `${x.field}: ${x.message}`).join('; ')}`, {
      context: { issues: problems.map((x) => ({ path: x.field, message: x.message })) },
    });
  }
  if (!(await projectExists(db, projectId))) throw new NotFoundError(`project ${projectId} does not exist`);
  await pgExec(
    db,
    `INSERT INTO alert_policies (project_id, source, spec) VALUES ($1, 'api', $2) ON CONFLICT (project_id, source) DO UPDATE SET spec = EXCLUDED.spec, updated_at = now()`,
    [projectId, stableJson(input)],
  );
}
