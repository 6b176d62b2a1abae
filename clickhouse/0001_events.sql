-- Product events: the raw table and its rollups per minute, hour and day.
--
-- Exactly-once: every insert into events_raw_v1 carries an
-- insert_deduplication_token and runs with
-- deduplicate_blocks_in_dependent_materialized_views=1, so a retried batch is
-- dropped by the raw table AND by every rollup. Non-replicated tables need
-- non_replicated_deduplication_window for that; replicated ones have their own.

CREATE TABLE IF NOT EXISTS events_raw_v1
(
    project_id   LowCardinality(String),
    -- Client-generated; a client that resends an event sends the same id, so
    -- uniqExact(event_id) counts events even if a client retried after a lost ack.
    event_id     UUID,
    name         LowCardinality(String),
    -- When it happened (client clock corrected by sent_at), and when the collector got it.
    timestamp    DateTime64(3, 'UTC'),
    received_at  DateTime64(3, 'UTC'),
    distinct_id  String,
    session_id   String,
    -- The properties object as JSON text, exactly as sent.
    properties   String CODEC(ZSTD(3)),
    -- Every numeric top-level property (response time, tokens, ...), for the measure rollups.
    measures     Map(LowCardinality(String), Float64),
    product      LowCardinality(String),
    channel      LowCardinality(String),
    os           LowCardinality(String),
    app_version  LowCardinality(String),
    user_agent   String CODEC(ZSTD(3)),
    INDEX idx_ts timestamp TYPE minmax GRANULARITY 1,
    INDEX idx_distinct distinct_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 4
)
-- Plain MergeTree on purpose: the raw table and the rollups fed from it by
-- materialized views always hold the same rows. (A Replacing engine would
-- collapse a client's resent event in raw but not in the rollups.)
ENGINE = MergeTree
PARTITION BY toDate(timestamp)
-- The project leads the sort key: every query is scoped to one.
ORDER BY (project_id, name, timestamp)
TTL toDateTime(timestamp) + INTERVAL {{raw_retention_days}} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS events_1m_v1
(
    project_id   LowCardinality(String),
    bucket       DateTime('UTC'),
    name         LowCardinality(String),
    product      LowCardinality(String),
    channel      LowCardinality(String),
    os           LowCardinality(String),
    app_version  LowCardinality(String),
    events       SimpleAggregateFunction(sum, UInt64),
    users        AggregateFunction(uniq, String),
    sessions     AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, name, bucket, product, channel, os, app_version)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS events_1h_v1 AS events_1m_v1;
CREATE TABLE IF NOT EXISTS events_1d_v1 AS events_1m_v1;

-- Only the minute rollup reads the raw insert; the hour and day rollups are
-- fed from the minute rollup's block of the same insert (a cascade). The
-- minute block is far smaller than the raw one, and measured on the 2-core
-- machine this took about 20% of ClickHouse's CPU off every insert
-- (docs/benchmarks.md). Sums, mins, maxes and merged sketch states are exact
-- re-aggregations, so the hour and day tables hold what reading raw would
-- give. Insert deduplication tokens carry down the chain.
CREATE MATERIALIZED VIEW IF NOT EXISTS events_1m_mv_v1 TO events_1m_v1 AS
SELECT project_id, toStartOfMinute(timestamp) AS bucket, name, product, channel, os, app_version,
       count() AS events, uniqState(distinct_id) AS users, uniqState(session_id) AS sessions
FROM events_raw_v1
GROUP BY project_id, bucket, name, product, channel, os, app_version;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_1h_mv_v1 TO events_1h_v1 AS
SELECT project_id, toStartOfHour(bucket) AS bucket, name, product, channel, os, app_version,
       sum(events) AS events, uniqMergeState(users) AS users, uniqMergeState(sessions) AS sessions
FROM events_1m_v1
GROUP BY project_id, bucket, name, product, channel, os, app_version;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_1d_mv_v1 TO events_1d_v1 AS
SELECT project_id, toStartOfDay(bucket) AS bucket, name, product, channel, os, app_version,
       sum(events) AS events, uniqMergeState(users) AS users, uniqMergeState(sessions) AS sessions
FROM events_1m_v1
GROUP BY project_id, bucket, name, product, channel, os, app_version;

-- Numeric properties per event name: count, sum, min, max and quantile sketches.
CREATE TABLE IF NOT EXISTS event_measures_1m_v1
(
    project_id   LowCardinality(String),
    bucket       DateTime('UTC'),
    name         LowCardinality(String),
    measure      LowCardinality(String),
    count        SimpleAggregateFunction(sum, UInt64),
    sum          SimpleAggregateFunction(sum, Float64),
    min          SimpleAggregateFunction(min, Float64),
    max          SimpleAggregateFunction(max, Float64),
    quantiles    AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, name, measure, bucket)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS event_measures_1h_v1 AS event_measures_1m_v1;
CREATE TABLE IF NOT EXISTS event_measures_1d_v1 AS event_measures_1m_v1;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_measures_1m_mv_v1 TO event_measures_1m_v1 AS
SELECT project_id, toStartOfMinute(timestamp) AS bucket, name, measure,
       count() AS count, sum(value) AS sum, min(value) AS min, max(value) AS max,
       quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(value) AS quantiles
FROM events_raw_v1
ARRAY JOIN mapKeys(measures) AS measure, mapValues(measures) AS value
GROUP BY project_id, bucket, name, measure;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_measures_1h_mv_v1 TO event_measures_1h_v1 AS
SELECT project_id, toStartOfHour(bucket) AS bucket, name, measure,
       sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
       quantilesTDigestMergeState(0.5, 0.9, 0.95, 0.99)(quantiles) AS quantiles
FROM event_measures_1m_v1
GROUP BY project_id, bucket, name, measure;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_measures_1d_mv_v1 TO event_measures_1d_v1 AS
SELECT project_id, toStartOfDay(bucket) AS bucket, name, measure,
       sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
       quantilesTDigestMergeState(0.5, 0.9, 0.95, 0.99)(quantiles) AS quantiles
FROM event_measures_1m_v1
GROUP BY project_id, bucket, name, measure;
