-- Query API (packages/api): AI-assistant analytics settings and quality
-- audits. Every table leads with project_id and every query of the API is
-- scoped to the caller's project.

-- Per-project settings of the AI analytics. NULL means "use the platform
-- default" (the API_AI_* and API_ROI_* config keys), so changing a default
-- reaches every project that did not choose its own value.
CREATE TABLE IF NOT EXISTS ai_project_settings (
  project_id                  text PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  -- Tokens a project may use per quota cycle; 0 = no quota.
  monthly_token_quota         bigint CHECK (monthly_token_quota >= 0),
  -- The cycle starts on this day of each month, at midnight in quota_timezone.
  quota_reset_day             smallint CHECK (quota_reset_day BETWEEN 1 AND 28),
  quota_timezone              text,
  -- ROI cost model, in the platform currency (API_AI_CURRENCY).
  cost_per_human_conversation numeric(14, 4) CHECK (cost_per_human_conversation >= 0),
  agent_monthly_cost          numeric(14, 2) CHECK (agent_monthly_cost > 0),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);

-- Token prices a project overrides (per million tokens, platform currency).
-- A model takes the price of its longest matching prefix among these, the
-- configured and the built-in prices.
CREATE TABLE IF NOT EXISTS ai_model_prices (
  project_id         text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  model              text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
  input_per_million  numeric(14, 6) NOT NULL CHECK (input_per_million >= 0),
  output_per_million numeric(14, 6) NOT NULL CHECK (output_per_million >= 0),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, model)
);

-- Quality audits of conversations: created by an automatic auditor (or a
-- person), optionally reviewed by a person who sets the final score.
CREATE TABLE IF NOT EXISTS quality_audits (
  id             uuid PRIMARY KEY,
  project_id     text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  session_id     text NOT NULL,
  agent_id       text,
  agent_name     text,
  customer_name  text,
  -- The conversation's scenario, e.g. "battery range question".
  session_type   text,
  score          smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
  status         text NOT NULL CHECK (status IN ('passed', 'failed', 'pending_review')),
  audit_type     text NOT NULL CHECK (audit_type IN ('auto', 'manual')),
  -- [{ "type": "...", "detail": "...", "severity": "low|medium|high" }]
  issues         jsonb NOT NULL DEFAULT '[]',
  audited_at     timestamptz NOT NULL DEFAULT now(),
  final_score    smallint CHECK (final_score BETWEEN 0 AND 100),
  reviewed_by    text,
  reviewed_at    timestamptz,
  review_comment text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS quality_audits_project_time_idx ON quality_audits (project_id, audited_at DESC, id);
CREATE INDEX IF NOT EXISTS quality_audits_project_status_idx ON quality_audits (project_id, status);
CREATE INDEX IF NOT EXISTS quality_audits_project_agent_idx ON quality_audits (project_id, agent_id);
