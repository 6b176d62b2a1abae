-- Application logs (what the requirements shipped to ELK), next to events and metrics.

CREATE TABLE IF NOT EXISTS logs_raw_v1
(
    project_id   LowCardinality(String),
    timestamp    DateTime64(3, 'UTC'),
    received_at  DateTime64(3, 'UTC'),
    level        LowCardinality(String),
    service      LowCardinality(String),
    message      String CODEC(ZSTD(3)),
    attributes   Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    trace_id     String,
    request_id   String,
    INDEX idx_ts timestamp TYPE minmax GRANULARITY 1,
    -- Word search in messages ("payment failed") skips granules without the tokens.
    INDEX idx_message lower(message) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1,
    INDEX idx_attr_keys mapKeys(attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_values mapValues(attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_trace trace_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_request request_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toDate(timestamp)
-- project, then service and level (the usual filters), then time for newest-first scans.
ORDER BY (project_id, service, level, timestamp)
TTL toDateTime(timestamp) + INTERVAL {{raw_retention_days}} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

-- What the collector changed or refused, queryable by the project that sent it.
CREATE TABLE IF NOT EXISTS ingest_warnings_v1
(
    project_id   LowCardinality(String),
    received_at  DateTime64(3, 'UTC'),
    signal       LowCardinality(String),
    kind         LowCardinality(String),
    event_id     String,
    detail       String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (project_id, received_at)
TTL toDateTime(received_at) + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 10000;
