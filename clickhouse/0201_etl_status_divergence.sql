-- ETL status readable by alert rules, with its divergence figures (issue 15).
--
-- Rules run through the tenant read path, which only reads MergeTree tables
-- with a project_id column, each row filtered to the rule's project: the
-- status row carries the project its table's rows belong to. Rows written
-- before this migration have project_id '' and belong to no project; the
-- etl role rewrites every row within seconds (its status job).
--
-- Divergence: what the last reconciliation found and repaired (keys:
-- recon_missing / recon_extra / recon_repaired; content: content_changed /
-- content_repaired / content_remaining, and their totals since the table was
-- first reconciled by content), and the rows held in the per-row quarantine.
-- Columns are added (not a _v2 table): the row key (table_key) and every
-- existing column keep their meaning, so readers of v1 are unaffected.

ALTER TABLE etl_sync_status_v1
    ADD COLUMN IF NOT EXISTS project_id LowCardinality(String) DEFAULT '' AFTER table_key,
    ADD COLUMN IF NOT EXISTS recon_repaired Nullable(UInt64) AFTER recon_extra,
    ADD COLUMN IF NOT EXISTS content_at Nullable(DateTime64(3, 'UTC')) AFTER recon_repaired,
    ADD COLUMN IF NOT EXISTS content_changed Nullable(UInt64) AFTER content_at,
    ADD COLUMN IF NOT EXISTS content_repaired Nullable(UInt64) AFTER content_changed,
    ADD COLUMN IF NOT EXISTS content_remaining Nullable(UInt64) AFTER content_repaired,
    ADD COLUMN IF NOT EXISTS content_changed_total UInt64 DEFAULT 0 AFTER content_remaining,
    ADD COLUMN IF NOT EXISTS content_repaired_total UInt64 DEFAULT 0 AFTER content_changed_total,
    ADD COLUMN IF NOT EXISTS quarantined_rows UInt64 DEFAULT 0 AFTER content_repaired_total,
    ADD COLUMN IF NOT EXISTS quarantined_since Nullable(DateTime64(3, 'UTC')) AFTER quarantined_rows;

-- The view was created with v1's first columns; re-created so it shows the new ones.
CREATE OR REPLACE VIEW etl_sync_status AS
SELECT * FROM etl_sync_status_v1 FINAL;
