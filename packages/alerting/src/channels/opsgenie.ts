import crypto from 'node:crypto';
import { z } from 'zod';
import { httpRequest, judgeStatus, parseJson } from './http';
import { channelBase, messageContext, secretRef } from './render';
import type { ChannelContext, Notification, NotificationAlert, SendResult } from './types';

export const opsgenieConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('opsgenie'),
  /** An API integration key, as a secret reference (sent as "Authorization: GenieKey <key>"). */
  api_key: secretRef.default('${ALERTING_OPSGENIE_API_KEY}'),
  /** Responders (teams, users, escalations, schedules) by name, id or username, as Opsgenie documents them. */
  responders: z
    .array(
      z.strictObject({
        type: z.enum(['team', 'user', 'escalation', 'schedule']),
        name: z.string().optional(),
        id: z.string().optional(),
        username: z.string().optional(),
      }),
    )
    .default([]),
  tags: z.array(z.string().max(50)).max(20).default([]),
});
export type OpsgenieConfig = z.output<typeof opsgenieConfigSchema>;

const PRIORITY = { CRITICAL: 'P1', WARNING: 'P3', INFO: 'P5' } as const;

/** The alias of an alert instance (at most 512 characters): Opsgenie deduplicates open alerts on it, and closes by it. */
export function opsgenieAlias(projectId: string, a: Pick<NotificationAlert, 'rule' | 'fingerprint'>): string {
  return `tidemark-${crypto.createHash('sha256').update(`${projectId}\0${a.rule}\0${a.fingerprint}`).digest('hex').slice(0, 40)}`;
}

/**
 * Opsgenie Alert API: POST /v2/alerts to create (message ≤ 130 characters, alias,
 * description, priority), POST /v2/alerts/{alias}/close?identifierType=alias to close.
 * Both answer 202 {result, took, requestId}: the request is processed asynchronously.
 * 422/400 (invalid), 401/403 (key) are permanent; 429 and 5xx are retried.
 */
export const opsgenieChannel = {
  type: 'opsgenie' as const,
  schema: opsgenieConfigSchema,
  defaultTemplate: '{{ title }}',
  secretRefs: (c: OpsgenieConfig): string[] => [c.api_key],
  async send(n: Notification, config: OpsgenieConfig, ctx: ChannelContext): Promise<SendResult> {
    const key = ctx.secret(config.api_key);
    const base = ctx.config.ALERTING_OPSGENIE_API_URL.replace(/\/+$/, '');
    const headers = { 'content-type': 'application/json', authorization: `GenieKey ${key}` };
    const extras = messageContext(n).alerts as { summary: string; labelText: string }[];
    let last: SendResult = {};
    for (const [i, a] of n.alerts.entries()) {
      if (!(a.isNew || n.isRepeat || n.isTest)) continue;
      const alias = opsgenieAlias(n.projectId, a);
      const x = extras[i];
      const req =
        a.status === 'resolved'
          ? {
              url: `${base}/v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`,
              body: { source: 'Tidemark', note: `resolved at ${a.endsAt ?? ''}` },
            }
          : {
              url: `${base}/v2/alerts`,
              body: {
                message: `${n.isTest ? '[TEST] ' : ''}[${a.severity}] ${a.rule}${x?.labelText ? ` ${x.labelText}` : ''}`.slice(0, 130),
                alias,
                description: `${x?.summary ?? ''}\n\nproject: ${n.projectId}\nvalue: ${a.value ?? ''}\nsince: ${a.startsAt}`.slice(0, 15_000),
                priority: PRIORITY[a.severity],
                source: 'Tidemark',
                tags: config.tags,
                ...(config.responders.length ? { responders: config.responders } : {}),
                details: Object.fromEntries(
                  Object.entries(a.labels)
                    .slice(0, 50)
                    .map(([k, v]) => [k.slice(0, 100), v.slice(0, 500)]),
                ),
              },
            };
      const res = await httpRequest(config.name, req.url, { headers, body: JSON.stringify(req.body) }, ctx.timeoutMs);
      judgeStatus(config.name, res, (r) => {
        const j = parseJson(r.text) as { message?: string; errors?: Record<string, string> } | undefined;
        return j?.message
          ? `${j.message}${
              j.errors
                ? `: ${Object.entries(j.errors)
                    .map(([k, v]) => `${k} ${v}`)
                    .join('; ')}`
                : ''
            }`
          : r.text.slice(0, 300);
      });
      const j = parseJson(res.text) as { requestId?: string } | undefined;
      last = { status: res.status, ...(j?.requestId ? { providerId: j.requestId } : {}) };
    }
    return last;
  },
};
