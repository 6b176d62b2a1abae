import crypto from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { ClickHouse, Config, Logger } from '@tidemark/core';
import { ConflictError, NotFoundError, ValidationError } from '@tidemark/core';
import { recipientsOf, recordMetaStatuses, recordTwilioStatus, verifyMetaSignature, verifyTwilioSignature, type Notification } from '../channels';
import { systemClock, type Clock } from '../clock';
import { backtest, type BacktestResult } from '../engine/backtest';
import { loadMutes, maintenanceInputSchema, silenceInputSchema, type MaintenanceInput, type SilenceInput } from '../notify/mute';
import { checkPolicy, loadPolicy, policySchema, type PolicyInput, type PolicySpec } from '../notify/policy';
import { Sender } from '../notify/sender';
import { issueMessage, projectIdSchema, ruleNameSchema, ruleSchema, SEVERITIES, zodProblems, type RuleInput, type RuleProblem } from '../rules/schema';
import { deleteRule, getRule, inTransaction, listRules, parseStoredSpec, projectExists, upsertRule, type StoredRule } from '../rules/store';
import { checkRuleSql } from '../rules/validate';
import type { AlertState, InstanceKind } from '../state/types';
import { stableJson } from '../util/hash';

/**
 * The alerting API as typed functions: the query API mounts them as thin
 * Koa handlers. Every function takes the caller's project first and every
 * SQL statement is scoped by it: a project never sees or changes another's
 * rules, alerts, silences or notifications. Inputs are validated with the
 * exported zod schemas; a bad input is a ValidationError (400) naming each
 * field, a missing object NotFoundError (404), a conflict ConflictError (409).
 */

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: issueMessage(i) }));
  throw new ValidationError(`${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`, { context: { issues } });
}

const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const listActiveAlertsInput = z.strictObject({
  states: z.array(z.enum(['pending', 'firing', 'recovering'])).default(['pending', 'firing', 'recovering']),
  rule: ruleNameSchema.optional(),
  severity: z.enum(SEVERITIES).optional(),
  limit: z.number().int().min(1).max(5000).default(500),
});
export const historyInput = z.strictObject({
  rule: ruleNameSchema.optional(),
  fingerprint: z.string().regex(/^[0-9a-f]{32}$/).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  /** Entries older than this id (paging, newest first). */
  before_id: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(5000).default(200),
});
export const acknowledgeInput = z.strictObject({
  rule: ruleNameSchema,
  fingerprint: z.string().regex(/^[0-9a-f]{32}$/, 'must be an alert fingerprint'),
  by: z.string().trim().min(1, 'name who acknowledges').max(200),
  comment: z.string().max(2000).default(''),
});
export const listSilencesInput = z.strictObject({ state: z.enum(['active', 'pending', 'expired', 'all']).default('all') });
export const listNotificationsInput = z.strictObject({
  status: z.enum(['pending', 'sending', 'sent', 'partial', 'delivered', 'failed', 'superseded']).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});
export const testSendInput = z.strictObject({ channel: z.string().min(1), message: z.string().max(1000).default('This is a test notification from Tidemark alerting.') });
export const previewInput = z
  .strictObject({
    /** A rule to try (not stored), or the name of a stored one. */
    rule: z.unknown().optional(),
    name: ruleNameSchema.optional(),
    from: z.coerce.date(),
    to: z.coerce.date(),
    /** Milliseconds between evaluations (default: the rule's interval). */
    step_ms: z.number().int().min(1000).optional(),
  })
  .refine((p) => (p.rule === undefined) !== (p.name === undefined), 'give either rule (a definition) or name (a stored rule)');

export interface ActiveAlert {
  rule: string;
  fingerprint: string;
  kind: InstanceKind;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertState;
  severity: string;
  value: number | null;
  episode: number;
  activeSince: string | null;
  firedAt: string | null;
  lastEvalAt: string;
  lastSentAt: string | null;
  acknowledged: { at: string; by: string; comment: string } | null;
  /** "silence <id>" / "maintenance <name>" while notifications are muted. */
  mutedBy: string | null;
}

export interface HistoryEntry {
  id: number;
  rule: string;
  fingerprint: string;
  kind: string;
  labels: Record<string, string>;
  from: string;
  to: string;
  severity: string;
  value: number | null;
  episode: number;
  at: string;
  detail: string | null;
}

export interface Silence {
  id: string;
  matchers: unknown[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  state: 'active' | 'pending' | 'expired';
}

export interface NotificationRecord {
  id: number;
  channel: string;
  channelType: string;
  recipient: string | null;
  idempotencyKey: string;
  dedupKeys: string[];
  status: string;
  attempts: number;
  createdAt: string;
  sentAt: string | null;
  nextAttemptAt: string;
  lastError: string | null;
  isTest: boolean;
  payload: unknown;
  /** The provider's message id and its last asynchronous verdict (Twilio StatusCallback), when reported. */
  providerId: string | null;
  providerStatus: string | null;
  providerError: string | null;
  /** Per-recipient results (email): address → accepted, server reply. */
  recipientResults: Record<string, { accepted: boolean; response?: string }> | null;
}

export interface AttemptRecord {
  attempt: number;
  replica: string;
  startedAt: string;
  durationMs: number;
  outcome: string;
  httpStatus: number | null;
  error: string | null;
}

export interface AlertingServiceOptions {
  meta: Pool;
  readonly: ClickHouse;
  config: Config;
  logger: Logger;
  clock?: Clock;
}

export class AlertingService {
  private readonly clock: Clock;
  private readonly sender: Sender;

  constructor(private readonly o: AlertingServiceOptions) {
    this.clock = o.clock ?? systemClock;
    // Test sends use the same send path as the engine (retries, attempt records), outside the outbox.
    this.sender = new Sender({
      meta: o.meta,
      config: o.config,
      clock: this.clock,
      logger: o.logger,
      owner: 'api/test-send',
      leaseMs: o.config.ALERTING_LEASE_MS,
      sendTimeoutMs: o.config.ALERTING_SEND_TIMEOUT_MS,
      sendRetries: o.config.ALERTING_SEND_RETRIES,
      retryInitialMs: 250,
      retryMaxDelayMs: o.config.ALERTING_RETRY_MAX_DELAY_MS,
      giveUpAfterMs: o.config.ALERTING_GIVE_UP_AFTER_MS,
      perChannelConcurrency: 4,
    });
  }

  private project(projectId: string): string {
    return parse(projectIdSchema, projectId, 'project');
  }

  // ---------------------------------------------------------------- alerts

  async listActiveAlerts(projectId: string, input: z.input<typeof listActiveAlertsInput> = {}): Promise<ActiveAlert[]> {
    const p = this.project(projectId);
    const q = parse(listActiveAlertsInput, input, 'listActiveAlerts');
    const { rows } = await this.o.meta.query(
      `SELECT rule_name, fingerprint, kind, labels, annotations, state, severity, value, episode, active_since, fired_at, last_eval_at, last_sent_at,
              acknowledged_at, acknowledged_by, ack_comment
       FROM alert_instances
       WHERE project_id = $1 AND state = ANY($2::text[]) AND ($3::text IS NULL OR rule_name = $3) AND ($4::text IS NULL OR severity = $4)
       ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'recovering' THEN 1 ELSE 2 END, severity DESC, active_since, rule_name, fingerprint
       LIMIT $5`,
      [p, q.states, q.rule ?? null, q.severity ?? null, q.limit],
    );
    const mutes = await loadMutes(this.o.meta, p, this.clock.now());
    return rows.map((r) => ({
      rule: r.rule_name,
      fingerprint: r.fingerprint,
      kind: r.kind,
      labels: r.labels,
      annotations: r.annotations,
      state: r.state,
      severity: r.severity,
      value: r.value,
      episode: r.episode,
      activeSince: isoOrNull(r.active_since),
      firedAt: isoOrNull(r.fired_at),
      lastEvalAt: (r.last_eval_at as Date).toISOString(),
      lastSentAt: isoOrNull(r.last_sent_at),
      acknowledged: r.acknowledged_at ? { at: (r.acknowledged_at as Date).toISOString(), by: r.acknowledged_by, comment: r.ack_comment ?? '' } : null,
      mutedBy: mutes.mutedBy(r.labels),
    }));
  }

  async history(projectId: string, input: z.input<typeof historyInput> = {}): Promise<HistoryEntry[]> {
    const p = this.project(projectId);
    const q = parse(historyInput, input, 'history');
    const { rows } = await this.o.meta.query(
      `SELECT id, rule_name, fingerprint, kind, labels, from_state, to_state, severity, value, episode, at, detail FROM alert_history
       WHERE project_id = $1 AND ($2::text IS NULL OR rule_name = $2) AND ($3::text IS NULL OR fingerprint = $3)
         AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5) AND ($6::bigint IS NULL OR id < $6)
       ORDER BY id DESC LIMIT $7`,
      [p, q.rule ?? null, q.fingerprint ?? null, q.from?.toISOString() ?? null, q.to?.toISOString() ?? null, q.before_id ?? null, q.limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      rule: r.rule_name,
      fingerprint: r.fingerprint,
      kind: r.kind,
      labels: r.labels,
      from: r.from_state,
      to: r.to_state,
      severity: r.severity,
      value: r.value,
      episode: r.episode,
      at: (r.at as Date).toISOString(),
      detail: r.detail,
    }));
  }

  /**
   * Acknowledges an active alert: its group sends no repeats for it until
   * it resolves (the resolve is still sent). The acknowledgement ends with
   * the episode.
   */
  async acknowledge(projectId: string, input: z.input<typeof acknowledgeInput>): Promise<ActiveAlert> {
    const p = this.project(projectId);
    const q = parse(acknowledgeInput, input, 'acknowledge');
    const now = this.clock.now();
    await inTransaction(this.o.meta, async (client) => {
      const { rows } = await client.query(
        `UPDATE alert_instances SET acknowledged_at = $4, acknowledged_by = $5, ack_comment = $6, updated_at = $4
         WHERE project_id = $1 AND rule_name = $2 AND fingerprint = $3 AND state IN ('pending', 'firing', 'recovering')
         RETURNING kind, labels, state, severity, value, episode`,
        [p, q.rule, q.fingerprint, new Date(now).toISOString(), q.by, q.comment],
      );
      const r = rows[0];
      if (!r) throw new NotFoundError(`no active alert ${q.rule}/${q.fingerprint} in project ${p}`);
      await client.query(
        `INSERT INTO alert_history (project_id, rule_name, fingerprint, kind, labels, from_state, to_state, severity, value, episode, at, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11)`,
        [p, q.rule, q.fingerprint, r.kind, JSON.stringify(r.labels), r.state, r.severity, r.value, r.episode, new Date(now).toISOString(), `acknowledged by ${q.by}${q.comment ? `: ${q.comment}` : ''}`],
      );
    });
    const [alert] = (await this.listActiveAlerts(p, { rule: q.rule, limit: 5000 })).filter((a) => a.fingerprint === q.fingerprint);
    return alert as ActiveAlert;
  }

  // ---------------------------------------------------------------- silences

  private silenceRow(r: { id: string; matchers: unknown[]; starts_at: Date; ends_at: Date; created_by: string; comment: string }, now: number): Silence {
    const state = r.ends_at.getTime() <= now ? 'expired' : r.starts_at.getTime() > now ? 'pending' : 'active';
    return { id: r.id, matchers: r.matchers, startsAt: r.starts_at.toISOString(), endsAt: r.ends_at.toISOString(), createdBy: r.created_by, comment: r.comment, state };
  }

  async createSilence(projectId: string, input: SilenceInput): Promise<Silence> {
    const p = this.project(projectId);
    const s = parse(silenceInputSchema, input, 'silence');
    const now = this.clock.now();
    const startsAt = s.starts_at ?? new Date(now);
    if (s.ends_at.getTime() <= startsAt.getTime()) throw new ValidationError('silence: ends_at must be after starts_at', { context: { issues: [{ path: 'ends_at', message: 'must be after starts_at' }] } });
    const { rows } = await this.o.meta.query(
      `INSERT INTO alert_silences (id, project_id, matchers, starts_at, ends_at, created_by, comment) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [crypto.randomUUID(), p, JSON.stringify(s.matchers), startsAt.toISOString(), s.ends_at.toISOString(), s.created_by, s.comment],
    );
    return this.silenceRow(rows[0], now);
  }

  async listSilences(projectId: string, input: z.input<typeof listSilencesInput> = {}): Promise<Silence[]> {
    const p = this.project(projectId);
    const q = parse(listSilencesInput, input, 'listSilences');
    const now = this.clock.now();
    const { rows } = await this.o.meta.query(`SELECT * FROM alert_silences WHERE project_id = $1 ORDER BY ends_at DESC`, [p]);
    return rows.map((r) => this.silenceRow(r, now)).filter((s) => q.state === 'all' || s.state === q.state);
  }

  async getSilence(projectId: string, id: string): Promise<Silence> {
    const p = this.project(projectId);
    const sid = parse(z.uuid(), id, 'silence id');
    const { rows } = await this.o.meta.query(`SELECT * FROM alert_silences WHERE project_id = $1 AND id = $2`, [p, sid]);
    if (!rows[0]) throw new NotFoundError(`no silence ${sid} in project ${p}`);
    return this.silenceRow(rows[0], this.clock.now());
  }

  async updateSilence(projectId: string, id: string, input: SilenceInput): Promise<Silence> {
    const p = this.project(projectId);
    const sid = parse(z.uuid(), id, 'silence id');
    const s = parse(silenceInputSchema, input, 'silence');
    const now = this.clock.now();
    const { rows } = await this.o.meta.query(
      `UPDATE alert_silences SET matchers = $3, starts_at = COALESCE($4, starts_at), ends_at = $5, created_by = $6, comment = $7, updated_at = now()
       WHERE project_id = $1 AND id = $2 RETURNING *`,
      [p, sid, JSON.stringify(s.matchers), s.starts_at?.toISOString() ?? null, s.ends_at.toISOString(), s.created_by, s.comment],
    );
    if (!rows[0]) throw new NotFoundError(`no silence ${sid} in project ${p}`);
    return this.silenceRow(rows[0], now);
  }

  /** Ends a silence now (kept for the record). */
  async expireSilence(projectId: string, id: string): Promise<Silence> {
    const p = this.project(projectId);
    const sid = parse(z.uuid(), id, 'silence id');
    const now = this.clock.now();
    const nowIso = new Date(now).toISOString();
    const { rows } = await this.o.meta.query(
      `UPDATE alert_silences SET ends_at = GREATEST(starts_at + interval '1 millisecond', LEAST(ends_at, $3::timestamptz)),
         starts_at = LEAST(starts_at, $3::timestamptz), updated_at = now()
       WHERE project_id = $1 AND id = $2 RETURNING *`,
      [p, sid, nowIso],
    );
    if (!rows[0]) throw new NotFoundError(`no silence ${sid} in project ${p}`);
    return this.silenceRow(rows[0], now);
  }

  async deleteSilence(projectId: string, id: string): Promise<void> {
    const p = this.project(projectId);
    const sid = parse(z.uuid(), id, 'silence id');
    const r = await this.o.meta.query(`DELETE FROM alert_silences WHERE project_id = $1 AND id = $2`, [p, sid]);
    if (r.rowCount === 0) throw new NotFoundError(`no silence ${sid} in project ${p}`);
  }

  // ---------------------------------------------------------------- maintenance windows

  async createMaintenanceWindow(projectId: string, input: MaintenanceInput): Promise<{ id: string; name: string }> {
    const p = this.project(projectId);
    const w = parse(maintenanceInputSchema, input, 'maintenance window');
    const startsAt = w.starts_at ?? new Date(this.clock.now());
    try {
      const { rows } = await this.o.meta.query(
        `INSERT INTO alert_maintenance_windows (id, project_id, name, matchers, starts_at, ends_at, recurrence, created_by, comment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, name`,
        [crypto.randomUUID(), p, w.name, JSON.stringify(w.matchers), startsAt.toISOString(), w.ends_at?.toISOString() ?? null, w.recurrence ? JSON.stringify(w.recurrence) : null, w.created_by, w.comment],
      );
      return rows[0];
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new ConflictError(`a maintenance window named "${w.name}" already exists in project ${p}`);
      throw err;
    }
  }

  async listMaintenanceWindows(projectId: string): Promise<unknown[]> {
    const p = this.project(projectId);
    const { rows } = await this.o.meta.query(
      `SELECT id, name, matchers, starts_at, ends_at, recurrence, created_by, comment FROM alert_maintenance_windows WHERE project_id = $1 ORDER BY name`,
      [p],
    );
    return rows;
  }

  async deleteMaintenanceWindow(projectId: string, id: string): Promise<void> {
    const p = this.project(projectId);
    const wid = parse(z.uuid(), id, 'maintenance window id');
    const r = await this.o.meta.query(`DELETE FROM alert_maintenance_windows WHERE project_id = $1 AND id = $2`, [p, wid]);
    if (r.rowCount === 0) throw new NotFoundError(`no maintenance window ${wid} in project ${p}`);
  }

  // ---------------------------------------------------------------- rules

  async listRules(projectId: string): Promise<StoredRule[]> {
    return listRules(this.o.meta, this.project(projectId));
  }

  async getRule(projectId: string, name: string): Promise<StoredRule> {
    const p = this.project(projectId);
    const r = await getRule(this.o.meta, p, parse(ruleNameSchema, name, 'rule name'));
    if (!r) throw new NotFoundError(`no rule ${name} in project ${p}`);
    return r;
  }

  /** Problems of a rule definition (schema, then SQL against ClickHouse); empty when it is valid. */
  async validateRule(projectId: string, input: unknown): Promise<RuleProblem[]> {
    const p = this.project(projectId);
    const r = ruleSchema.safeParse(input);
    if (!r.success) return zodProblems(r.error, 'api', '');
    const check = await checkRuleSql(this.o.readonly, r.data, p, this.clock.now());
    return check.problems.map((x) => ({ file: 'api', rule: r.data.name, field: x.field, message: x.message }));
  }

  private async validatedRule(projectId: string, input: unknown): Promise<RuleInput> {
    const problems = await this.validateRule(projectId, input);
    if (problems.length > 0) {
      throw new ValidationError(`rule: ${problems.map((x) => `${x.field ? `${x.field}: ` : ''}${x.message}`).join('; ')}`, {
        context: { issues: problems.map((x) => ({ path: x.field ?? '', message: x.message })) },
      });
    }
    return input as RuleInput;
  }

  async createRule(projectId: string, input: unknown): Promise<StoredRule> {
    const p = this.project(projectId);
    const rule = await this.validatedRule(p, input);
    if (!(await projectExists(this.o.meta, p))) throw new NotFoundError(`project ${p} does not exist`);
    await inTransaction(this.o.meta, async (client) => {
      const existing = await getRule(client, p, rule.name);
      if (existing) throw new ConflictError(`rule ${rule.name} already exists in project ${p} (source: ${existing.source})`);
      await upsertRule(client, p, rule, 'api', null, this.clock.now(), this.o.config.ALERTING_SPREAD_EVALUATIONS);
    });
    return this.getRule(p, rule.name);
  }

  /** Replaces an API rule. Its alert state is kept: an annotation-only edit changes only the text of later notifications. */
  async updateRule(projectId: string, name: string, input: unknown): Promise<StoredRule> {
    const p = this.project(projectId);
    const rule = await this.validatedRule(p, input);
    if (rule.name !== name) throw new ValidationError(`rule: name "${rule.name}" differs from "${name}"; rules cannot be renamed (create a new one)`, { context: { issues: [{ path: 'name', message: 'cannot change' }] } });
    await inTransaction(this.o.meta, async (client) => {
      const existing = await getRule(client, p, name);
      if (!existing) throw new NotFoundError(`no rule ${name} in project ${p}`);
      if (existing.source !== 'api') throw new ConflictError(`rule ${name} comes from ${existing.source === 'file' ? `the file ${existing.sourceFile}` : 'the built-in rules'}; change it there`);
      await upsertRule(client, p, rule, 'api', null, this.clock.now(), this.o.config.ALERTING_SPREAD_EVALUATIONS);
    });
    return this.getRule(p, name);
  }

  /** Deletes an API rule; its firing alerts resolve (and their resolves are sent). */
  async deleteRule(projectId: string, name: string): Promise<void> {
    const p = this.project(projectId);
    const n = parse(ruleNameSchema, name, 'rule name');
    await inTransaction(this.o.meta, async (client) => {
      const existing = await getRule(client, p, n);
      if (!existing) throw new NotFoundError(`no rule ${n} in project ${p}`);
      if (existing.source !== 'api') throw new ConflictError(`rule ${n} comes from ${existing.source === 'file' ? `the file ${existing.sourceFile}` : 'the built-in rules'}; remove it there`);
      await deleteRule(client, p, n, this.clock.now());
    });
  }

  async listRuleProblems(projectId: string): Promise<RuleProblem[]> {
    const p = this.project(projectId);
    const { rows } = await this.o.meta.query(`SELECT source_file, rule_name, field, message FROM alert_rule_problems WHERE project_id = $1 ORDER BY source_file, field`, [p]);
    return rows.map((r) => ({ file: r.source_file, ...(r.rule_name ? { rule: r.rule_name } : {}), ...(r.field ? { field: r.field } : {}), message: r.message }));
  }

  // ---------------------------------------------------------------- policy

  /** The project's API policy (channels and routes); file policies are read-only here. */
  async getPolicy(projectId: string): Promise<{ api: PolicySpec; effective: { channels: string[]; routes: string[] } }> {
    const p = this.project(projectId);
    const { rows } = await this.o.meta.query(`SELECT spec FROM alert_policies WHERE project_id = $1 AND source = 'api'`, [p]);
    const eff = await loadPolicy(this.o.meta, p);
    return { api: rows[0] ? policySchema.parse(rows[0].spec) : { channels: [], routes: [] }, effective: { channels: [...eff.channels.keys()], routes: eff.routes.map((r) => r.name) } };
  }

  async putPolicy(projectId: string, input: PolicyInput): Promise<void> {
    const p = this.project(projectId);
    const spec = parse(policySchema, input, 'policy');
    const { rows } = await this.o.meta.query<{ spec: PolicySpec }>(`SELECT spec FROM alert_policies WHERE project_id = $1 AND source <> 'api'`, [p]);
    const fileChannels = new Set(rows.flatMap((r) => (r.spec.channels ?? []).map((c) => c.name)));
    const clash = spec.channels.filter((c) => fileChannels.has(c.name)).map((c) => c.name);
    const problems = [...checkPolicy(spec, this.o.config, fileChannels), ...clash.map((n) => ({ field: 'channels', message: `channel "${n}" is defined by a rule file` }))];
    if (problems.length > 0) {
      throw new ValidationError(`policy: ${problems.map((x) => `${x.field}: ${x.message}`).join('; ')}`, { context: { issues: problems.map((x) => ({ path: x.field, message: x.message })) } });
    }
    if (!(await projectExists(this.o.meta, p))) throw new NotFoundError(`project ${p} does not exist`);
    await this.o.meta.query(
      `INSERT INTO alert_policies (project_id, source, spec) VALUES ($1, 'api', $2) ON CONFLICT (project_id, source) DO UPDATE SET spec = EXCLUDED.spec, updated_at = now()`,
      [p, stableJson(input)],
    );
  }

  // ---------------------------------------------------------------- notifications

  /**
   * A Twilio status callback (the API's POST route): verifies X-Twilio-Signature against
   * ALERTING_TWILIO_STATUS_CALLBACK_URL with the request's query string and records the
   * message's state on its delivery. Not scoped by an API key: Twilio cannot send one; the
   * signature (HMAC with the auth token over the URL, which names project and delivery) is the proof.
   */
  /**
   * The WhatsApp Cloud API webhook (the API's route). Registration: Meta sends GET with
   * hub.mode=subscribe, hub.verify_token and hub.challenge; the challenge is echoed when the token
   * is ALERTING_WHATSAPP_VERIFY_TOKEN. Notifications: POST bodies signed with the app secret
   * (X-Hub-Signature-256); their message statuses are recorded on the deliveries they concern.
   */
  whatsappWebhookVerify(q: { mode: string | undefined; token: string | undefined; challenge: string | undefined }): string | null {
    const want = this.o.config.ALERTING_WHATSAPP_VERIFY_TOKEN;
    return want && q.mode === 'subscribe' && q.token === want && q.challenge !== undefined ? q.challenge : null;
  }

  async whatsappWebhook(input: { rawBody: Buffer; signature: string | undefined }): Promise<{ verified: boolean; changed: number }> {
    if (!verifyMetaSignature(this.o.config.ALERTING_WHATSAPP_APP_SECRET, input.rawBody, input.signature)) return { verified: false, changed: 0 };
    let body: unknown;
    try {
      body = JSON.parse(input.rawBody.toString('utf8'));
    } catch {
      return { verified: true, changed: 0 };
    }
    return { verified: true, changed: await recordMetaStatuses(this.o.meta, body, new Date(this.clock.now())) };
  }

  async twilioStatusCallback(input: { rawQuery: string; params: Record<string, string>; signature: string | undefined }): Promise<{ verified: boolean; recorded: boolean }> {
    const base = this.o.config.ALERTING_TWILIO_STATUS_CALLBACK_URL;
    if (!base) return { verified: false, recorded: false };
    const u = new URL(base);
    const signedUrl = `${u.origin}${u.pathname}${input.rawQuery ? `?${input.rawQuery}` : ''}`;
    if (!verifyTwilioSignature(this.o.config.ALERTING_TWILIO_AUTH_TOKEN, signedUrl, input.params, input.signature)) return { verified: false, recorded: false };
    const q = new URLSearchParams(input.rawQuery);
    const projectId = q.get('project') ?? '';
    const id = Number(q.get('notification'));
    if (!projectId || !Number.isSafeInteger(id) || id <= 0) return { verified: true, recorded: false };
    const recorded = await recordTwilioStatus(this.o.meta, { projectId, notificationId: id, params: input.params, at: new Date(this.clock.now()) });
    if (!recorded) this.o.logger.warn({ projectId, notification: id, status: input.params.MessageStatus }, 'Twilio status callback matched no delivery');
    return { verified: true, recorded };
  }

  async listNotifications(projectId: string, input: z.input<typeof listNotificationsInput> = {}): Promise<NotificationRecord[]> {
    const p = this.project(projectId);
    const q = parse(listNotificationsInput, input, 'listNotifications');
    const { rows } = await this.o.meta.query(
      `SELECT * FROM alert_notifications WHERE project_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY id DESC LIMIT $3`,
      [p, q.status ?? null, q.limit],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      channel: r.channel,
      channelType: r.channel_type,
      recipient: r.recipient,
      idempotencyKey: r.idempotency_key,
      dedupKeys: r.dedup_keys,
      status: r.status,
      attempts: r.attempts,
      createdAt: (r.created_at as Date).toISOString(),
      sentAt: isoOrNull(r.sent_at),
      nextAttemptAt: (r.next_attempt_at as Date).toISOString(),
      lastError: r.last_error,
      isTest: r.is_test,
      payload: r.payload,
      providerId: r.provider_id ?? null,
      providerStatus: r.provider_status ?? null,
      providerError: r.provider_error ?? null,
      recipientResults: r.recipient_results ?? null,
    }));
  }

  /** Every send attempt of one notification, in order. */
  async listAttempts(projectId: string, notificationId: number): Promise<AttemptRecord[]> {
    const p = this.project(projectId);
    const { rows } = await this.o.meta.query(
      `SELECT attempt, replica, started_at, duration_ms, outcome, http_status, error FROM alert_notification_attempts
       WHERE project_id = $1 AND notification_id = $2 ORDER BY attempt`,
      [p, notificationId],
    );
    return rows.map((r) => ({
      attempt: r.attempt,
      replica: r.replica,
      startedAt: (r.started_at as Date).toISOString(),
      durationMs: r.duration_ms,
      outcome: r.outcome,
      httpStatus: r.http_status,
      error: r.error,
    }));
  }

  /**
   * Sends a test notification to one channel now, through the same send
   * path (retries, attempt records); returns the outcome and every attempt.
   */
  async testSend(projectId: string, input: z.input<typeof testSendInput>): Promise<{ ok: boolean; notificationId: number; error: string | null; attempts: AttemptRecord[] }> {
    const p = this.project(projectId);
    const q = parse(testSendInput, input, 'testSend');
    const policy = await loadPolicy(this.o.meta, p);
    const config = policy.channels.get(q.channel);
    if (!config) throw new NotFoundError(`no channel named "${q.channel}" in project ${p}; channels: ${[...policy.channels.keys()].join(', ')}`);
    const now = this.clock.now();
    const key = `test-${crypto.randomUUID()}`;
    const payload: Omit<Notification, 'id' | 'idempotencyKey'> = {
      projectId: p,
      groupKey: 'test',
      groupLabels: { alertname: 'TidemarkTest' },
      status: 'firing',
      severity: 'INFO',
      alerts: [
        {
          rule: 'TidemarkTest',
          fingerprint: '0'.repeat(32),
          kind: 'alert',
          status: 'firing',
          severity: 'INFO',
          labels: { alertname: 'TidemarkTest', severity: 'INFO' },
          annotations: { summary: q.message },
          value: null,
          startsAt: new Date(now).toISOString(),
          endsAt: null,
          dedupKey: key,
          isNew: true,
          acknowledged: false,
        },
      ],
      firingCount: 1,
      resolvedCount: 0,
      omitted: 0,
      commonLabels: { alertname: 'TidemarkTest', severity: 'INFO' },
      commonAnnotations: { summary: q.message },
      isRepeat: false,
      isTest: true,
      createdAt: new Date(now).toISOString(),
    };
    // A fan-out channel (SMS, WhatsApp) is tested on its first recipient.
    const recipient = recipientsOf(config)[0];
    const { rows } = await this.o.meta.query<{ id: string }>(
      `INSERT INTO alert_notifications (project_id, group_key, channel, channel_type, recipient, idempotency_key, dedup_keys, payload, status, next_attempt_at, created_at, is_test, lease_owner)
       VALUES ($1, 'test', $2, $3, $4, $5, $6, $7, 'sending', $8, $8, true, 'api/test-send') RETURNING id`,
      [p, config.name, config.type, recipient ?? null, key, [key], JSON.stringify(payload), new Date(now).toISOString()],
    );
    const id = Number(rows[0]?.id);
    const n: Notification = { ...payload, id, idempotencyKey: key, ...(recipient ? { recipient } : {}) };
    const out = await this.sender.sendRecorded(n, config, async (a) => {
      await this.o.meta.query(
        `INSERT INTO alert_notification_attempts (notification_id, project_id, attempt, replica, started_at, duration_ms, outcome, http_status, error)
         VALUES ($1, $2, (SELECT COALESCE(max(attempt), 0) + 1 FROM alert_notification_attempts WHERE notification_id = $1), 'api/test-send', $3, $4, $5, $6, $7)`,
        [id, p, new Date(a.startedAt).toISOString(), a.durationMs, a.outcome, a.httpStatus, a.error],
      );
    });
    await this.o.meta.query(
      `UPDATE alert_notifications SET status = $2, sent_at = $3, last_error = $4, lease_owner = NULL, attempts = 1 WHERE id = $1`,
      [id, out.ok ? (out.result.partial ? 'partial' : 'sent') : 'failed', out.ok ? new Date(this.clock.now()).toISOString() : null, out.ok ? (out.result.partial ?? null) : out.message],
    );
    return { ok: out.ok, notificationId: id, error: out.ok ? null : out.message, attempts: await this.listAttempts(p, id) };
  }

  // ---------------------------------------------------------------- preview

  /** Backtest: when the rule would have fired and resolved over a past window. Nothing is stored or sent. */
  async preview(projectId: string, input: z.input<typeof previewInput>): Promise<BacktestResult> {
    const p = this.project(projectId);
    const q = parse(previewInput, input, 'preview');
    let spec;
    if (q.name) {
      const stored = await getRule(this.o.meta, p, q.name);
      if (!stored) throw new NotFoundError(`no rule ${q.name} in project ${p}`);
      spec = parseStoredSpec(stored.spec);
    } else {
      await this.validatedRule(p, q.rule);
      spec = ruleSchema.parse(q.rule);
    }
    return backtest(this.o.readonly, spec, p, {
      from: q.from.getTime(),
      to: q.to.getTime(),
      ...(q.step_ms ? { stepMs: q.step_ms } : {}),
      queryTimeoutCapMs: this.o.config.ALERTING_QUERY_TIMEOUT_MS,
      maxRows: this.o.config.ALERTING_MAX_ROWS,
    });
  }

  async close(): Promise<void> {
    await this.sender.close();
  }
}
