import { z } from 'zod';
import { inputs, type AlertsApi } from '@tidemark/alerting';
import { route, type AnyRoute } from '../../http/route';
import { BASE, inBody, TAG } from './http';
import { items, maintenanceWindow, silence, uuidParam } from './schemas';

/** Silences: mute the notifications of matching alerts for a while. */
export function silenceRoutes(svc: AlertsApi): AnyRoute[] {
  return [
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
  ];
}

/** Maintenance windows (one-off or recurring): mute matching alerts while in effect. */
export function maintenanceWindowRoutes(svc: AlertsApi): AnyRoute[] {
  return [
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
  ];
}
