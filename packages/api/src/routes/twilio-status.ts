import type Koa from 'koa';
import { decodeUtf8, readBody, type Logger } from '@tidemark/core';
import type { ProviderCallbacks } from '@tidemark/alerting';

/** Where Twilio posts message status callbacks (ALERTING_TWILIO_STATUS_CALLBACK_URL must point here). */
export const TWILIO_STATUS_PATH = '/api/alerting/twilio/status';

/** Twilio's callback is a small form: a few hundred bytes. */
const MAX_BODY = 64 * 1024;

/**
 * POST /api/alerting/twilio/status: Twilio's StatusCallback for alert SMS and
 * WhatsApp messages. The body is form-encoded (not JSON), so this is a
 * middleware mounted before the API's JSON body parser, and it takes no API
 * key (Twilio cannot send one): X-Twilio-Signature, an HMAC with the account's
 * auth token over the URL and every parameter, is verified instead (403 when it
 * does not match). A verified callback is recorded on its delivery
 * (delivered, or failed with Twilio's error code such as 63016) and answered
 * 204, also when it matches no delivery, so Twilio does not retry it.
 */
export function twilioStatusMiddleware(deps: { alerting: ProviderCallbacks; logger: Logger }): Koa.Middleware {
  const logger = deps.logger.child({ component: 'twilio-status' });
  return async (ctx, next) => {
    if (ctx.path !== TWILIO_STATUS_PATH || ctx.method !== 'POST') return next();
    const text = decodeUtf8(await readBody(ctx.req, MAX_BODY));
    const params = Object.fromEntries(new URLSearchParams(text));
    const out = await deps.alerting.twilioStatusCallback({ rawQuery: ctx.querystring, params, signature: ctx.get('x-twilio-signature') || undefined });
    if (!out.verified) {
      logger.warn({ sid: params.MessageSid }, 'Twilio status callback refused: signature does not match (or ALERTING_TWILIO_STATUS_CALLBACK_URL unset)');
      ctx.status = 403;
      ctx.body = { error: { code: 'FORBIDDEN', message: 'X-Twilio-Signature does not match', retriable: false, context: {} } };
      return;
    }
    ctx.status = 204;
  };
}
