-- Projects are the unit of tenancy: every event, metric, log, rule and key
-- belongs to exactly one project, and every query is scoped to one.
CREATE TABLE IF NOT EXISTS projects (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as sha256 hashes; the plain key is shown once, at creation.
-- role: ingest (write events/metrics/logs), read (query API), admin (keys, rules).
CREATE TABLE IF NOT EXISTS api_keys (
  id          text PRIMARY KEY,
  project_id  text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('ingest', 'read', 'admin')),
  key_hash    text NOT NULL UNIQUE,
  -- First characters of the key, to recognise it in lists without revealing it.
  key_prefix  text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_project_idx ON api_keys (project_id);
