import { z } from 'zod';
import { inputs, type AlertsApi } from '@tidemark/alerting';
import { route, type AnyRoute } from '../../http/route';
import { BASE, list, num, TAG } from './http';
import { activeAlert, fingerprint, historyEntry, items, ruleName } from './schemas';

/** Active alerts, acknowledging one, and the history of state changes. */
export function alertInstanceRoutes(svc: AlertsApi): AnyRoute[] {
  return [
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
  ];
}
