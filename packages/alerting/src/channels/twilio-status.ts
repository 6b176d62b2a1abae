import { createHmac, timingSafeEqual } from 'node:crypto';
import { pgExec, type Queryable } from '@tidemark/core';

/**
 * Twilio's request signature (X-Twilio-Signature): base64(HMAC-SHA1(auth token,
 * the full URL Twilio requested + every POST parameter name and value, sorted
 * by name, concatenated)).
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data =
    url +
    Object.keys(params)
      .sort()
      .map((k) => k + params[k])
      .join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

export function verifyTwilioSignature(authToken: string, url: string, params: Record<string, string>, signature: string | undefined): boolean {
  if (!authToken || !signature) return false;
  const want = Buffer.from(twilioSignature(authToken, url, params));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Final message states (Twilio's and Meta's); an earlier state arriving after one of them changes nothing. */
const FINAL = ['delivered', 'read', 'failed', 'undelivered', 'canceled'];
const FAILED = ['failed', 'undelivered', 'canceled'];
const DELIVERED = ['delivered', 'read'];

/** Which delivery a provider's verdict is about. */
export type VerdictMatch = { projectId: string; notificationId: number } | { idempotencyKey?: string };

/**
 * Applies a provider's asynchronous verdict on a message to its delivery: delivered/read turn
 * `sent` into `delivered`; failed/undelivered/canceled turn `sent` (or `delivered`) into `failed`
 * with the provider's error. A verdict that arrives before the sender recorded the send is kept
 * in provider_status and applied by the sender when it records the send; a late earlier state
 * never overwrites a final one. Returns false when no delivery matches.
 */
export async function applyProviderVerdict(
  meta: Queryable,
  v: { match: VerdictMatch; providerId: string; status: string; error: string | null; at: Date },
): Promise<boolean> {
  const m = v.match;
  const where =
    'notificationId' in m
      ? `project_id = $8 AND id = $9 AND (provider_id IS NULL OR provider_id = $1)`
      : `(provider_id = $1 OR (provider_id IS NULL AND $8::text IS NOT NULL AND idempotency_key = $8))`;
  const params = 'notificationId' in m ? [m.projectId, m.notificationId] : [m.idempotencyKey ?? null];
  const changed = await pgExec(
    meta,
    `UPDATE alert_notifications SET
       provider_id = COALESCE(provider_id, $1),
       provider_status = $2,
       provider_error = COALESCE($3, provider_error),
       provider_updated_at = $4,
       status = CASE WHEN status IN ('sent', 'delivered') AND $2 = ANY($5::text[]) THEN 'failed'
                     WHEN status = 'sent' AND $2 = ANY($6::text[]) THEN 'delivered'
                     ELSE status END,
       last_error = CASE WHEN status IN ('sent', 'delivered') AND $2 = ANY($5::text[]) THEN $3 ELSE last_error END
     WHERE ${where}
       AND NOT (COALESCE(provider_status, '') = ANY($7::text[]) AND NOT ($2 = ANY($7::text[])))`,
    [v.providerId, v.status, v.error, v.at.toISOString(), FAILED, DELIVERED, FINAL, ...params],
  );
  return changed > 0;
}

export interface TwilioStatus {
  projectId: string;
  notificationId: number;
  /** The POST parameters Twilio sent (MessageSid, MessageStatus, ErrorCode, ErrorMessage, ...). */
  params: Record<string, string>;
  at: Date;
}

/**
 * Records a Twilio status callback on its delivery (63016: WhatsApp message outside the
 * 24-hour window without a template; 30003: unreachable handset). Returns false when no
 * delivery matches (unknown id, another message).
 */
export async function recordTwilioStatus(meta: Queryable, s: TwilioStatus): Promise<boolean> {
  const status = (s.params.MessageStatus ?? s.params.SmsStatus ?? '').toLowerCase();
  const sid = s.params.MessageSid ?? s.params.SmsSid ?? '';
  if (!status || !sid) return false;
  const code = s.params.ErrorCode;
  const error = FAILED.includes(status)
    ? `Twilio ${status}${code ? ` ${code}` : ''}${s.params.ErrorMessage ? `: ${s.params.ErrorMessage}` : ''} (reported after Twilio accepted the message)`.slice(
        0,
        2000,
      )
    : null;
  return applyProviderVerdict(meta, { match: { projectId: s.projectId, notificationId: s.notificationId }, providerId: sid, status, error, at: s.at });
}
