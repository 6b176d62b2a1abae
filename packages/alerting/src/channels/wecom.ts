import { z } from 'zod';
import { httpRequest, judgeStatus, parseJson } from './http';
import { channelBase, render, secretRef, truncateBytes } from './render';
import { ChannelError, type ChannelContext, type Notification, type SendResult } from './types';

export const wecomConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('wecom'),
  /** The robot's key (the key= of its webhook URL), as a secret reference. */
  key: secretRef.default('${ALERTING_WECOM_KEY}'),
  /** markdown renders in WeCom clients; text supports @-mentions by mobile number. */
  format: z.enum(['markdown', 'text']).default('markdown'),
  mentioned_mobile_list: z.array(z.string().regex(/^(\+?\d{5,20}|@all)$/, 'must be a mobile number or @all')).default([]),
});
export type WecomConfig = z.output<typeof wecomConfigSchema>;

const TEMPLATE = `**{{ title }}**
{{#each alerts}}> {{#if isFiring}}<font color="warning">FIRING</font>{{else}}<font color="info">RESOLVED</font>{{/if}} [{{ severity }}] {{ rule }}{{#if labelText}} {{ labelText }}{{/if}}{{#if valueText}} value={{ valueText }}{{/if}}{{#if summary}}: {{ summary }}{{/if}}
{{/each}}{{#if omitted}}... and {{ omitted }} more{{/if}}`;

/**
 * WeCom errcodes worth retrying: -1 system busy, 45009 frequency limit
 * (20 messages/minute per robot), 45033 too many concurrent calls. Every
 * other non-zero errcode (93000 invalid webhook URL, 40058 bad content, ...)
 * is permanent.
 */
const RETRIABLE_ERRCODES = new Set([-1, 45009, 45033]);

/** WeCom / WeChat Work group robot: POST {url}?key=...; success is HTTP 200 with errcode 0. */
export const wecomChannel = {
  type: 'wecom' as const,
  schema: wecomConfigSchema,
  defaultTemplate: TEMPLATE,
  secretRefs: (c: WecomConfig): string[] => [c.key],
  async send(n: Notification, config: WecomConfig, ctx: ChannelContext): Promise<SendResult> {
    const key = ctx.secret(config.key);
    const text = render(config.template ?? TEMPLATE, n);
    // Limits: markdown content 4096 bytes, text content 2048 bytes.
    const body =
      config.format === 'markdown'
        ? { msgtype: 'markdown', markdown: { content: truncateBytes(text, 4096) } }
        : { msgtype: 'text', text: { content: truncateBytes(text, 2048), ...(config.mentioned_mobile_list.length ? { mentioned_mobile_list: config.mentioned_mobile_list } : {}) } };
    const url = `${ctx.config.ALERTING_WECOM_URL}?key=${encodeURIComponent(key)}`;
    const res = await httpRequest(config.name, url, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, ctx.timeoutMs);
    judgeStatus(config.name, res);
    // HTTP 200 is not success: the errcode in the body is.
    const parsed = parseJson(res.text) as { errcode?: unknown; errmsg?: unknown } | undefined;
    if (!parsed || typeof parsed.errcode !== 'number') {
      throw new ChannelError(`WeCom answered HTTP ${res.status} without an errcode: ${res.text.slice(0, 200)}`, { channel: config.name, retriable: true, httpStatus: res.status });
    }
    if (parsed.errcode !== 0) {
      throw new ChannelError(`WeCom errcode ${parsed.errcode}: ${String(parsed.errmsg ?? '').slice(0, 200)}`, {
        channel: config.name,
        retriable: RETRIABLE_ERRCODES.has(parsed.errcode),
        httpStatus: res.status,
        providerCode: parsed.errcode,
      });
    }
    return { status: res.status };
  },
};
