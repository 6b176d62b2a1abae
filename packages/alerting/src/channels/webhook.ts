import crypto from 'node:crypto';
import { z } from 'zod';
import { httpRequest, judgeStatus } from './http';
import { channelBase, PLAIN_TEMPLATE, render, secretRef } from './render';
import type { ChannelContext, Notification, SendResult } from './types';

export const webhookConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('webhook'),
  /** Receiver URL: plain, or a secret reference when the URL itself carries a token. */
  url: z.union([secretRef, z.url({ protocol: /^https?$/, error: 'must be an http(s) URL or a ${NAME} secret reference' })]),
  /** HMAC-SHA256 signing key, as a secret reference. */
  secret: secretRef.default('${ALERTING_WEBHOOK_SECRET}'),
  /** Extra, non-secret headers. */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string()).default({}),
});
export type WebhookConfig = z.output<typeof webhookConfigSchema>;

/** The signature header value: v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>")). */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Generic webhook: POST the notification as JSON (plus `message`, the
 * rendered template), with Idempotency-Key, X-Tidemark-Timestamp and
 * X-Tidemark-Signature headers. Receivers verify the signature and drop a
 * key they have already processed.
 */
export const webhookChannel = {
  type: 'webhook' as const,
  schema: webhookConfigSchema,
  defaultTemplate: PLAIN_TEMPLATE,
  secretRefs: (c: WebhookConfig): string[] => [c.secret, ...(c.url.startsWith('${') ? [c.url] : [])],
  async send(n: Notification, config: WebhookConfig, ctx: ChannelContext): Promise<SendResult> {
    const url = config.url.startsWith('${') ? ctx.secret(config.url) : config.url;
    const key = ctx.secret(config.secret);
    const body = JSON.stringify({ version: 1, ...n, message: render(config.template ?? PLAIN_TEMPLATE, n) });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await httpRequest(
      config.name,
      url,
      {
        headers: {
          ...config.headers,
          'content-type': 'application/json',
          'idempotency-key': n.idempotencyKey,
          'x-tidemark-timestamp': timestamp,
          'x-tidemark-signature': signWebhook(key, timestamp, body),
        },
        body,
      },
      ctx.timeoutMs,
    );
    judgeStatus(config.name, res);
    return { status: res.status };
  },
};
