-- Metric samples (system, service, database, Prometheus scrapes) and their rollups.

CREATE TABLE IF NOT EXISTS metrics_raw_v1
(
    project_id   LowCardinality(String),
    name         LowCardinality(String),
    type         Enum8('counter' = 1, 'gauge' = 2, 'histogram' = 3),
    labels       Map(LowCardinality(String), String),
    -- Canonical form of the label set (sorted keys), the series identity.
    labels_key   String,
    value        Float64,
    timestamp    DateTime64(3, 'UTC'),
    received_at  DateTime64(3, 'UTC'),
    INDEX idx_ts timestamp TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (project_id, name, labels_key, timestamp)
TTL toDateTime(timestamp) + INTERVAL {{raw_retention_days}} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS metrics_1m_v1
(
    project_id   LowCardinality(String),
    bucket       DateTime('UTC'),
    name         LowCardinality(String),
    labels_key   String,
    labels       SimpleAggregateFunction(any, Map(String, String)),
    type         SimpleAggregateFunction(any, Enum8('counter' = 1, 'gauge' = 2, 'histogram' = 3)),
    count        SimpleAggregateFunction(sum, UInt64),
    sum          SimpleAggregateFunction(sum, Float64),
    min          SimpleAggregateFunction(min, Float64),
    max          SimpleAggregateFunction(max, Float64),
    -- Latest value in the bucket (gauges; counters' running totals).
    last         AggregateFunction(argMax, Float64, DateTime64(3, 'UTC')),
    quantiles    AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, name, labels_key, bucket)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS metrics_1h_v1 AS metrics_1m_v1;
CREATE TABLE IF NOT EXISTS metrics_1d_v1 AS metrics_1m_v1;

-- Hour and day rollups cascade from the minute rollup, as in 0001_events.sql.
CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_1m_mv_v1 TO metrics_1m_v1 AS
SELECT project_id, toStartOfMinute(timestamp) AS bucket, name, labels_key,
       any(labels) AS labels, any(type) AS type, count() AS count, sum(value) AS sum, min(value) AS min, max(value) AS max,
       argMaxState(value, timestamp) AS last, quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(value) AS quantiles
FROM metrics_raw_v1
GROUP BY project_id, bucket, name, labels_key;

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_1h_mv_v1 TO metrics_1h_v1 AS
SELECT project_id, toStartOfHour(bucket) AS bucket, name, labels_key,
       any(labels) AS labels, any(type) AS type, sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
       argMaxMergeState(last) AS last, quantilesTDigestMergeState(0.5, 0.9, 0.95, 0.99)(quantiles) AS quantiles
FROM metrics_1m_v1
GROUP BY project_id, bucket, name, labels_key;

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_1d_mv_v1 TO metrics_1d_v1 AS
SELECT project_id, toStartOfDay(bucket) AS bucket, name, labels_key,
       any(labels) AS labels, any(type) AS type, sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
       argMaxMergeState(last) AS last, quantilesTDigestMergeState(0.5, 0.9, 0.95, 0.99)(quantiles) AS quantiles
FROM metrics_1m_v1
GROUP BY project_id, bucket, name, labels_key;
