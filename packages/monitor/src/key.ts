import fs from 'node:fs';
import path from 'node:path';
import { ApiKeyVerifier, createApiKey, ensureProject, type RoleContext } from '@tidemark/core';
import type { MonitorRoleConfig } from './settings';

/** Where the monitor keeps the ingest key it made for itself (mode 0600, like bootstrap-keys.json). */
export const MONITOR_KEY_FILE = 'monitor-ingest-key.json';

/**
 * The ingest key the monitor sends with: MONITOR_INGEST_KEY when set;
 * else the key it created on an earlier start (still valid, same project);
 * else a new ingest key for MONITOR_PROJECT, created in the metadata
 * Postgres and saved in the data directory. So `tidemark start` monitors
 * itself with no configuration at all.
 */
export async function resolveMonitorKey(
  ctx: Pick<RoleContext<MonitorRoleConfig>, 'config' | 'meta'>,
): Promise<{ key: string; project?: string; source: 'config' | 'file' | 'created' }> {
  const { config, meta } = ctx;
  if (config.MONITOR_INGEST_KEY) return { key: config.MONITOR_INGEST_KEY, source: 'config' };
  const file = path.resolve(config.TIDEMARK_DATA_DIR, MONITOR_KEY_FILE);
  const project = config.MONITOR_PROJECT;
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { project?: string; key?: string };
    if (saved.project === project && typeof saved.key === 'string') {
      const principal = await new ApiKeyVerifier(meta).require(saved.key, 'ingest');
      if (principal.projectId === project) return { key: saved.key, project, source: 'file' };
    }
  } catch {
    // No file yet, another project, or a revoked key: make a new one.
  }
  await ensureProject(meta, project);
  const { key } = await createApiKey(meta, { projectId: project, role: 'ingest', description: 'tidemark monitor (created on start)' });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ project, key }, null, 2), { mode: 0o600 });
  return { key, project, source: 'created' };
}
