import crypto from 'node:crypto';
import { z } from 'zod';
import { ConflictError, NotFoundError, pgExec, pgOne, pgRows, type Queryable } from '@tidemark/core';
import type { maintenanceInputSchema } from '../notify/mute';

/**
 * Maintenance windows as the API manages them (notify/mute.ts applies
 * them). A window's name is unique per project (the table's UNIQUE key).
 */

const windowRow = z.object({
  id: z.string(),
  name: z.string(),
  matchers: z.unknown(),
  starts_at: z.date(),
  ends_at: z.date().nullable(),
  recurrence: z.unknown(),
  created_by: z.string(),
  comment: z.string(),
});
/** A window as listed: its row, as stored. */
export type MaintenanceWindowRecord = z.output<typeof windowRow>;

const INSERT = {
  name: 'createMaintenanceWindow',
  sql: `INSERT INTO alert_maintenance_windows (id, project_id, name, matchers, starts_at, ends_at, recurrence, created_by, comment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, name`,
  row: z.object({ id: z.string(), name: z.string() }),
};
const LIST = {
  name: 'listMaintenanceWindows',
  sql: `SELECT id, name, matchers, starts_at, ends_at, recurrence, created_by, comment FROM alert_maintenance_windows WHERE project_id = $1 ORDER BY name`,
  row: windowRow,
};

/** @throws ConflictError when the project has a window of that name. */
export async function createMaintenanceWindow(
  db: Queryable,
  projectId: string,
  w: z.output<typeof maintenanceInputSchema>,
  startsAt: Date,
): Promise<{ id: string; name: string }> {
  try {
    return await pgOne(db, INSERT, [
      crypto.randomUUID(),
      projectId,
      w.name,
      JSON.stringify(w.matchers),
      startsAt.toISOString(),
      w.ends_at?.toISOString() ?? null,
      w.recurrence ? JSON.stringify(w.recurrence) : null,
      w.created_by,
      w.comment,
    ]);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new ConflictError(`a maintenance window named "${w.name}" already exists in project ${projectId}`);
    throw err;
  }
}

export async function listMaintenanceWindows(db: Queryable, projectId: string): Promise<MaintenanceWindowRecord[]> {
  return pgRows(db, LIST, [projectId]);
}

export async function deleteMaintenanceWindow(db: Queryable, projectId: string, id: string): Promise<void> {
  const n = await pgExec(db, `DELETE FROM alert_maintenance_windows WHERE project_id = $1 AND id = $2`, [projectId, id]);
  if (n === 0) throw new NotFoundError(`no maintenance window ${id} in project ${projectId}`);
}
