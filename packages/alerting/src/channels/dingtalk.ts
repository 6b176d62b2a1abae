import crypto from 'node:crypto';
import { z } from 'zod';
import { httpRequest, judgeStatus, parseJson } from './http';
import { pacerFor } from './pacer';
import { channelBase, PLAIN_TEMPLATE, render, secretRef, truncateBytes } from './render';
import { ChannelError, type ChannelContext, type Notification, type SendResult } from './types';

export const dingtalkConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('dingtalk'),
  /** The robot's access_token (from its webhook URL), as a secret reference. */
  token: secretRef.default('${ALERTING_DINGTALK_TOKEN}'),
  /** The robot's signing secret (SEC...), as a secret reference; a reference to an empty value = robot not signed. */
  secret: secretRef.default('${ALERTING_DINGTALK_SECRET}'),
  /** Mobile numbers to @-mention (they must also appear in the text for DingTalk to highlight them). */
  at_mobiles: z.array(z.string().regex(/^\+?\d{5,20}$/, 'must be a mobile number')).default([]),
  at_all: z.boolean().default(false),
});
export type DingtalkConfig = z.output<typeof dingtalkConfigSchema>;

/**
 * DingTalk's signature: sign = base64(HMAC-SHA256(secret, "<timestamp ms>\n<secret>")),
 * URL-encoded in the query next to timestamp; DingTalk refuses a timestamp more than an
 * hour off (errcode 310000 "sign not match").
 */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return crypto.createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** DingTalk limits a robot to 20 messages per minute and blocks it for 10 minutes beyond (130101 / 410100). */
const LIMIT = 20;
const WINDOW_MS = 60_000;
const BLOCK_MS = 10 * 60_000;
const RATE_LIMITED = new Set([130101, 410100]);

/**
 * DingTalk custom robot: POST {url}?access_token=..[&timestamp=..&sign=..] with a
 * text message; HTTP 200 with errcode 0 is success. errcode -1 (busy) and the
 * rate-limit codes are retried; 310000 (keyword, signature or IP check failed),
 * 300001/400102 (token invalid or robot disabled) and others are permanent.
 * Sends to one robot are paced to 20 per minute, queued in order.
 */
export const dingtalkChannel = {
  type: 'dingtalk' as const,
  schema: dingtalkConfigSchema,
  defaultTemplate: PLAIN_TEMPLATE,
  secretRefs: (c: DingtalkConfig): string[] => [c.token],
  async send(n: Notification, config: DingtalkConfig, ctx: ChannelContext): Promise<SendResult> {
    const token = ctx.secret(config.token);
    let secret = '';
    try {
      secret = ctx.secret(config.secret);
    } catch {
      // No secret configured: the robot uses keywords or an IP allowlist instead of signing.
    }
    const text = render(config.template ?? PLAIN_TEMPLATE, n);
    const body = {
      msgtype: 'text',
      // 20000 bytes is DingTalk's text limit.
      text: { content: truncateBytes(text, 20_000) },
      at: { atMobiles: config.at_mobiles, isAtAll: config.at_all },
    };
    const base = `${ctx.config.ALERTING_DINGTALK_URL}?access_token=${encodeURIComponent(token)}`;
    const pacer = pacerFor(LIMIT, WINDOW_MS);
    const answered = await pacer.acquire(base, config.name, ctx.timeoutMs);
    const ts = Date.now();
    const url = secret ? `${base}&timestamp=${ts}&sign=${encodeURIComponent(dingtalkSign(secret, ts))}` : base;
    const res = await httpRequest(
      config.name,
      url,
      { headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) },
      ctx.timeoutMs,
    ).finally(answered);
    judgeStatus(config.name, res);
    const j = parseJson(res.text) as { errcode?: unknown; errmsg?: unknown } | undefined;
    if (!j || typeof j.errcode !== 'number') {
      throw new ChannelError(`DingTalk answered HTTP ${res.status} without an errcode: ${res.text.slice(0, 200)}`, {
        channel: config.name,
        retriable: true,
        httpStatus: res.status,
      });
    }
    if (j.errcode !== 0) {
      const limited = RATE_LIMITED.has(j.errcode);
      if (limited) pacer.penalise(base);
      throw new ChannelError(`DingTalk errcode ${j.errcode}: ${String(j.errmsg ?? '').slice(0, 200)}`, {
        channel: config.name,
        retriable: limited || j.errcode === -1,
        httpStatus: res.status,
        providerCode: j.errcode,
        ...(limited ? { retryAfterMs: BLOCK_MS } : {}),
      });
    }
    return { status: res.status };
  },
};
