import { z } from 'zod';
import { httpRequest, judgeStatus } from './http';
import { channelBase, render, secretRef } from './render';
import type { ChannelContext, Notification, SendResult } from './types';

export const slackConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('slack'),
  /** The incoming-webhook URL (it is the credential), as a secret reference. */
  url: secretRef.default('${ALERTING_SLACK_WEBHOOK_SECRET_URL}'),
});
export type SlackConfig = z.output<typeof slackConfigSchema>;

const TEMPLATE = `*{{ title }}*
{% for a in alerts %}{% if a.isFiring %}:red_circle:{% else %}:large_green_circle:{% endif %} *{{ a.severity }}* {{ a.rule }}{% if a.labelText %} \`{{ a.labelText }}\`{% endif %}{% if a.valueText %} value={{ a.valueText }}{% endif %}{% if a.summary %}: {{ a.summary }}{% endif %}
{% endfor %}{% if omitted %}... and {{ omitted }} more{% endif %}`;

/** Slack's mrkdwn control characters, escaped in interpolated values only. */
const escapeMrkdwn = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Slack incoming webhook: POST {text}; 200 "ok". Errors are plain-text codes
 * (400 invalid_payload, 403 action_prohibited, 404 channel_not_found /
 * no_service, 410 channel_is_archived: permanent; 429 with Retry-After and
 * 5xx rollup_error: retried).
 */
export const slackChannel = {
  type: 'slack' as const,
  schema: slackConfigSchema,
  defaultTemplate: TEMPLATE,
  secretRefs: (c: SlackConfig): string[] => [c.url],
  async send(n: Notification, config: SlackConfig, ctx: ChannelContext): Promise<SendResult> {
    const url = ctx.secret(config.url);
    const text = render(config.template ?? TEMPLATE, n, escapeMrkdwn);
    const res = await httpRequest(config.name, url, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) }, ctx.timeoutMs);
    judgeStatus(config.name, res);
    return { status: res.status };
  },
};
