-- Alerting (packages/alerting): rules, durable alert state, the state-change
-- outbox, notification groups, deliveries with every attempt, silences and
-- maintenance windows. Every table leads with project_id: each query of the
-- alerting service is scoped to one project.
--
-- Timestamps written by the engine come from its Clock (not now()), so the
-- timeline tests can drive time; created_at/updated_at columns of API
-- objects use now().

-- Rules from YAML files (source 'file'), built-in examples ('builtin') and the
-- API ('api'), all validated by one zod schema; `spec` is its parsed output.
-- The name is the alertname and the identity of the rule's alert state.
CREATE TABLE IF NOT EXISTS alert_rules (
  project_id   text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name         text NOT NULL,
  source       text NOT NULL CHECK (source IN ('file', 'builtin', 'api')),
  -- File the rule came from (file/builtin), named in validation errors.
  source_file  text,
  spec         jsonb NOT NULL,
  -- sha256 of the spec; a reload that changes nothing writes nothing.
  spec_hash    text NOT NULL,
  enabled      boolean NOT NULL DEFAULT true,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, name)
);

-- Problems found by the last load of rule files: file, field, message (with
-- the ClickHouse error). A bad rule is listed here; the others run.
CREATE TABLE IF NOT EXISTS alert_rule_problems (
  project_id   text NOT NULL,
  source       text NOT NULL,
  source_file  text NOT NULL,
  rule_name    text NOT NULL DEFAULT '',
  field        text NOT NULL DEFAULT '',
  message      text NOT NULL,
  found_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alert_rule_problems_project_idx ON alert_rule_problems (project_id, source_file);

-- When each rule is next due, and the lease of the replica evaluating it.
-- lease_token is a fencing token: the evaluation's state write only commits
-- while the token is still the row's, so a replica whose lease expired can
-- never write over the replica that took the rule over.
CREATE TABLE IF NOT EXISTS alert_rule_schedule (
  project_id       text NOT NULL,
  rule_name        text NOT NULL,
  next_eval_at     timestamptz NOT NULL,
  lease_owner      text,
  lease_token      uuid,
  lease_until      timestamptz,
  last_eval_at     timestamptz,
  -- Lease owner of the last evaluation ("<replica>/<boot>"): which replica did it.
  last_owner       text,
  last_duration_ms integer,
  last_rows        integer,
  last_error       text,
  evaluations      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, rule_name),
  FOREIGN KEY (project_id, rule_name) REFERENCES alert_rules (project_id, name) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS alert_rule_schedule_due_idx ON alert_rule_schedule (next_eval_at);

-- One row per alert instance (a rule's row label set, or the rule's NoData /
-- Error pseudo-instance). Timestamps are the ones Prometheus keeps.
CREATE TABLE IF NOT EXISTS alert_instances (
  project_id      text NOT NULL,
  rule_name       text NOT NULL,
  fingerprint     text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('alert', 'nodata', 'error')),
  labels          jsonb NOT NULL,
  annotations     jsonb NOT NULL DEFAULT '{}',
  state           text NOT NULL CHECK (state IN ('inactive', 'pending', 'firing', 'recovering', 'resolved')),
  severity        text NOT NULL CHECK (severity IN ('INFO', 'WARNING', 'CRITICAL')),
  -- Highest severity notified in this episode: a rise above it is notified again.
  peak_severity   text NOT NULL CHECK (peak_severity IN ('INFO', 'WARNING', 'CRITICAL')),
  value           double precision,
  -- Incremented each time the instance becomes active again; part of the dedup key.
  episode         integer NOT NULL DEFAULT 0,
  active_since    timestamptz,
  fired_at        timestamptz,
  last_true_at    timestamptz,
  -- First evaluation the condition stopped holding while firing (keep_firing_for counts from it).
  recovering_since timestamptz,
  resolved_at     timestamptz,
  last_eval_at    timestamptz NOT NULL,
  last_sent_at    timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by text,
  ack_comment     text,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (project_id, rule_name, fingerprint)
);
CREATE INDEX IF NOT EXISTS alert_instances_active_idx ON alert_instances (project_id, state) WHERE state IN ('pending', 'firing', 'recovering');

-- Every state change and acknowledgement, for the history API.
CREATE TABLE IF NOT EXISTS alert_history (
  id           bigserial PRIMARY KEY,
  project_id   text NOT NULL,
  rule_name    text NOT NULL,
  fingerprint  text NOT NULL,
  kind         text NOT NULL,
  labels       jsonb NOT NULL,
  from_state   text NOT NULL,
  to_state     text NOT NULL,
  severity     text NOT NULL,
  value        double precision,
  episode      integer NOT NULL,
  at           timestamptz NOT NULL,
  detail       text
);
CREATE INDEX IF NOT EXISTS alert_history_project_at_idx ON alert_history (project_id, at DESC);
CREATE INDEX IF NOT EXISTS alert_history_instance_idx ON alert_history (project_id, rule_name, fingerprint, at DESC);

-- The outbox: a notifiable state change, written in the transaction that
-- changes the state. dedup_key = hash(project, rule, fingerprint, state,
-- episode) is unique, so a replayed evaluation cannot queue it twice.
CREATE TABLE IF NOT EXISTS alert_events (
  id           bigserial PRIMARY KEY,
  project_id   text NOT NULL,
  rule_name    text NOT NULL,
  fingerprint  text NOT NULL,
  kind         text NOT NULL,
  status       text NOT NULL CHECK (status IN ('firing', 'resolved')),
  severity     text NOT NULL,
  episode      integer NOT NULL,
  dedup_key    text NOT NULL,
  labels       jsonb NOT NULL,
  annotations  jsonb NOT NULL,
  value        double precision,
  starts_at    timestamptz NOT NULL,
  ends_at      timestamptz,
  created_at   timestamptz NOT NULL,
  routed_at    timestamptz,
  UNIQUE (project_id, dedup_key)
);
CREATE INDEX IF NOT EXISTS alert_events_unrouted_idx ON alert_events (id) WHERE routed_at IS NULL;

-- Notification policy documents (channels, routes) per project and source.
CREATE TABLE IF NOT EXISTS alert_policies (
  project_id   text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  source       text NOT NULL CHECK (source IN ('file', 'builtin', 'api')),
  spec         jsonb NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, source)
);

-- Aggregation groups (route x group_by label values) with their timers.
CREATE TABLE IF NOT EXISTS alert_groups (
  project_id         text NOT NULL,
  group_key          text NOT NULL,
  route_name         text NOT NULL,
  channels           text[] NOT NULL,
  group_labels       jsonb NOT NULL,
  group_wait_ms      bigint NOT NULL,
  group_interval_ms  bigint NOT NULL,
  repeat_interval_ms bigint NOT NULL,
  created_at         timestamptz NOT NULL,
  next_flush_at      timestamptz,
  last_flush_at      timestamptz,
  last_sent_at       timestamptz,
  repeat_seq         integer NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, group_key)
);
CREATE INDEX IF NOT EXISTS alert_groups_due_idx ON alert_groups (next_flush_at) WHERE next_flush_at IS NOT NULL;

-- The alerts currently in each group. event_id orders updates: an older
-- event never overwrites a newer one, whichever replica routes it.
CREATE TABLE IF NOT EXISTS alert_group_alerts (
  project_id      text NOT NULL,
  group_key       text NOT NULL,
  rule_name       text NOT NULL,
  fingerprint     text NOT NULL,
  kind            text NOT NULL,
  status          text NOT NULL CHECK (status IN ('firing', 'resolved')),
  severity        text NOT NULL,
  episode         integer NOT NULL,
  dedup_key       text NOT NULL,
  labels          jsonb NOT NULL,
  annotations     jsonb NOT NULL,
  value           double precision,
  starts_at       timestamptz NOT NULL,
  ends_at         timestamptz,
  event_id        bigint NOT NULL,
  -- This status has been put into a notification (or deliberately dropped).
  notified        boolean NOT NULL DEFAULT false,
  -- The firing status of this episode was notified: only then is its resolve sent.
  firing_notified boolean NOT NULL DEFAULT false,
  -- One row per episode: a resolve and the next firing of the same instance
  -- can both wait in a group, and neither is lost.
  PRIMARY KEY (project_id, group_key, rule_name, fingerprint, episode),
  FOREIGN KEY (project_id, group_key) REFERENCES alert_groups (project_id, group_key) ON DELETE CASCADE
);

-- Deliveries: one notification of one group to one channel. The
-- idempotency key goes to the receiver with every attempt.
CREATE TABLE IF NOT EXISTS alert_notifications (
  id              bigserial PRIMARY KEY,
  project_id      text NOT NULL,
  group_key       text NOT NULL,
  channel         text NOT NULL,
  channel_type    text NOT NULL,
  -- Channels that fan out (SMS, WhatsApp) get one delivery per recipient.
  recipient       text,
  idempotency_key text NOT NULL,
  dedup_keys      text[] NOT NULL,
  payload         jsonb NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_owner     text,
  lease_until     timestamptz,
  created_at      timestamptz NOT NULL,
  sent_at         timestamptz,
  last_error      text,
  is_test         boolean NOT NULL DEFAULT false,
  UNIQUE (project_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS alert_notifications_due_idx ON alert_notifications (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX IF NOT EXISTS alert_notifications_project_idx ON alert_notifications (project_id, created_at DESC);

-- Every send attempt, readable through the API.
CREATE TABLE IF NOT EXISTS alert_notification_attempts (
  id              bigserial PRIMARY KEY,
  notification_id bigint NOT NULL REFERENCES alert_notifications (id) ON DELETE CASCADE,
  project_id      text NOT NULL,
  attempt         integer NOT NULL,
  replica         text NOT NULL,
  started_at      timestamptz NOT NULL,
  duration_ms     integer NOT NULL,
  outcome         text NOT NULL CHECK (outcome IN ('ok', 'retriable', 'permanent')),
  http_status     integer,
  error           text
);
CREATE INDEX IF NOT EXISTS alert_notification_attempts_idx ON alert_notification_attempts (notification_id, attempt);

-- Silences: label matchers muting notifications between starts_at and ends_at.
CREATE TABLE IF NOT EXISTS alert_silences (
  id          uuid PRIMARY KEY,
  project_id  text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  matchers    jsonb NOT NULL,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
  created_by  text NOT NULL,
  comment     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alert_silences_project_idx ON alert_silences (project_id, ends_at);

-- Maintenance windows: named, optionally weekly-recurring, muting matching alerts.
CREATE TABLE IF NOT EXISTS alert_maintenance_windows (
  id          uuid PRIMARY KEY,
  project_id  text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        text NOT NULL,
  matchers    jsonb NOT NULL,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz,
  recurrence  jsonb,
  created_by  text NOT NULL,
  comment     text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
