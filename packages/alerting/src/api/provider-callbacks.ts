import type { Pool } from 'pg';
import type { Logger } from '@tidemark/core';
import type { AlertingRoleConfig } from '../settings';
import { recordMetaStatuses, recordTwilioStatus, verifyMetaSignature, verifyTwilioSignature } from '../channels';

/**
 * Providers' asynchronous delivery verdicts, as the API's unauthenticated
 * routes receive them. Not scoped by an API key (a provider cannot send
 * one): the request signature is the proof, and nothing unsigned is read.
 */

export interface CallbackDeps {
  meta: Pool;
  config: AlertingRoleConfig;
  logger: Logger;
  now: () => number;
}

/**
 * WhatsApp Cloud API webhook registration: Meta sends GET with hub.mode=subscribe,
 * hub.verify_token and hub.challenge; the challenge is echoed when the token is
 * ALERTING_WHATSAPP_VERIFY_TOKEN.
 */
export function whatsappWebhookVerify(
  config: AlertingRoleConfig,
  q: { mode: string | undefined; token: string | undefined; challenge: string | undefined },
): string | null {
  const want = config.ALERTING_WHATSAPP_VERIFY_TOKEN;
  return want && q.mode === 'subscribe' && q.token === want && q.challenge !== undefined ? q.challenge : null;
}

/** WhatsApp notifications: POST bodies signed with the app secret (X-Hub-Signature-256); their message statuses are recorded on the deliveries they concern. */
export async function whatsappWebhook(
  d: CallbackDeps,
  input: { rawBody: Buffer; signature: string | undefined },
): Promise<{ verified: boolean; changed: number }> {
  if (!verifyMetaSignature(d.config.ALERTING_WHATSAPP_APP_SECRET, input.rawBody, input.signature)) return { verified: false, changed: 0 };
  let body: unknown;
  try {
    body = JSON.parse(input.rawBody.toString('utf8'));
  } catch {
    return { verified: true, changed: 0 };
  }
  return { verified: true, changed: await recordMetaStatuses(d.meta, body, new Date(d.now())) };
}

/**
 * A Twilio status callback: verifies X-Twilio-Signature against
 * ALERTING_TWILIO_STATUS_CALLBACK_URL with the request's query string and records the
 * message's state on its delivery. The signature (HMAC with the auth token over the URL,
 * which names project and delivery) is the proof.
 */
export async function twilioStatusCallback(
  d: CallbackDeps,
  input: { rawQuery: string; params: Record<string, string>; signature: string | undefined },
): Promise<{ verified: boolean; recorded: boolean }> {
  const base = d.config.ALERTING_TWILIO_STATUS_CALLBACK_URL;
  if (!base) return { verified: false, recorded: false };
  const u = new URL(base);
  const signedUrl = `${u.origin}${u.pathname}${input.rawQuery ? `?${input.rawQuery}` : ''}`;
  if (!verifyTwilioSignature(d.config.ALERTING_TWILIO_AUTH_TOKEN, signedUrl, input.params, input.signature)) return { verified: false, recorded: false };
  const q = new URLSearchParams(input.rawQuery);
  const projectId = q.get('project') ?? '';
  const id = Number(q.get('notification'));
  if (!projectId || !Number.isSafeInteger(id) || id <= 0) return { verified: true, recorded: false };
  const recorded = await recordTwilioStatus(d.meta, { projectId, notificationId: id, params: input.params, at: new Date(d.now()) });
  if (!recorded) d.logger.warn({ projectId, notification: id, status: input.params.MessageStatus }, 'Twilio status callback matched no delivery');
  return { verified: true, recorded };
}
