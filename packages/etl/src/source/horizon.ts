/**
 * The cursor horizon: the instant before which no transaction can still
 * commit a row.
 *
 * A transaction stamps updated_at with now() — its start time — or a later
 * clock reading, but may commit much later. A cursor that advanced past that
 * stamp before the commit would never see the row (the classic "late commit
 * with an earlier updated_at" loss). So the horizon is the start of the
 * oldest transaction still open on the source (pg_stat_activity.xact_start;
 * the same transactions pg_snapshot_xmin(pg_current_snapshot()) waits for,
 * plus those that have not written yet and so hold no xid), capped by now().
 *
 * Invariant: the horizon is computed in its own statement BEFORE the read's
 * snapshot is taken. A transaction open at that moment has xact_start >=
 * horizon, so its rows land at or above the horizon and are read by a later
 * run; one that started later stamps rows later still; every row stamped
 * below the horizon was committed before the snapshot, hence visible in it.
 *
 * Limits (docs/etl.md): the sessions of other users are visible only to a
 * superuser or a member of pg_read_all_stats — without that the horizon
 * cannot be proven and the run fails loudly; timestamps set by application
 * clocks are covered only up to the configured overlap; prepared (two-phase)
 * transactions count from their PREPARE time.
 */
import { z } from 'zod';
import { pgOne, TidemarkError, type Queryable } from '@tidemark/core';
import { ETL_APPLICATION_NAME } from './session';

export interface Horizon {
  /** timestamptz text, UTC, microseconds: '2025-01-02 03:04:05.123456+00'. */
  at: string;
  /** The source's clock at the same moment (for lag). */
  now: string;
  /** Seconds between the horizon and now (how far behind a cursor bounded by it is). */
  behindSeconds: number;
  /** The oldest open transaction that held the horizon back, if any. */
  oldest: { pid: number; xactStart: string; applicationName: string; state: string } | null;
}

export class HorizonUnprovableError extends TidemarkError<{ hidden: number }> {
  constructor(hidden: number) {
    super(
      `cannot see ${hidden} session(s) on the source (their transactions are hidden from this user), so the cursor cannot be advanced safely; ` +
        `GRANT pg_read_all_stats TO <etl user> (or use a superuser), or use mode cdc`,
      { code: 'ETL_HORIZON_UNPROVABLE', retriable: false, statusCode: 503 },
      { context: { hidden } },
    );
  }
}

const FMT = `'YYYY-MM-DD HH24:MI:SS.US"+00"'`;

const horizonRow = z.object({
  horizon: z.string(),
  now: z.string(),
  behind: z.number(),
  hidden: z.number(),
  pid: z.number().nullable(),
  xact_start: z.string().nullable(),
  app: z.string().nullable(),
  state: z.string().nullable(),
});

export async function readHorizon(db: Queryable): Promise<Horizon> {
  // One autocommit statement, outside any read transaction (see the invariant).
  const sql = `WITH open AS (
       SELECT pid, xact_start, coalesce(application_name, '') AS app, coalesce(state, '') AS state, query
         FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
     ), oldest AS (
       SELECT pid, xact_start, app, state FROM open
        WHERE xact_start IS NOT NULL AND app NOT LIKE $1
        ORDER BY xact_start LIMIT 1
     ), prepared AS (SELECT min(prepared) AS at FROM pg_prepared_xacts)
     SELECT to_char(LEAST(now(), (SELECT xact_start FROM oldest), (SELECT at FROM prepared)) AT TIME ZONE 'UTC', ${FMT}) AS horizon,
            to_char(now() AT TIME ZONE 'UTC', ${FMT}) AS now,
            extract(epoch FROM now() - LEAST(now(), (SELECT xact_start FROM oldest), (SELECT at FROM prepared)))::float8 AS behind,
            (SELECT count(*) FROM open WHERE query = '<insufficient privilege>')::int AS hidden,
            (SELECT pid FROM oldest) AS pid,
            (SELECT to_char(xact_start AT TIME ZONE 'UTC', ${FMT}) FROM oldest) AS xact_start,
            (SELECT app FROM oldest) AS app,
            (SELECT state FROM oldest) AS state`;
  const r = await pgOne(db, { name: 'etl.horizon', sql, row: horizonRow }, [`${ETL_APPLICATION_NAME}%`]);
  if (r.hidden > 0) throw new HorizonUnprovableError(r.hidden);
  return {
    at: r.horizon,
    now: r.now,
    behindSeconds: r.behind,
    // pid set means the oldest row exists: its other columns are set too (coalesced to '').
    oldest: r.pid === null ? null : { pid: r.pid, xactStart: r.xact_start ?? '', applicationName: r.app ?? '', state: r.state ?? '' },
  };
}
