-- ETL sync status, one row per synced table, written by the etl role after
-- every run (and by its status job every few seconds). Alert rules read the
-- view: a table whose last success is older than its stall threshold is
-- stalled, and because the rule compares with now() it also fires when the
-- etl process itself is gone and writes nothing.
--
-- The business tables themselves (biz_*_v1 and their views) are created by
-- the etl role from the source schemas, not here.

CREATE TABLE IF NOT EXISTS etl_sync_status_v1
(
    table_key            String,
    source               LowCardinality(String),
    target_table         String,
    mode                 LowCardinality(String),
    phase                LowCardinality(String),
    -- ok | error | quarantined | stalled | snapshot
    state                LowCardinality(String),
    last_success_at      Nullable(DateTime64(3, 'UTC')),
    last_error           String,
    consecutive_failures UInt32,
    lag_seconds          Nullable(Float64),
    rows_synced          UInt64,
    stall_after_seconds  UInt32,
    recon_at             Nullable(DateTime64(3, 'UTC')),
    recon_source_rows    Nullable(UInt64),
    recon_target_rows    Nullable(UInt64),
    recon_missing        Nullable(UInt64),
    recon_extra          Nullable(UInt64),
    slot_lag_bytes       Nullable(Int64),
    updated_at           DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY table_key;

CREATE VIEW IF NOT EXISTS etl_sync_status AS
SELECT * FROM etl_sync_status_v1 FINAL;
