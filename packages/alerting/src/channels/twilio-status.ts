import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';

/**
 * Twilio's request signature (X-Twilio-Signature): base64(HMAC-SHA1(auth token,
 * the full URL Twilio requested + every POST parameter name and value, sorted
 * by name, concatenated)).
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

export function verifyTwilioSignature(authToken: string, url: string, params: Record<string, string>, signature: string | undefined): boolean {
  if (!authToken || !signature) return false;
  const want = Buffer.from(twilioSignature(authToken, url, params));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Twilio's final message states; an earlier state arriving after one of them changes nothing. */
const FINAL = ['delivered', 'read', 'failed', 'undelivered', 'canceled'];
const FAILED = ['failed', 'undelivered', 'canceled'];
const DELIVERED = ['delivered', 'read'];

export interface TwilioStatus {
  projectId: string;
  notificationId: number;
  /** The POST parameters Twilio sent (MessageSid, MessageStatus, ErrorCode, ErrorMessage, ...). */
  params: Record<string, string>;
  at: Date;
}

/**
 * Records a Twilio status callback on its delivery. delivered/read turn `sent`
 * into `delivered`; failed/undelivered turn `sent` into `failed` with the
 * error code (63016: WhatsApp message outside the 24-hour window without a
 * template). A callback that arrives before the sender recorded the send is
 * kept in provider_status and applied by the sender when it records the
 * send. Returns false when no delivery matches (unknown id, other message).
 */
export async function recordTwilioStatus(meta: Pool, s: TwilioStatus): Promise<boolean> {
  const status = (s.params.MessageStatus ?? s.params.SmsStatus ?? '').toLowerCase();
  const sid = s.params.MessageSid ?? s.params.SmsSid ?? '';
  if (!status || !sid) return false;
  const code = s.params.ErrorCode;
  const error = FAILED.includes(status) ? `Twilio ${status}${code ? ` ${code}` : ''}${s.params.ErrorMessage ? `: ${s.params.ErrorMessage}` : ''} (reported after Twilio accepted the message)`.slice(0, 2000) : null;
  const { rowCount } = await meta.query(
    `UPDATE alert_notifications SET
       provider_id = COALESCE(provider_id, $3),
       provider_status = $4,
       provider_error = COALESCE($5, provider_error),
       provider_updated_at = $6,
       status = CASE WHEN status = 'sent' AND $4 = ANY($7::text[]) THEN 'failed'
                     WHEN status = 'sent' AND $4 = ANY($8::text[]) THEN 'delivered'
                     WHEN status = 'delivered' AND $4 = ANY($7::text[]) THEN 'failed'
                     ELSE status END,
       last_error = CASE WHEN status IN ('sent', 'delivered') AND $4 = ANY($7::text[]) THEN $5 ELSE last_error END
     WHERE project_id = $1 AND id = $2 AND (provider_id IS NULL OR provider_id = $3)
       AND NOT (COALESCE(provider_status, '') = ANY($9::text[]) AND NOT ($4 = ANY($9::text[])))`,
    [s.projectId, s.notificationId, sid, status, error, s.at.toISOString(), FAILED, DELIVERED, FINAL],
  );
  return (rowCount ?? 0) > 0;
}
