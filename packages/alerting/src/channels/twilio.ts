import type { Config } from '@tidemark/core';
import { httpRequest, judgeStatus, parseJson } from './http';
import { ChannelConfigError, type ChannelContext, type SendResult } from './types';

/**
 * POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, basic
 * auth with the account SID and auth token. 201 with the message's sid on
 * success; errors are JSON {code, message, more_info, status}: 429 (20429)
 * and 5xx are retried, other 4xx (21211 invalid To, 21606 bad From) are permanent.
 */
export async function twilioSend(channel: string, ctx: ChannelContext, form: { To: string; From: string; Body: string }): Promise<SendResult> {
  const c: Config = ctx.config;
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
