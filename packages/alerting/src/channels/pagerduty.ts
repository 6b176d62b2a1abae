import crypto from 'node:crypto';
import { z } from 'zod';
import { httpRequest, judgeStatus, parseJson } from './http';
import { channelBase, messageContext, secretRef } from './render';
import type { ChannelContext, Notification, NotificationAlert, SendResult } from './types';

export const pagerdutyConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('pagerduty'),
  /** The integration (routing) key of an Events API v2 integration, as a secret reference. */
  routing_key: secretRef.default('${ALERTING_PAGERDUTY_ROUTING_KEY}'),
  /** payload.source: what is affected; default the alert's `host` label, else "tidemark/<project>". */
  source: z.string().max(255).optional(),
  /** payload.component / group / class, optional. */
  component: z.string().max(255).optional(),
  group: z.string().max(255).optional(),
});
export type PagerdutyConfig = z.output<typeof pagerdutyConfigSchema>;

const SEVERITY = { CRITICAL: 'critical', WARNING: 'warning', INFO: 'info' } as const;

/**
 * The dedup_key of an alert instance: one PagerDuty incident per (project, rule, label set).
 * A resolve with it resolves that incident; a later trigger opens a new one (PagerDuty starts
 * a new incident when the key's incident is resolved).
 */
export function pagerdutyDedupKey(projectId: string, a: Pick<NotificationAlert, 'rule' | 'fingerprint'>): string {
  return `tidemark-${crypto.createHash('sha256').update(`${projectId}\0${a.rule}\0${a.fingerprint}`).digest('hex').slice(0, 40)}`;
}

/**
 * PagerDuty Events API v2: POST /v2/enqueue, one event per alert of the notification
 * whose state is new here (trigger when firing, resolve when resolved; repeats re-send
 * triggers, which PagerDuty deduplicates on the key). 202 {status: "success", dedup_key}
 * accepts; 400 (invalid event) is permanent; 429 and 5xx are retried (a retry re-sends
 * every event of the notification, which the dedup_key makes harmless).
 */
export const pagerdutyChannel = {
  type: 'pagerduty' as const,
  schema: pagerdutyConfigSchema,
  defaultTemplate: '{{ title }}',
  secretRefs: (c: PagerdutyConfig): string[] => [c.routing_key],
  async send(n: Notification, config: PagerdutyConfig, ctx: ChannelContext): Promise<SendResult> {
    const routingKey = ctx.secret(config.routing_key);
    const alerts = n.alerts.filter((a) => a.isNew || n.isRepeat || n.isTest);
    const summaries = messageContext(n).alerts as { summary: string; labelText: string }[];
    let last: SendResult = {};
    for (const a of alerts) {
      const i = n.alerts.indexOf(a);
      const extra = summaries[i];
      const dedupKey = pagerdutyDedupKey(n.projectId, a);
      const event =
        a.status === 'resolved'
          ? { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey }
          : {
              routing_key: routingKey,
              event_action: 'trigger',
              dedup_key: dedupKey,
              payload: {
                // summary is at most 1024 characters.
                summary:
                  `${n.isTest ? '[TEST] ' : ''}[${a.severity}] ${a.rule}${extra?.labelText ? ` ${extra.labelText}` : ''}${extra?.summary ? `: ${extra.summary}` : ''}`.slice(
                    0,
                    1024,
                  ),
                source: config.source ?? a.labels.host ?? `tidemark/${n.projectId}`,
                severity: SEVERITY[a.severity],
                timestamp: a.startsAt,
                ...(config.component ? { component: config.component } : {}),
                ...(config.group ? { group: config.group } : {}),
                class: a.rule,
                custom_details: { labels: a.labels, annotations: a.annotations, value: a.value, project: n.projectId },
              },
              client: 'Tidemark',
            };
      const res = await httpRequest(
        config.name,
        ctx.config.ALERTING_PAGERDUTY_URL,
        { headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) },
        ctx.timeoutMs,
      );
      judgeStatus(config.name, res, (r) => {
        const j = parseJson(r.text) as { message?: string; errors?: string[] } | undefined;
        return j?.message ? `${j.message}${j.errors?.length ? `: ${j.errors.join('; ')}` : ''}` : r.text.slice(0, 300);
      });
      const j = parseJson(res.text) as { dedup_key?: string } | undefined;
      last = { status: res.status, ...(j?.dedup_key ? { providerId: j.dedup_key } : {}) };
    }
    return last;
  },
};
