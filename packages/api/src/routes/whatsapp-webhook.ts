import type Koa from 'koa';
import { readBody, type Logger } from '@tidemark/core';
import type { ProviderCallbacks } from '@tidemark/alerting';

/** The WhatsApp Cloud API webhook URL to register in the Meta app (messages field). */
export const WHATSAPP_WEBHOOK_PATH = '/api/alerting/whatsapp/webhook';

/** Status notifications are small; Meta batches at most a few hundred statuses. */
const MAX_BODY = 1024 * 1024;

/**
 * GET/POST /api/alerting/whatsapp/webhook: Meta's webhook for alert WhatsApp messages.
 * GET is the registration handshake (hub.challenge echoed when hub.verify_token matches
 * ALERTING_WHATSAPP_VERIFY_TOKEN, else 403). POST carries message statuses, signed over the raw
 * body with the app secret (X-Hub-Signature-256), so it is mounted before the API's JSON parser
 * and takes no API key; 403 when the signature does not match, else 200 (Meta retries non-2xx
 * for hours). A `failed` status (131047 outside the 24-hour window, 131026 undeliverable) turns
 * the delivery's `sent` into `failed`; delivered/read into `delivered`.
 */
export function whatsappWebhookMiddleware(deps: { alerting: ProviderCallbacks; logger: Logger }): Koa.Middleware {
  const logger = deps.logger.child({ component: 'whatsapp-webhook' });
  return async (ctx, next) => {
    if (ctx.path !== WHATSAPP_WEBHOOK_PATH || (ctx.method !== 'GET' && ctx.method !== 'POST')) return next();
    if (ctx.method === 'GET') {
      const q = (k: string): string | undefined => (typeof ctx.query[k] === 'string' ? (ctx.query[k] as string) : undefined);
      const challenge = deps.alerting.whatsappWebhookVerify({ mode: q('hub.mode'), token: q('hub.verify_token'), challenge: q('hub.challenge') });
      if (challenge === null) {
        ctx.status = 403;
        return;
      }
      ctx.type = 'text/plain';
      ctx.body = challenge;
      return;
    }
    const raw = await readBody(ctx.req, MAX_BODY);
    const out = await deps.alerting.whatsappWebhook({ rawBody: raw, signature: ctx.get('x-hub-signature-256') || undefined });
    if (!out.verified) {
      logger.warn('WhatsApp webhook refused: X-Hub-Signature-256 does not match (or ALERTING_WHATSAPP_APP_SECRET unset)');
      ctx.status = 403;
      return;
    }
    ctx.status = 200;
    ctx.body = { received: true, changed: out.changed };
  };
}
