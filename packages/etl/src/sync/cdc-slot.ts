/**
 * The CDC stream's objects on the source: the replication slot and the
 * publication, the heartbeat message, the slot's lag, and how a lost slot is
 * recognised. Every query here reads catalog rows (one row schema each).
 *
 * A lost slot is recognised by SQLSTATE, not by message text (messages are
 * translated with lc_messages): START_REPLICATION on a slot that does not
 * exist fails with 42704 undefined_object, on an invalidated slot (WAL it
 * needed removed after max_slot_wal_keep_size) with 55000
 * object_not_in_prerequisite_state. Both codes have other causes too (a
 * publication that does not exist is 42704, wal_level below logical is
 * 55000), so the code only makes a slot suspect: slotGone() asks the catalog.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { pgExec, pgMaybeOne, pgOne, pgRows } from '@tidemark/core';
import { pgIdent, pgTable } from '../sql/quote';

export const HEARTBEAT_PREFIX = 'tidemark_etl_heartbeat';

/** SQLSTATEs of START_REPLICATION on a dropped (42704) or invalidated (55000) slot. */
export const SLOT_LOST_SQLSTATES: ReadonlySet<string> = new Set(['42704', '55000']);

/** The SQLSTATE of a Postgres error (node-postgres puts it on `code`), looking through `cause`. */
function sqlState(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const code = 'code' in e ? e.code : undefined;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}

/** Whether a stream error says the slot may be lost (to be confirmed with slotGone). */
export function isSlotLostError(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && SLOT_LOST_SQLSTATES.has(code);
}

const slotStateRow = z.object({ wal_status: z.string().nullable(), confirmed: z.string().nullable() });
const slotState = {
  name: 'etl.cdc_slot_state',
  sql: `SELECT wal_status, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()`,
  row: slotStateRow,
};

/** The slot's row in this database, if any. */
export async function readSlot(pool: Pool, slot: string): Promise<z.output<typeof slotStateRow> | undefined> {
  return pgMaybeOne(pool, slotState, [slot]);
}

/** The catalog's word: the slot does not exist or was invalidated. */
export async function slotGone(pool: Pool, slot: string): Promise<boolean> {
  const row = await readSlot(pool, slot);
  return row === undefined || row.wal_status === 'lost';
}

export async function dropSlot(pool: Pool, slot: string): Promise<void> {
  await pgExec(pool, `SELECT pg_drop_replication_slot($1)`, [slot]);
}

/** Creates the slot; returns its consistent point (the LSN streaming starts from). */
export async function createSlot(pool: Pool, slot: string): Promise<string> {
  const row = await pgOne(
    pool,
    { name: 'etl.cdc_create_slot', sql: `SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`, row: z.object({ lsn: z.string() }) },
    [slot],
  );
  return row.lsn;
}

const present = z.object({ present: z.literal(1) });

/** The publication holds exactly the given tables that exist (CREATE or ALTER ... SET TABLE). */
export async function syncPublication(pool: Pool, publication: string, tables: { schema: string; name: string }[]): Promise<void> {
  const names: string[] = [];
  for (const t of tables) {
    const found = await pgMaybeOne(
      pool,
      {
        name: 'etl.cdc_table_exists',
        sql: `SELECT 1 AS present FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        row: present,
      },
      [t.schema, t.name],
    );
    if (found) names.push(pgTable(t.schema, t.name));
  }
  const pub = pgIdent(publication);
  const exists = await pgMaybeOne(
    pool,
    { name: 'etl.cdc_publication_exists', sql: `SELECT 1 AS present FROM pg_publication WHERE pubname = $1`, row: present },
    [publication],
  );
  if (!exists) {
    await pgExec(pool, names.length > 0 ? `CREATE PUBLICATION ${pub} FOR TABLE ${names.join(', ')}` : `CREATE PUBLICATION ${pub}`);
  } else if (names.length > 0) {
    await pgExec(pool, `ALTER PUBLICATION ${pub} SET TABLE ${names.join(', ')}`);
  }
}

export async function publicationHasTable(pool: Pool, publication: string, schema: string, name: string): Promise<boolean> {
  const rows = await pgRows(
    pool,
    {
      name: 'etl.cdc_publication_table',
      sql: `SELECT 1 AS present FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3`,
      row: present,
    },
    [publication, schema, name],
  );
  return rows.length > 0;
}

/** A transactional logical message: it comes back through the stream in commit order. */
export async function emitHeartbeat(pool: Pool, source: string): Promise<void> {
  await pgExec(pool, `SELECT pg_logical_emit_message(true, $1, $2)`, [HEARTBEAT_PREFIX, source]);
}

const slotLagRow = z.object({ active: z.boolean(), lag: z.coerce.number().nullable() });

/** The slot's row on the source: whether a stream holds it, and the WAL bytes it retains. */
export async function slotInfo(pool: Pool, slot: string): Promise<{ exists: boolean; active: boolean; lagBytes: number | null }> {
  const r = await pgMaybeOne(
    pool,
    {
      name: 'etl.cdc_slot_lag',
      sql: `SELECT active, (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint::text AS lag FROM pg_replication_slots WHERE slot_name = $1`,
      row: slotLagRow,
    },
    [slot],
  );
  return { exists: r !== undefined, active: r?.active === true, lagBytes: r?.lag ?? null };
}

export async function currentWalLsn(pool: Pool): Promise<string> {
  return (await pgOne(pool, { name: 'etl.cdc_current_lsn', sql: `SELECT pg_current_wal_lsn()::text AS lsn`, row: z.object({ lsn: z.string() }) })).lsn;
}
