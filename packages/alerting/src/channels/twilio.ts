import type { AlertingRoleConfig } from '../settings';
import { httpRequest, judgeStatus, parseJson } from './http';
import { ChannelConfigError, type ChannelContext, type Notification, type SendResult } from './types';

/**
 * POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, basic
 * auth with the account SID and auth token. 201 with the message's sid on
 * success; errors are JSON {code, message, more_info, status}: 429 (20429)
 * and 5xx are retried, other 4xx (21211 invalid To, 21606 bad From) are permanent.
 */
export async function twilioSend(
  channel: string,
  ctx: ChannelContext,
  fields: { To: string; From: string } & ({ Body: string } | { ContentSid: string; ContentVariables: string }),
  n: Notification,
): Promise<SendResult> {
  const c: AlertingRoleConfig = ctx.config;
  const form: Record<string, string> = { ...fields };
  // Twilio answers 201 at once and decides delivery later (a WhatsApp send outside the 24-hour window
  // fails with 63016, an SMS carrier may refuse): the StatusCallback carries that verdict to the API,
  // which records it on this delivery (the notification id in the URL; Twilio signs the whole URL).
  if (c.ALERTING_TWILIO_STATUS_CALLBACK_URL && n.id > 0) form.StatusCallback = statusCallbackUrl(c.ALERTING_TWILIO_STATUS_CALLBACK_URL, n);
  if (!c.ALERTING_TWILIO_ACCOUNT_SID) throw new ChannelConfigError('ALERTING_TWILIO_ACCOUNT_SID is not set', channel);
  const token = ctx.secret('${ALERTING_TWILIO_AUTH_TOKEN}');
  const url = `${c.ALERTING_TWILIO_API_URL.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(c.ALERTING_TWILIO_ACCOUNT_SID)}/Messages.json`;
  const res = await httpRequest(
    channel,
    url,
    {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.ALERTING_TWILIO_ACCOUNT_SID}:${token}`).toString('base64')}`,
      },
      body: new URLSearchParams(form).toString(),
    },
    ctx.timeoutMs,
  );
  judgeStatus(channel, res, (r) => {
    const j = parseJson(r.text) as { code?: number; message?: string } | undefined;
    return j?.code ? `Twilio ${j.code}: ${j.message ?? ''}` : r.text.slice(0, 300);
  });
  const j = parseJson(res.text) as { sid?: string } | undefined;
  return { status: res.status, ...(j?.sid ? { providerId: j.sid } : {}) };
}

/** Twilio bodies are at most 1600 characters. */
export function twilioBody(text: string): string {
  return text.length <= 1600 ? text : `${text.slice(0, 1597)}...`;
}

/** The StatusCallback of one delivery: the configured API route plus the delivery's project and id. */
export function statusCallbackUrl(base: string, n: Pick<Notification, 'id' | 'projectId'>): string {
  const u = new URL(base);
  u.searchParams.set('project', n.projectId);
  u.searchParams.set('notification', String(n.id));
  return u.toString();
}
