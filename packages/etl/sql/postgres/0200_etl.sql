-- ETL (packages/etl): checkpoints and sync status of Postgres tables kept in
-- ClickHouse. Written only after the ClickHouse insert they describe is
-- confirmed, so a crash can repeat work but never skip it.

-- One row per synced table (<source>.<schema>.<table>).
CREATE TABLE IF NOT EXISTS etl_tables (
  table_key              text PRIMARY KEY,
  source                 text NOT NULL,
  source_schema          text NOT NULL,
  source_table           text NOT NULL,
  target_table           text NOT NULL,
  mode                   text NOT NULL CHECK (mode IN ('cursor', 'cdc', 'full')),
  -- Bumped by a resync: a new snapshot from scratch, with its own chunks and dedup tokens.
  generation             integer NOT NULL DEFAULT 0,
  phase                  text NOT NULL DEFAULT 'pending' CHECK (phase IN ('pending', 'snapshot', 'incremental', 'quarantined')),
  -- Columns as landed: name, source type, ClickHouse type (the schema-evolution baseline).
  columns                jsonb,
  -- Hash of the table's config when it was quarantined; a changed config lifts the quarantine.
  config_hash            text,
  -- Version of every row of the current snapshot (cursor/full: snapshot xmax; cdc: LSN).
  snapshot_version       numeric(20, 0),
  -- Cursor mode: where the incremental reads start once the snapshot is done.
  snapshot_horizon       text,
  snapshot_rows          bigint NOT NULL DEFAULT 0,
  snapshot_started_at    timestamptz,
  snapshot_finished_at   timestamptz,
  -- Keyset position (cursor mode): the cursor column's value as text (microseconds kept) and the key.
  -- cursor_key NULL means "every row with cursor < cursor_value is landed".
  cursor_value           text,
  cursor_key             jsonb,
  -- Every source change committed before this instant (source clock) is landed.
  watermark              text,
  lag_seconds            double precision,
  rows_synced            bigint NOT NULL DEFAULT 0,
  last_run_at            timestamptz,
  last_success_at        timestamptz,
  last_error             text,
  last_error_at          timestamptz,
  consecutive_failures   integer NOT NULL DEFAULT 0,
  quarantine_reason      text,
  quarantined_at         timestamptz,
  -- A schema change that needs existing rows re-read (e.g. ADD COLUMN with a default).
  resnapshot_reason      text,
  recon_at               timestamptz,
  recon_source_rows      bigint,
  recon_target_rows      bigint,
  recon_missing          bigint,
  recon_extra            bigint,
  recon_repaired         bigint,
  recon_ok               boolean,
  stall_after_seconds    integer NOT NULL DEFAULT 300,
  updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Planned snapshot chunks (primary-key ranges) and which are landed.
CREATE TABLE IF NOT EXISTS etl_snapshot_chunks (
  table_key   text NOT NULL REFERENCES etl_tables (table_key) ON DELETE CASCADE,
  generation  integer NOT NULL,
  chunk_no    integer NOT NULL,
  -- Key bounds as JSON arrays of text: lo inclusive, hi exclusive; NULL = unbounded.
  lo          jsonb,
  hi          jsonb,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
  rows        bigint,
  done_at     timestamptz,
  PRIMARY KEY (table_key, generation, chunk_no)
);

-- CDC state per source: the slot and the last LSN whose changes are landed.
CREATE TABLE IF NOT EXISTS etl_sources (
  source          text PRIMARY KEY,
  slot_name       text NOT NULL,
  publication     text NOT NULL,
  confirmed_lsn   text,
  slot_status     text NOT NULL DEFAULT 'new' CHECK (slot_status IN ('new', 'active', 'lost', 'error')),
  slot_lag_bytes  bigint,
  slot_lost_at    timestamptz,
  last_commit_at  timestamptz,
  last_error      text,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Recent runs (snapshot, incremental, reconcile, cdc batches are summarised per minute).
CREATE TABLE IF NOT EXISTS etl_runs (
  id           bigserial PRIMARY KEY,
  table_key    text NOT NULL,
  kind         text NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  rows         bigint NOT NULL DEFAULT 0,
  status       text NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'skipped')),
  error        text
);
CREATE INDEX IF NOT EXISTS etl_runs_table_idx ON etl_runs (table_key, started_at DESC);
