import { z } from 'zod';
import { inputs, type AlertsApi } from '@tidemark/alerting';
import { route, type AnyRoute } from '../../http/route';
import { asWritten, BASE, inBody, num, TAG } from './http';
import { attempt, items, notification, policyAnswer } from './schemas';

/** The notification policy, the outbox with its send attempts, and test sends. */
export function notificationRoutes(svc: AlertsApi): AnyRoute[] {
  return [
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
