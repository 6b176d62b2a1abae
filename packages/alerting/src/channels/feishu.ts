import crypto from 'node:crypto';
import { z } from 'zod';
import { httpRequest, judgeStatus, parseJson, retryAfterMs } from './http';
import { pacerFor } from './pacer';
import { channelBase, PLAIN_TEMPLATE, render, secretRef, truncateBytes } from './render';
import { ChannelError, type ChannelContext, type Notification, type SendResult } from './types';

export const feishuConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('feishu'),
  /** The bot's hook token (last path segment of its webhook URL), as a secret reference. */
  token: secretRef.default('${ALERTING_FEISHU_TOKEN}'),
  /** The bot's signing secret, as a secret reference; a reference to an empty value = bot not signed. */
  secret: secretRef.default('${ALERTING_FEISHU_SECRET}'),
  /** Feishu/Lark user open_ids to @-mention, or "all". */
  at: z.array(z.string().regex(/^(all|ou_[A-Za-z0-9]+)$/, 'must be an open_id (ou_...) or all')).default([]),
});
export type FeishuConfig = z.output<typeof feishuConfigSchema>;

/**
 * Feishu/Lark's signature: sign = base64(HMAC-SHA256(key = "<timestamp s>\n<secret>", message = "")),
 * sent in the body with the timestamp; refused (19021) when more than an hour off.
 */
export function feishuSign(secret: string, timestampS: number): string {
  return crypto.createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

/** Documented bot limits: 100 requests per minute and 5 per second; 11232 beyond. */
const RATE_LIMITED = 11232;

/**
 * Feishu/Lark custom bot: POST {url}/{token} with {msg_type: text, content: {text}} (and
 * timestamp + sign when signed), at most 20 KB. Success is HTTP 200 with code 0
 * (older bots answer StatusCode 0). 11232 (frequency limited) and 5xx are retried;
 * 19021 (signature or timestamp), 19022 (IP), 19024 (keyword), 9499 (bad request) are permanent.
 */
export const feishuChannel = {
  type: 'feishu' as const,
  schema: feishuConfigSchema,
  defaultTemplate: PLAIN_TEMPLATE,
  secretRefs: (c: FeishuConfig): string[] => [c.token],
  async send(n: Notification, config: FeishuConfig, ctx: ChannelContext): Promise<SendResult> {
    const token = ctx.secret(config.token);
    let secret = '';
    try {
      secret = ctx.secret(config.secret);
    } catch {
      // No secret: the bot relies on keywords or an IP allowlist.
    }
    const mentions = config.at.map((id) => `<at user_id="${id}"></at>`).join(' ');
    const text = truncateBytes(`${render(config.template ?? PLAIN_TEMPLATE, n)}${mentions ? `\n${mentions}` : ''}`, 18_000);
    const ts = Math.floor(Date.now() / 1000);
    const body = { ...(secret ? { timestamp: String(ts), sign: feishuSign(secret, ts) } : {}), msg_type: 'text', content: { text } };
    const url = `${ctx.config.ALERTING_FEISHU_URL.replace(/\/+$/, '')}/${encodeURIComponent(token)}`;
    const perMinute = pacerFor(100, 60_000);
    const perSecond = pacerFor(5, 1_000);
    const minuteDone = await perMinute.acquire(url, config.name, ctx.timeoutMs);
    const secondDone = await perSecond.acquire(url, config.name, ctx.timeoutMs);
    const res = await httpRequest(
      config.name,
      url,
      { headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) },
      ctx.timeoutMs,
    ).finally(() => {
      minuteDone();
      secondDone();
    });
    const j = parseJson(res.text) as { code?: unknown; msg?: unknown; StatusCode?: unknown; StatusMessage?: unknown } | undefined;
    const code = typeof j?.code === 'number' ? j.code : typeof j?.StatusCode === 'number' ? j.StatusCode : undefined;
    if (code === RATE_LIMITED || res.status === 429) {
      const after = retryAfterMs(res.headers.get('retry-after')) ?? perMinute.penalise(url);
      throw new ChannelError(`Feishu code ${code ?? res.status}: ${String(j?.msg ?? res.text).slice(0, 200)}`, {
        channel: config.name,
        retriable: true,
        httpStatus: res.status,
        providerCode: code ?? res.status,
        retryAfterMs: after,
      });
    }
    if (code !== undefined && code !== 0) {
      throw new ChannelError(`Feishu code ${code}: ${String(j?.msg ?? j?.StatusMessage ?? '').slice(0, 200)}`, {
        channel: config.name,
        retriable: res.status >= 500,
        httpStatus: res.status,
        providerCode: code,
      });
    }
    judgeStatus(config.name, res);
    if (code === undefined)
      throw new ChannelError(`Feishu answered HTTP ${res.status} without a code: ${res.text.slice(0, 200)}`, {
        channel: config.name,
        retriable: true,
        httpStatus: res.status,
      });
    return { status: res.status };
  },
};
