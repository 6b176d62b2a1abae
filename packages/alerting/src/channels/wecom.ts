import { z } from 'zod';
import { httpRequest, judgeStatus, parseJson } from './http';
import { pacerFor } from './pacer';
import { channelBase, PLAIN_TEMPLATE, render, secretRef, truncateBytes } from './render';
import { ChannelError, type ChannelContext, type Notification, type SendResult } from './types';

export const wecomConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('wecom'),
  /** The robot's key (the key= of its webhook URL), as a secret reference. */
  key: secretRef.default('${ALERTING_WECOM_KEY}'),
  /** markdown renders in WeCom clients; text supports @-mentions by mobile number (a config with mentions always sends text). */
  format: z.enum(['markdown', 'text']).default('markdown'),
  mentioned_mobile_list: z.array(z.string().regex(/^(\+?\d{5,20}|@all)$/, 'must be a mobile number or @all')).default([]),
});
export type WecomConfig = z.output<typeof wecomConfigSchema>;

const TEMPLATE = `**{{ title }}**
{% for a in alerts %}> {% if a.isFiring %}<font color="warning">FIRING</font>{% else %}<font color="info">RESOLVED</font>{% endif %} [{{ a.severity }}] {{ a.rule }}{% if a.labelText %} {{ a.labelText }}{% endif %}{% if a.valueText %} value={{ a.valueText }}{% endif %}{% if a.summary %}: {{ a.summary }}{% endif %}
{% endfor %}{% if omitted %}... and {{ omitted }} more{% endif %}`;

/**
 * The text format shows its content verbatim: the markdown template's `**` and
 * `<font>` would reach the group as raw characters, so text gets plain text.
 */
const TEXT_TEMPLATE = PLAIN_TEMPLATE;

/**
 * WeCom errcodes worth retrying: -1 system busy, 45009 frequency limit
 * (20 messages/minute per robot), 45033 too many concurrent calls. Every
 * other non-zero errcode (93000 invalid webhook URL, 40058 bad content, ...)
 * is permanent.
 */
const RETRIABLE_ERRCODES = new Set([-1, 45009, 45033]);

/**
 * WeCom / WeChat Work group robot: POST {url}?key=...; success is HTTP 200 with errcode 0.
 * Mentions exist only in the text format (the markdown format ignores
 * mentioned_mobile_list), so a config with mentions sends text. Sends to one
 * robot are paced to ALERTING_WECOM_RATE_LIMIT per ALERTING_WECOM_RATE_WINDOW_MS
 * (the documented 20 per minute), queued in order.
 */
export const wecomChannel = {
  type: 'wecom' as const,
  schema: wecomConfigSchema,
  defaultTemplate: TEMPLATE,
  secretRefs: (c: WecomConfig): string[] => [c.key],
  async send(n: Notification, config: WecomConfig, ctx: ChannelContext): Promise<SendResult> {
    const key = ctx.secret(config.key);
    const format = config.mentioned_mobile_list.length > 0 ? 'text' : config.format;
    const text = render(config.template ?? (format === 'markdown' ? TEMPLATE : TEXT_TEMPLATE), n);
    // Limits: markdown content 4096 bytes, text content 2048 bytes.
    const body =
      format === 'markdown'
        ? { msgtype: 'markdown', markdown: { content: truncateBytes(text, 4096) } }
        : {
            msgtype: 'text',
            text: {
              content: truncateBytes(text, 2048),
              ...(config.mentioned_mobile_list.length ? { mentioned_mobile_list: config.mentioned_mobile_list } : {}),
            },
          };
    const url = `${ctx.config.ALERTING_WECOM_URL}?key=${encodeURIComponent(key)}`;
    const pacer = pacerFor(ctx.config.ALERTING_WECOM_RATE_LIMIT, ctx.config.ALERTING_WECOM_RATE_WINDOW_MS);
    const answered = await pacer.acquire(url, config.name, ctx.timeoutMs);
    const res = await httpRequest(config.name, url, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, ctx.timeoutMs).finally(
      answered,
    );
    judgeStatus(config.name, res);
    // HTTP 200 is not success: the errcode in the body is.
    const parsed = parseJson(res.text) as { errcode?: unknown; errmsg?: unknown } | undefined;
    if (!parsed || typeof parsed.errcode !== 'number') {
      throw new ChannelError(`WeCom answered HTTP ${res.status} without an errcode: ${res.text.slice(0, 200)}`, {
        channel: config.name,
        retriable: true,
        httpStatus: res.status,
      });
    }
    if (parsed.errcode !== 0) {
      // 45009: the robot's minute is used up (by this or another sender); wait a whole window rather than probe it.
      const after = parsed.errcode === 45009 ? pacer.penalise(url) : undefined;
      throw new ChannelError(`WeCom errcode ${parsed.errcode}: ${String(parsed.errmsg ?? '').slice(0, 200)}`, {
        channel: config.name,
        retriable: RETRIABLE_ERRCODES.has(parsed.errcode),
        httpStatus: res.status,
        providerCode: parsed.errcode,
        ...(after !== undefined ? { retryAfterMs: after } : {}),
      });
    }
    return { status: res.status };
  },
};
