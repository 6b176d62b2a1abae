-- Distributed tables over Tidemark's local tables, for the ClickHouse cluster
-- variant. NOT applied by `tidemark migrate`: run it by hand after the
-- migrations, and again after a migration adds a raw or rollup table:
--
--   clickhouse-client --host clickhouse --user tidemark --password ... \
--     --multiquery < deploy/clickhouse-cluster/distributed.sql
--
-- What it gives today (cluster "tidemark" = 1 shard x 2 replicas): analysts and
-- Grafana can query <table>_dist from any node; with one shard that returns
-- the same rows as the local table. It becomes necessary once the cluster has
-- several shards: each <table>_dist fans a query out to one replica of every
-- shard, and an INSERT into it routes each row to the shard of its project.
--
-- What it does NOT do: the platform itself reads and writes the local tables
-- (events_raw_v1, ...) by name, on whichever node CLICKHOUSE_URL reaches.
-- Until Tidemark writes through these tables (or routes by project itself),
-- run one shard; more shards would split the data and the query API would
-- see only the shard it is connected to. See docs/deployment.md.
--
-- Sharding key: cityHash64(project_id). Every row of a project lands on one
-- shard, so a project's raw rows and the rollups its materialized views fill
-- stay together and a project-scoped query touches one shard's data. A
-- project too big for one shard would shard its raw table by rand() instead;
-- the rollups still merge correctly across shards (-Merge functions).
--
-- Names: cluster 'tidemark' (= CLICKHOUSE_CLUSTER and remote_servers in
-- config.d/cluster.xml) and database tidemark (= CLICKHOUSE_DATABASE); change
-- both here if yours differ. Every statement is idempotent.

-- Raw tables (RAW_RETENTION_DAYS) and ingest warnings.
CREATE TABLE IF NOT EXISTS tidemark.events_raw_v1_dist ON CLUSTER 'tidemark'
AS tidemark.events_raw_v1
ENGINE = Distributed('tidemark', 'tidemark', 'events_raw_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.metrics_raw_v1_dist ON CLUSTER 'tidemark'
AS tidemark.metrics_raw_v1
ENGINE = Distributed('tidemark', 'tidemark', 'metrics_raw_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.logs_raw_v1_dist ON CLUSTER 'tidemark'
AS tidemark.logs_raw_v1
ENGINE = Distributed('tidemark', 'tidemark', 'logs_raw_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.ingest_warnings_v1_dist ON CLUSTER 'tidemark'
AS tidemark.ingest_warnings_v1
ENGINE = Distributed('tidemark', 'tidemark', 'ingest_warnings_v1', cityHash64(project_id));

-- The collector's acknowledgement audit results (clickhouse/0005_ingest_audit.sql).
CREATE TABLE IF NOT EXISTS tidemark.ingest_audit_v1_dist ON CLUSTER 'tidemark'
AS tidemark.ingest_audit_v1
ENGINE = Distributed('tidemark', 'tidemark', 'ingest_audit_v1', cityHash64(project_id));

-- Rollups (AggregatingMergeTree): query them with the same -Merge functions as the local tables.
CREATE TABLE IF NOT EXISTS tidemark.events_1m_v1_dist ON CLUSTER 'tidemark'
AS tidemark.events_1m_v1
ENGINE = Distributed('tidemark', 'tidemark', 'events_1m_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.events_1h_v1_dist ON CLUSTER 'tidemark'
AS tidemark.events_1h_v1
ENGINE = Distributed('tidemark', 'tidemark', 'events_1h_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.events_1d_v1_dist ON CLUSTER 'tidemark'
AS tidemark.events_1d_v1
ENGINE = Distributed('tidemark', 'tidemark', 'events_1d_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.event_measures_1m_v1_dist ON CLUSTER 'tidemark'
AS tidemark.event_measures_1m_v1
ENGINE = Distributed('tidemark', 'tidemark', 'event_measures_1m_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.event_measures_1h_v1_dist ON CLUSTER 'tidemark'
AS tidemark.event_measures_1h_v1
ENGINE = Distributed('tidemark', 'tidemark', 'event_measures_1h_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.event_measures_1d_v1_dist ON CLUSTER 'tidemark'
AS tidemark.event_measures_1d_v1
ENGINE = Distributed('tidemark', 'tidemark', 'event_measures_1d_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.metrics_1m_v1_dist ON CLUSTER 'tidemark'
AS tidemark.metrics_1m_v1
ENGINE = Distributed('tidemark', 'tidemark', 'metrics_1m_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.metrics_1h_v1_dist ON CLUSTER 'tidemark'
AS tidemark.metrics_1h_v1
ENGINE = Distributed('tidemark', 'tidemark', 'metrics_1h_v1', cityHash64(project_id));

CREATE TABLE IF NOT EXISTS tidemark.metrics_1d_v1_dist ON CLUSTER 'tidemark'
AS tidemark.metrics_1d_v1
ENGINE = Distributed('tidemark', 'tidemark', 'metrics_1d_v1', cityHash64(project_id));
