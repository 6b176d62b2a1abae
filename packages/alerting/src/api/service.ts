import type { Pool } from 'pg';
import { z } from 'zod';
import type { ClickHouse, Logger } from '@tidemark/core';
import type { AlertingRoleConfig } from '../settings';
import { NotFoundError, ValidationError } from '@tidemark/core';
import { systemClock, type Clock } from '../clock';
import { backtest, type BacktestResult } from '../engine/backtest';
import { maintenanceInputSchema, silenceInputSchema, type MaintenanceInput, type SilenceInput } from '../notify/mute';
import { policySchema, type PolicyInput, type PolicySpec } from '../notify/policy';
import { Sender } from '../notify/sender';
import { projectIdSchema, ruleNameSchema, ruleSchema, zodProblems, type RuleInput, type RuleProblem } from '../rules/schema';
import { getRule, listRules, parseStoredSpec, type StoredRule } from '../rules/store';
import { checkRuleSql } from '../rules/validate';
import * as alerts from './alerts';
import * as maintenance from './maintenance';
import * as notifications from './notifications';
import { fieldError, parse } from './parse';
import * as policy from './policy';
import * as callbacks from './provider-callbacks';
import * as rules from './rules';
import * as silences from './silences';

export { acknowledgeInput, historyInput, listActiveAlertsInput, type ActiveAlert, type HistoryEntry } from './alerts';
export { listSilencesInput, type Silence } from './silences';
export { listNotificationsInput, testSendInput, type AttemptRecord, type NotificationRecord } from './notifications';
export { previewInput } from './rules';

/**
 * The alerting API as typed functions: the query API mounts them as thin
 * Koa handlers. Every function takes the caller's project first and every
 * SQL statement is scoped by it: a project never sees or changes another's
 * rules, alerts, silences or notifications. Inputs are validated with the
 * exported zod schemas; a bad input is a ValidationError (400) naming each
 * field, a missing object NotFoundError (404), a conflict ConflictError (409).
 *
 * This class only validates and composes: the SQL of each domain lives in
 * its module (alerts, silences, maintenance, rules, policy, notifications,
 * provider-callbacks), next to its row schemas.
 */

export interface AlertingServiceOptions {
  meta: Pool;
  readonly: ClickHouse;
  config: AlertingRoleConfig;
  logger: Logger;
  clock?: Clock;
}

export class AlertingService {
  private readonly clock: Clock;
  private readonly sender: Sender;
  private readonly now: () => number;

  constructor(private readonly o: AlertingServiceOptions) {
    this.clock = o.clock ?? systemClock;
    this.now = () => this.clock.now();
    // Test sends use the same send path as the engine (retries, attempt records), outside the outbox.
    this.sender = new Sender({
      meta: o.meta,
      config: o.config,
      clock: this.clock,
      logger: o.logger,
      owner: notifications.TEST_SEND_OWNER,
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

  private get ruleWrites(): rules.RuleWriteContext {
    return { pool: this.o.meta, now: this.now, spread: this.o.config.ALERTING_SPREAD_EVALUATIONS };
  }

  // ---------------------------------------------------------------- alerts

  async listActiveAlerts(projectId: string, input: z.input<typeof alerts.listActiveAlertsInput> = {}): Promise<alerts.ActiveAlert[]> {
    return alerts.listActiveAlerts(this.o.meta, this.project(projectId), parse(alerts.listActiveAlertsInput, input, 'listActiveAlerts'), this.now());
  }

  async history(projectId: string, input: z.input<typeof alerts.historyInput> = {}): Promise<alerts.HistoryEntry[]> {
    return alerts.history(this.o.meta, this.project(projectId), parse(alerts.historyInput, input, 'history'));
  }

  /**
   * Acknowledges an active alert: its group sends no repeats for it until
   * it resolves (the resolve is still sent). The acknowledgement ends with
   * the episode.
   */
  async acknowledge(projectId: string, input: z.input<typeof alerts.acknowledgeInput>): Promise<alerts.ActiveAlert> {
    const p = this.project(projectId);
    const q = parse(alerts.acknowledgeInput, input, 'acknowledge');
    await alerts.acknowledge(this.o.meta, p, q, this.now());
    const [alert] = (await this.listActiveAlerts(p, { rule: q.rule, limit: 5000 })).filter((a) => a.fingerprint === q.fingerprint);
    // Resolved between the acknowledgement and this read: there is no active alert to show.
    if (!alert) throw new NotFoundError(`no active alert ${q.rule}/${q.fingerprint} in project ${p}`);
    return alert;
  }

  // ---------------------------------------------------------------- silences

  async createSilence(projectId: string, input: SilenceInput): Promise<silences.Silence> {
    const p = this.project(projectId);
    const s = parse(silenceInputSchema, input, 'silence');
    const now = this.now();
    const startsAt = s.starts_at ?? new Date(now);
    if (s.ends_at.getTime() <= startsAt.getTime())
      throw fieldError('silence', 'ends_at', 'must be after starts_at', 'silence: ends_at must be after starts_at');
    return silences.createSilence(this.o.meta, p, s, startsAt, now);
  }

  async listSilences(projectId: string, input: z.input<typeof silences.listSilencesInput> = {}): Promise<silences.Silence[]> {
    const p = this.project(projectId);
    const q = parse(silences.listSilencesInput, input, 'listSilences');
    return silences.listSilences(this.o.meta, p, q.state, this.now());
  }

  async getSilence(projectId: string, id: string): Promise<silences.Silence> {
    const p = this.project(projectId);
    return silences.getSilence(this.o.meta, p, parse(z.uuid(), id, 'silence id'), this.now);
  }

  async updateSilence(projectId: string, id: string, input: SilenceInput): Promise<silences.Silence> {
    const p = this.project(projectId);
    const sid = parse(z.uuid(), id, 'silence id');
    const s = parse(silenceInputSchema, input, 'silence');
    return silences.updateSilence(this.o.meta, p, sid, s, this.now());
  }

  /** Ends a silence now (kept for the record). */
  async expireSilence(projectId: string, id: string): Promise<silences.Silence> {
    const p = this.project(projectId);
    return silences.expireSilence(this.o.meta, p, parse(z.uuid(), id, 'silence id'), this.now());
  }

  async deleteSilence(projectId: string, id: string): Promise<void> {
    const p = this.project(projectId);
    await silences.deleteSilence(this.o.meta, p, parse(z.uuid(), id, 'silence id'));
  }

  // ---------------------------------------------------------------- maintenance windows

  async createMaintenanceWindow(projectId: string, input: MaintenanceInput): Promise<{ id: string; name: string }> {
    const p = this.project(projectId);
    const w = parse(maintenanceInputSchema, input, 'maintenance window');
    return maintenance.createMaintenanceWindow(this.o.meta, p, w, w.starts_at ?? new Date(this.now()));
  }

  async listMaintenanceWindows(projectId: string): Promise<unknown[]> {
    return maintenance.listMaintenanceWindows(this.o.meta, this.project(projectId));
  }

  async deleteMaintenanceWindow(projectId: string, id: string): Promise<void> {
    const p = this.project(projectId);
    await maintenance.deleteMaintenanceWindow(this.o.meta, p, parse(z.uuid(), id, 'maintenance window id'));
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
    const check = await checkRuleSql(this.o.readonly, r.data, p, this.now());
    return check.problems.map((x) => ({ file: 'api', rule: r.data.name, field: x.field, message: x.message }));
  }

  /** The rule as written, once validateRule found no problem. */
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
    await rules.createRule(this.ruleWrites, p, rule);
    return this.getRule(p, rule.name);
  }

  /** Replaces an API rule. Its alert state is kept: an annotation-only edit changes only the text of later notifications. */
  async updateRule(projectId: string, name: string, input: unknown): Promise<StoredRule> {
    const p = this.project(projectId);
    const rule = await this.validatedRule(p, input);
    if (rule.name !== name)
      throw fieldError('rule', 'name', 'cannot change', `rule: name "${rule.name}" differs from "${name}"; rules cannot be renamed (create a new one)`);
    await rules.updateRule(this.ruleWrites, p, rule);
    return this.getRule(p, name);
  }

  /** Deletes an API rule; its firing alerts resolve (and their resolves are sent). */
  async deleteRule(projectId: string, name: string): Promise<void> {
    const p = this.project(projectId);
    await rules.removeRule(this.ruleWrites, p, parse(ruleNameSchema, name, 'rule name'));
  }

  async listRuleProblems(projectId: string): Promise<RuleProblem[]> {
    return rules.listRuleProblems(this.o.meta, this.project(projectId));
  }

  // ---------------------------------------------------------------- policy

  /** The project's API policy (channels and routes); file policies are read-only here. */
  async getPolicy(projectId: string): Promise<{ api: PolicySpec; effective: { channels: string[]; routes: string[] } }> {
    return policy.getPolicy(this.o.meta, this.project(projectId));
  }

  async putPolicy(projectId: string, input: PolicyInput): Promise<void> {
    const p = this.project(projectId);
    await policy.putPolicy(this.o.meta, this.o.config, p, parse(policySchema, input, 'policy'), input);
  }

  // ---------------------------------------------------------------- provider callbacks

  whatsappWebhookVerify(q: { mode: string | undefined; token: string | undefined; challenge: string | undefined }): string | null {
    return callbacks.whatsappWebhookVerify(this.o.config, q);
  }

  async whatsappWebhook(input: { rawBody: Buffer; signature: string | undefined }): Promise<{ verified: boolean; changed: number }> {
    return callbacks.whatsappWebhook(this.callbackDeps(), input);
  }

  async twilioStatusCallback(input: {
    rawQuery: string;
    params: Record<string, string>;
    signature: string | undefined;
  }): Promise<{ verified: boolean; recorded: boolean }> {
    return callbacks.twilioStatusCallback(this.callbackDeps(), input);
  }

  private callbackDeps(): callbacks.CallbackDeps {
    return { meta: this.o.meta, config: this.o.config, logger: this.o.logger, now: this.now };
  }

  // ---------------------------------------------------------------- notifications

  async listNotifications(projectId: string, input: z.input<typeof notifications.listNotificationsInput> = {}): Promise<notifications.NotificationRecord[]> {
    const p = this.project(projectId);
    return notifications.listNotifications(this.o.meta, p, parse(notifications.listNotificationsInput, input, 'listNotifications'));
  }

  /** Every send attempt of one notification, in order. */
  async listAttempts(projectId: string, notificationId: number): Promise<notifications.AttemptRecord[]> {
    return notifications.listAttempts(this.o.meta, this.project(projectId), notificationId);
  }

  /**
   * Sends a test notification to one channel now, through the same send
   * path (retries, attempt records); returns the outcome and every attempt.
   */
  async testSend(
    projectId: string,
    input: z.input<typeof notifications.testSendInput>,
  ): Promise<{ ok: boolean; notificationId: number; error: string | null; attempts: notifications.AttemptRecord[] }> {
    const p = this.project(projectId);
    const q = parse(notifications.testSendInput, input, 'testSend');
    return notifications.testSend({ db: this.o.meta, sender: this.sender, now: this.now }, p, q);
  }

  // ---------------------------------------------------------------- preview

  /** Backtest: when the rule would have fired and resolved over a past window. Nothing is stored or sent. */
  async preview(projectId: string, input: z.input<typeof rules.previewInput>): Promise<BacktestResult> {
    const p = this.project(projectId);
    const q = parse(rules.previewInput, input, 'preview');
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
