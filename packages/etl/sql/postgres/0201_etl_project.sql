-- ETL: the Tidemark project a synced table's rows belong to (every landed
-- row carries it as project_id in ClickHouse; the query API scopes by it).
ALTER TABLE etl_tables ADD COLUMN IF NOT EXISTS project text NOT NULL DEFAULT 'default';
