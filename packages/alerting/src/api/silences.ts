import crypto from 'node:crypto';
import { z } from 'zod';
import { NotFoundError, pgExec, pgMaybeOne, pgOne, pgRows, type Queryable } from '@tidemark/core';
import type { silenceInputSchema } from '../notify/mute';

/**
 * Silences as the API manages them (notify/mute.ts applies them). A silence
 * is never changed in place to mute less than asked: expiring one moves its
 * end to now and keeps it for the record.
 */

export const listSilencesInput = z.strictObject({ state: z.enum(['active', 'pending', 'expired', 'all']).default('all') });

export interface Silence {
  id: string;
  matchers: unknown[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  state: 'active' | 'pending' | 'expired';
}

type SilenceSpec = z.output<typeof silenceInputSchema>;

const silenceRow = z.object({
  id: z.string(),
  matchers: z.array(z.unknown()),
  starts_at: z.date(),
  ends_at: z.date(),
  created_by: z.string(),
  comment: z.string(),
});
const COLUMNS = 'id, matchers, starts_at, ends_at, created_by, comment';

function toSilence(r: z.output<typeof silenceRow>, now: number): Silence {
  const state = r.ends_at.getTime() <= now ? 'expired' : r.starts_at.getTime() > now ? 'pending' : 'active';
  return {
    id: r.id,
    matchers: r.matchers,
    startsAt: r.starts_at.toISOString(),
    endsAt: r.ends_at.toISOString(),
    createdBy: r.created_by,
    comment: r.comment,
    state,
  };
}

const notFound = (projectId: string, id: string): NotFoundError => new NotFoundError(`no silence ${id} in project ${projectId}`);

const INSERT = {
  name: 'createSilence',
  sql: `INSERT INTO alert_silences (id, project_id, matchers, starts_at, ends_at, created_by, comment) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
  row: silenceRow,
};
const LIST = { name: 'listSilences', sql: `SELECT ${COLUMNS} FROM alert_silences WHERE project_id = $1 ORDER BY ends_at DESC`, row: silenceRow };
const GET = { name: 'getSilence', sql: `SELECT ${COLUMNS} FROM alert_silences WHERE project_id = $1 AND id = $2`, row: silenceRow };
const UPDATE = {
  name: 'updateSilence',
  sql: `UPDATE alert_silences SET matchers = $3, starts_at = COALESCE($4, starts_at), ends_at = $5, created_by = $6, comment = $7, updated_at = now()
       WHERE project_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
  row: silenceRow,
};
const EXPIRE = {
  name: 'expireSilence',
  sql: `UPDATE alert_silences SET ends_at = GREATEST(starts_at + interval '1 millisecond', LEAST(ends_at, $3::timestamptz)),
         starts_at = LEAST(starts_at, $3::timestamptz), updated_at = now()
       WHERE project_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
  row: silenceRow,
};

/** `startsAt`: the silence's start (the input's, or now). */
export async function createSilence(db: Queryable, projectId: string, s: SilenceSpec, startsAt: Date, now: number): Promise<Silence> {
  const r = await pgOne(db, INSERT, [
    crypto.randomUUID(),
    projectId,
    JSON.stringify(s.matchers),
    startsAt.toISOString(),
    s.ends_at.toISOString(),
    s.created_by,
    s.comment,
  ]);
  return toSilence(r, now);
}

export async function listSilences(db: Queryable, projectId: string, state: z.output<typeof listSilencesInput>['state'], now: number): Promise<Silence[]> {
  const rows = await pgRows(db, LIST, [projectId]);
  return rows.map((r) => toSilence(r, now)).filter((s) => state === 'all' || s.state === state);
}

export async function getSilence(db: Queryable, projectId: string, id: string, now: () => number): Promise<Silence> {
  const r = await pgMaybeOne(db, GET, [projectId, id]);
  if (!r) throw notFound(projectId, id);
  return toSilence(r, now());
}

export async function updateSilence(db: Queryable, projectId: string, id: string, s: SilenceSpec, now: number): Promise<Silence> {
  const r = await pgMaybeOne(db, UPDATE, [
    projectId,
    id,
    JSON.stringify(s.matchers),
    s.starts_at?.toISOString() ?? null,
    s.ends_at.toISOString(),
    s.created_by,
    s.comment,
  ]);
  if (!r) throw notFound(projectId, id);
  return toSilence(r, now);
}

/** Ends a silence now (kept for the record). */
export async function expireSilence(db: Queryable, projectId: string, id: string, now: number): Promise<Silence> {
  const r = await pgMaybeOne(db, EXPIRE, [projectId, id, new Date(now).toISOString()]);
  if (!r) throw notFound(projectId, id);
  return toSilence(r, now);
}

export async function deleteSilence(db: Queryable, projectId: string, id: string): Promise<void> {
  if ((await pgExec(db, `DELETE FROM alert_silences WHERE project_id = $1 AND id = $2`, [projectId, id])) === 0) throw notFound(projectId, id);
}
