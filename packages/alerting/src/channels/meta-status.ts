import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import { applyProviderVerdict } from './twilio-status';

/** Meta signs webhook bodies: X-Hub-Signature-256: sha256=hex(HMAC-SHA256(app secret, raw body)). */
export function metaSignature(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export function verifyMetaSignature(appSecret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!appSecret || !header) return false;
  const want = Buffer.from(metaSignature(appSecret, rawBody));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

interface MetaStatus {
  id?: string;
  status?: string;
  biz_opaque_callback_data?: string;
  errors?: { code?: number; title?: string; message?: string; error_data?: { details?: string } }[];
}

/**
 * Records the message statuses of a WhatsApp Cloud API webhook
 * (entry[].changes[].value.statuses[]: sent, delivered, read, failed with errors such as
 * 131047 "Re-engagement message" outside the 24-hour window, 131026 undeliverable). A status
 * is matched by its wamid, or by biz_opaque_callback_data (the delivery's idempotency key)
 * when it arrives before the sender recorded the wamid. Returns how many deliveries changed.
 */
export async function recordMetaStatuses(meta: Pool, body: unknown, at: Date): Promise<number> {
  const entries = (body as { entry?: { changes?: { value?: { statuses?: MetaStatus[] } }[] }[] } | undefined)?.entry ?? [];
  let changed = 0;
  for (const e of entries) {
    for (const c of e.changes ?? []) {
      for (const st of c.value?.statuses ?? []) {
        if (!st.id || !st.status) continue;
        const err = st.errors?.[0];
        const error =
          st.status === 'failed'
            ? `WhatsApp failed${err?.code !== undefined ? ` ${err.code}` : ''}: ${err?.title ?? err?.message ?? ''}${err?.error_data?.details ? ` (${err.error_data.details})` : ''} (reported after Meta accepted the message)`.slice(
                0,
                2000,
              )
            : null;
        const ok = await applyProviderVerdict(meta, {
          match: st.biz_opaque_callback_data ? { idempotencyKey: st.biz_opaque_callback_data } : {},
          providerId: st.id,
          status: st.status,
          error,
          at,
        });
        if (ok) changed++;
      }
    }
  }
  return changed;
}
