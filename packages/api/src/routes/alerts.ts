import type { RouterContext } from '@koa/router';
import { z } from 'zod';
import { TidemarkError, ValidationError } from '@tidemark/core';
import { inputs, type AlertingService, type RuleProblem } from '@tidemark/alerting';
import { route, type AnyRoute } from '../http/route';

/**
 * Alerts on the query API (/api/analytics-monitoring/alerts/...): thin
 * handlers over @tidemark/alerting's AlertingService, which scopes every
 * statement by the project passed first; here that is always the key's
 * project, so another project's alert, silence or rule is simply not found
 * (404, the same answer as for one that does not exist: no existence leak).
 *
 * Request validation reuses the service's own zod schemas (inputs.*), so
 * the API, the OpenAPI document and the service cannot disagree. Roles:
 * `read` for everything that changes nothing (including validating and
 * previewing a rule: read-only SQL as the read-only ClickHouse user, as
 * the SQL console already allows a read key), `admin` for every change
 * (acknowledge, silences, maintenance windows, rules, policy, test sends)
 * and for the policy, whose channel settings may hold addresses and keys.
 */

const BASE = '/api/analytics-monitoring/alerts';
const TAG = 'alerts';

/** A query-string number (text) handed to the service's number schema. */
function num<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), schema);
}

/** A list in the query string: comma-separated (state=firing,pending) or repeated (state=firing&state=pending). */
function list<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (v) =>
      typeof v === 'string' || Array.isArray(v)
        ? ([] as unknown[]).concat(v).flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter((x) => x !== '')
        : v,
    schema,
  );
}

/**
 * The body exactly as the client wrote it. Rules and policies are stored as
 * written (durations stay "5m", and the rule's spec hash is of the input),
 * so the service gets the raw JSON; the route's zod schema has already
 * rejected anything invalid and documents the body.
 */
function asWritten(ctx: RouterContext): unknown {
  return (ctx.request as unknown as { body?: unknown }).body;
}

/**
 * The service names a rule's fields as in the rule (`sql`, `condition.threshold`);
 * on the API they are in the body, so the issue paths say `body.sql` like
 * every other 400 of the API.
 */
function inBody<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    if (err instanceof ValidationError) {
      const issues = (err.context.issues ?? []).map((i) => ({ path: i.path ? `body.${i.path}` : 'body', message: i.message }));
      throw new ValidationError(`invalid body: ${err.message}`, { context: { ...err.context, issues }, cause: err });
    }
    throw err;
  });
}

function ruleProblemsError(problems: RuleProblem[]): TidemarkError {
  const issues = problems.map((p) => ({ path: p.field ? `body.${p.field}` : 'body', message: p.message }));
  return new ValidationError(`invalid rule: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { context: { issues } });
}

// ------------------------------------------------------------ answers
// What the AlertingService returns (packages/alerting/src/api/service.ts), as the client reads it: documented in
// /openapi.json, from which the dashboard's types are generated, and checked against real answers in tests.

const labels = z.record(z.string(), z.string());
const instanceKind = z.enum(['alert', 'nodata', 'error']);
const alertState = z.enum(['inactive', 'pending', 'firing', 'recovering', 'resolved']);
const activeAlert = z.object({
  rule: z.string(),
  fingerprint: z.string(),
  kind: instanceKind,
  labels,
  annotations: labels,
  state: alertState,
  severity: z.string(),
  value: z.number().nullable(),
  episode: z.number(),
  activeSince: z.string().nullable(),
  firedAt: z.string().nullable(),
  lastEvalAt: z.string(),
  lastSentAt: z.string().nullable(),
  acknowledged: z.object({ at: z.string(), by: z.string(), comment: z.string() }).nullable(),
  mutedBy: z.string().nullable().describe('"silence <id>" / "maintenance <name>" while notifications are muted'),
});
const historyEntry = z.object({
  id: z.number(),
  rule: z.string(),
  fingerprint: z.string(),
  kind: z.string(),
  labels,
  from: z.string(),
  to: z.string(),
  severity: z.string(),
  value: z.number().nullable(),
  episode: z.number(),
  at: z.string(),
  detail: z.string().nullable(),
});
const silence = z.object({
  id: z.string(),
  matchers: z.array(z.unknown()),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  state: z.enum(['active', 'pending', 'expired']),
});
const maintenanceWindow = z.object({
  id: z.string(),
  name: z.string(),
  matchers: z.array(z.unknown()),
  starts_at: z.string(),
  ends_at: z.string().nullable(),
  recurrence: z.unknown().nullable(),
  created_by: z.string(),
  comment: z.string(),
});
/** A rule's definition as written (durations stay text such as "5m"); the full shape is the rule body of POST .../rules. */
const ruleSpec = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  interval: z.union([z.number(), z.string()]).optional(),
  severity: z.string().optional(),
  for: z.union([z.number(), z.string()]).optional(),
  sql: z.string().optional(),
  condition: z.unknown().optional(),
});
const storedRule = z.object({
  projectId: z.string(),
  name: z.string(),
  source: z.enum(['file', 'builtin', 'api']),
  sourceFile: z.string().nullable(),
  spec: ruleSpec,
  enabled: z.boolean(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const ruleProblem = z.object({ file: z.string(), rule: z.string().optional(), field: z.string().optional(), message: z.string() });
const backtestResult = z.object({
  from: z.string(),
  to: z.string(),
  stepMs: z.number(),
  evaluations: z.number(),
  transitions: z.array(
    z.object({ at: z.string(), fingerprint: z.string(), kind: instanceKind, labels, from: alertState, to: alertState, value: z.number().nullable(), severity: z.string() }),
  ),
  episodes: z.array(
    z.object({ fingerprint: z.string(), kind: instanceKind, labels, pendingAt: z.string(), firedAt: z.string().nullable(), resolvedAt: z.string().nullable(), peakSeverity: z.string() }),
  ),
  errors: z.array(z.object({ at: z.string(), message: z.string() })),
  warnings: z.array(z.string()),
});
/** The stored API policy (defaults applied); channel settings are per channel type (see docs/alerting.md). */
const policyAnswer = z.object({
  api: z.object({
    channels: z.array(z.looseObject({ name: z.string(), type: z.string() })),
    routes: z.array(z.looseObject({ name: z.string().optional(), channels: z.array(z.string()) })),
  }),
  effective: z.object({ channels: z.array(z.string()), routes: z.array(z.string()) }),
});
const notification = z.object({
  id: z.number(),
  channel: z.string(),
  channelType: z.string(),
  recipient: z.string().nullable(),
  idempotencyKey: z.string(),
  dedupKeys: z.array(z.string()),
  status: z.string(),
  attempts: z.number(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  nextAttemptAt: z.string(),
  lastError: z.string().nullable(),
  isTest: z.boolean(),
  payload: z.unknown(),
  providerId: z.string().nullable(),
  providerStatus: z.string().nullable(),
  providerError: z.string().nullable(),
  recipientResults: z.record(z.string(), z.object({ accepted: z.boolean(), response: z.string().optional() })).nullable(),
});
const attempt = z.object({
  attempt: z.number(),
  replica: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  outcome: z.string(),
  httpStatus: z.number().nullable(),
  error: z.string().nullable(),
});
const items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

const ruleName = inputs.acknowledgeInput.shape.rule;
const fingerprint = inputs.acknowledgeInput.shape.fingerprint;
const uuidParam = z.object({ id: z.uuid() });

export function alertRoutes(deps: { alerting: AlertingService }): AnyRoute[] {
  const svc = deps.alerting;
  return [
    // ------------------------------------------------------------ alerts
    route({
      method: 'get',
      path: `${BASE}/active`,
      summary: 'Active alerts (pending, firing, recovering), firing first; with acknowledgement and what mutes them',
      tag: TAG,
      auth: 'read',
      response: items(activeAlert),
      query: z.object({
        state: list(inputs.listActiveAlertsInput.shape.states).describe('comma-separated: pending, firing, recovering (default all three)'),
        rule: inputs.listActiveAlertsInput.shape.rule,
        severity: inputs.listActiveAlertsInput.shape.severity,
        limit: num(inputs.listActiveAlertsInput.shape.limit).describe('at most this many (default 500, ≤ 5000)'),
      }),
      async handler({ query, principal }) {
        const items = await svc.listActiveAlerts(principal.projectId, {
          states: query.state,
          limit: query.limit,
          ...(query.rule ? { rule: query.rule } : {}),
          ...(query.severity ? { severity: query.severity } : {}),
        });
        return { items };
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/active/:rule/:fingerprint/acknowledge`,
      summary: 'Acknowledge an active alert: no repeat notifications for it until it resolves (the resolve is still sent)',
      tag: TAG,
      auth: 'admin',
      response: activeAlert,
      params: z.object({ rule: ruleName, fingerprint }),
      body: inputs.acknowledgeInput.pick({ by: true, comment: true }),
      async handler({ params, body, principal }) {
        return svc.acknowledge(principal.projectId, { rule: params.rule, fingerprint: params.fingerprint, by: body.by, comment: body.comment });
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/history`,
      summary: 'State changes of alert instances (and acknowledgements), newest first; page with before_id',
      tag: TAG,
      auth: 'read',
      response: items(historyEntry),
      query: z.object({
        rule: inputs.historyInput.shape.rule,
        fingerprint: inputs.historyInput.shape.fingerprint,
        from: inputs.historyInput.shape.from.describe('ISO 8601; entries at or after'),
        to: inputs.historyInput.shape.to.describe('ISO 8601; entries before'),
        before_id: num(inputs.historyInput.shape.before_id).describe('entries older than this id (the last id of the previous page)'),
        limit: num(inputs.historyInput.shape.limit).describe('default 200, ≤ 5000'),
      }),
      async handler({ query, principal }) {
        const { rule, fingerprint: fp, from, to, before_id, limit } = query;
        return {
          items: await svc.history(principal.projectId, {
            limit,
            ...(rule ? { rule } : {}),
            ...(fp ? { fingerprint: fp } : {}),
            ...(from ? { from } : {}),
            ...(to ? { to } : {}),
            ...(before_id ? { before_id } : {}),
          }),
        };
      },
    }),

    // ------------------------------------------------------------ silences
    route({
      method: 'get',
      path: `${BASE}/silences`,
      summary: 'Silences of the project, latest end first',
      tag: TAG,
      auth: 'read',
      response: items(silence),
      query: z.object({ state: inputs.listSilencesInput.shape.state.describe('active, pending, expired or all (default)') }),
      async handler({ query, principal }) {
        return { items: await svc.listSilences(principal.projectId, { state: query.state }) };
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/silences/:id`,
      summary: 'One silence',
      tag: TAG,
      auth: 'read',
      response: silence,
      params: uuidParam,
      async handler({ params, principal }) {
        return svc.getSilence(principal.projectId, params.id);
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/silences`,
      summary: 'Create a silence: mutes notifications of matching alerts from starts_at (default now) to ends_at',
      tag: TAG,
      auth: 'admin',
      status: 201,
      response: silence,
      body: inputs.silenceInput,
      async handler({ body, principal, ctx }) {
        const s = await inBody(() => svc.createSilence(principal.projectId, body));
        ctx.status = 201;
        return s;
      },
    }),
    route({
      method: 'put',
      path: `${BASE}/silences/:id`,
      summary: 'Replace a silence (matchers, times, author, comment)',
      tag: TAG,
      auth: 'admin',
      response: silence,
      params: uuidParam,
      body: inputs.silenceInput,
      async handler({ params, body, principal }) {
        return inBody(() => svc.updateSilence(principal.projectId, params.id, body));
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/silences/:id/expire`,
      summary: 'End a silence now (it is kept, as expired)',
      tag: TAG,
      auth: 'admin',
      response: silence,
      params: uuidParam,
      async handler({ params, principal }) {
        return svc.expireSilence(principal.projectId, params.id);
      },
    }),
    route({
      method: 'delete',
      path: `${BASE}/silences/:id`,
      summary: 'Delete a silence',
      tag: TAG,
      auth: 'admin',
      response: z.object({ deleted: z.string() }),
      params: uuidParam,
      async handler({ params, principal }) {
        await svc.deleteSilence(principal.projectId, params.id);
        return { deleted: params.id };
      },
    }),

    // ------------------------------------------------------------ maintenance windows
    route({
      method: 'get',
      path: `${BASE}/maintenance-windows`,
      summary: 'Maintenance windows (one-off or recurring) of the project',
      tag: TAG,
      auth: 'read',
      response: items(maintenanceWindow),
      async handler({ principal }) {
        return { items: await svc.listMaintenanceWindows(principal.projectId) };
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/maintenance-windows`,
      summary: 'Create a maintenance window: mutes matching alerts (all, without matchers) while it is in effect',
      tag: TAG,
      auth: 'admin',
      status: 201,
      response: z.object({ id: z.string(), name: z.string() }),
      body: inputs.maintenanceWindowInput,
      async handler({ body, principal, ctx }) {
        const w = await inBody(() => svc.createMaintenanceWindow(principal.projectId, body));
        ctx.status = 201;
        return w;
      },
    }),
    route({
      method: 'delete',
      path: `${BASE}/maintenance-windows/:id`,
      summary: 'Delete a maintenance window',
      tag: TAG,
      auth: 'admin',
      response: z.object({ deleted: z.string() }),
      params: uuidParam,
      async handler({ params, principal }) {
        await svc.deleteMaintenanceWindow(principal.projectId, params.id);
        return { deleted: params.id };
      },
    }),

    // ------------------------------------------------------------ rules
    route({
      method: 'get',
      path: `${BASE}/rules`,
      summary: 'Alert rules of the project (API, rule files and built-in), with their definitions',
      tag: TAG,
      auth: 'read',
      response: items(storedRule),
      async handler({ principal }) {
        return { items: await svc.listRules(principal.projectId) };
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/rules/:name`,
      summary: 'One alert rule',
      tag: TAG,
      auth: 'read',
      response: storedRule,
      params: z.object({ name: ruleName }),
      async handler({ params, principal }) {
        return svc.getRule(principal.projectId, params.name);
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/rules`,
      summary: 'Create an alert rule; its SQL is checked against ClickHouse first (400 with ClickHouse\'s message when rejected)',
      tag: TAG,
      auth: 'admin',
      status: 201,
      response: storedRule,
      body: inputs.ruleInput,
      async handler({ principal, ctx }) {
        const rule = await inBody(() => svc.createRule(principal.projectId, asWritten(ctx)));
        ctx.status = 201;
        return rule;
      },
    }),
    route({
      method: 'put',
      path: `${BASE}/rules/:name`,
      summary: 'Replace an API rule (file and built-in rules are changed where they are defined); its alert state is kept',
      tag: TAG,
      auth: 'admin',
      response: storedRule,
      params: z.object({ name: ruleName }),
      body: inputs.ruleInput,
      async handler({ params, principal, ctx }) {
        return inBody(() => svc.updateRule(principal.projectId, params.name, asWritten(ctx)));
      },
    }),
    route({
      method: 'delete',
      path: `${BASE}/rules/:name`,
      summary: 'Delete an API rule; its firing alerts resolve (and the resolves are sent)',
      tag: TAG,
      auth: 'admin',
      response: z.object({ deleted: z.string() }),
      params: z.object({ name: ruleName }),
      async handler({ params, principal }) {
        await svc.deleteRule(principal.projectId, params.name);
        return { deleted: params.name };
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/rules/validate`,
      summary: 'Check a rule without storing it: schema, then its SQL against ClickHouse (EXPLAIN, result columns); 400 names each problem',
      tag: TAG,
      auth: 'read',
      response: z.object({ valid: z.literal(true), problems: z.array(ruleProblem).max(0) }),
      body: inputs.ruleInput,
      async handler({ principal, ctx }) {
        const problems = await svc.validateRule(principal.projectId, asWritten(ctx));
        if (problems.length > 0) throw ruleProblemsError(problems);
        return { valid: true, problems: [] };
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/rules/preview`,
      summary: 'Backtest a rule (a definition, or a stored rule by name) over a past window: transitions and incidents; nothing is stored or sent',
      tag: TAG,
      auth: 'read',
      response: backtestResult,
      body: inputs.previewInput,
      async handler({ principal, ctx }) {
        return inBody(() => svc.preview(principal.projectId, asWritten(ctx) as z.input<typeof inputs.previewInput>));
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/rule-problems`,
      summary: 'Problems of rule files and built-in rules of the project (file, rule, field, message)',
      tag: TAG,
      auth: 'read',
      response: items(ruleProblem),
      async handler({ principal }) {
        return { items: await svc.listRuleProblems(principal.projectId) };
      },
    }),

    // ------------------------------------------------------------ policy and notifications
    route({
      method: 'get',
      path: `${BASE}/policy`,
      summary: "The project's API notification policy (channels, routes) and the effective channel and route names",
      tag: TAG,
      auth: 'admin',
      response: policyAnswer,
      async handler({ principal }) {
        return svc.getPolicy(principal.projectId);
      },
    }),
    route({
      method: 'put',
      path: `${BASE}/policy`,
      summary: "Replace the project's API notification policy (file policies are read-only here)",
      tag: TAG,
      auth: 'admin',
      response: policyAnswer,
      body: inputs.policyInput,
      async handler({ principal, ctx }) {
        await inBody(() => svc.putPolicy(principal.projectId, asWritten(ctx) as z.input<typeof inputs.policyInput>));
        return svc.getPolicy(principal.projectId);
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/notifications`,
      summary: 'Notifications of the project (the outbox), newest first',
      tag: TAG,
      auth: 'read',
      response: items(notification),
      query: z.object({
        status: inputs.listNotificationsInput.shape.status.describe('pending, sending, sent or failed'),
        limit: num(inputs.listNotificationsInput.shape.limit).describe('default 100, ≤ 1000'),
      }),
      async handler({ query, principal }) {
        return { items: await svc.listNotifications(principal.projectId, { limit: query.limit, ...(query.status ? { status: query.status } : {}) }) };
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/notifications/:id/attempts`,
      summary: 'Every send attempt of one notification, in order',
      tag: TAG,
      auth: 'read',
      response: items(attempt),
      params: z.object({ id: z.coerce.number().int().positive() }),
      async handler({ params, principal }) {
        return { items: await svc.listAttempts(principal.projectId, params.id) };
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/test-send`,
      summary: 'Send a test notification to one channel now, through the real send path; returns the outcome and attempts',
      tag: TAG,
      auth: 'admin',
      response: z.object({ ok: z.boolean(), notificationId: z.number(), error: z.string().nullable(), attempts: z.array(attempt) }),
      body: inputs.testSendInput,
      async handler({ body, principal }) {
        return svc.testSend(principal.projectId, body);
      },
    }),
  ];
}
