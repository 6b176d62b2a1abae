-- Acknowledgement audit results (issue 12), one row per project, signal and
-- audit run, written by the collector (packages/collector/src/audit). Alert
-- rules read it (it has project_id, so the tenant read path allows it and
-- filters it to the rule's project); the Health page shows the latest run.
--
-- from_minute (inclusive) .. to_minute (exclusive) are the compared minutes:
-- only minutes older than the audit's grace period. lost = acknowledged -
-- landed where positive (rows the platform said it had and does not);
-- unacknowledged = landed - acknowledged where positive (rows written straight
-- into Kafka, or duplicates). differing_minutes counts the minutes where the
-- two sides differ. Several collectors each write their own run (collector).
-- Kept as long as the raw rows it audits (RAW_RETENTION_DAYS).

CREATE TABLE IF NOT EXISTS ingest_audit_v1
(
    project_id        LowCardinality(String),
    signal            LowCardinality(String),
    checked_at        DateTime64(3, 'UTC'),
    from_minute       DateTime('UTC'),
    to_minute         DateTime('UTC'),
    grace_seconds     UInt32,
    acknowledged      UInt64,
    landed            UInt64,
    lost              UInt64,
    unacknowledged    UInt64,
    differing_minutes UInt32,
    collector         String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(checked_at)
ORDER BY (project_id, signal, checked_at)
TTL toDateTime(checked_at) + INTERVAL {{raw_retention_days}} DAY;
