import type { Pool } from 'pg';
import type { Config, Logger, TidemarkError } from '@tidemark/core';
import { backoffDelay, classifyError, retry } from '@tidemark/core';
import { ChannelConfigError, sendVia, type ChannelConfig, type ChannelContext, type Notification, type SendResult } from '../channels';
import type { Clock } from '../clock';
import { loadPolicy, resolveSecret, type EffectivePolicy } from './policy';

export interface SenderOptions {
  meta: Pool;
  config: Config;
  clock: Clock;
  logger: Logger;
  owner: string;
  leaseMs: number;
  sendTimeoutMs: number;
  /** Immediate retries inside one send round (core `retry`, jittered backoff). */
  sendRetries: number;
  /** First in-round retry delay (ms). */
  retryInitialMs: number;
  /** Cap of the durable delay between rounds (ms). */
  retryMaxDelayMs: number;
  giveUpAfterMs: number;
  /** Sends in flight per channel; a slow channel cannot take every slot. */
  perChannelConcurrency: number;
}

interface DeliveryRow {
  id: string;
  project_id: string;
  channel: string;
  channel_type: string;
  recipient: string | null;
  idempotency_key: string;
  payload: Omit<Notification, 'id' | 'idempotencyKey' | 'recipient'>;
  attempts: number;
  created_at: Date;
}

/** Longest in-round wait for a Retry-After; longer ones become the durable delay. */
const MAX_INLINE_RETRY_AFTER_MS = 5_000;

/** Replaces every secret value (and query-string keys) in a text about a failed send. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('<redacted>');
  return out.replace(/([?&](?:key|token|access_token)=)[^&\s"]+/gi, '$1<redacted>');
}

/**
 * Delivers queued notifications. Each delivery is claimed with a lease,
 * sent with the channel's one `send`, and every attempt is recorded. A
 * success marks it sent; a permanent failure (4xx, rejected payload, bad
 * config) marks it failed; a retriable one is rescheduled with jittered
 * exponential backoff (persisted, so a restart keeps the schedule) until
 * ALERTING_GIVE_UP_AFTER_MS. Sends run concurrently and are not awaited by
 * the tick, so one slow or failing channel never delays another.
 *
 * Exactly-once toward a receiver that honours the idempotency key: the key
 * is fixed when the delivery is queued and sent with every attempt, including
 * the re-send after a crash between a receiver's acceptance and our record of it.
 */
export class Sender {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly perChannel = new Map<string, number>();
  private readonly transports = new Map<string, unknown>();
  private closed = false;

  constructor(private readonly o: SenderOptions) {}

  get busy(): number {
    return this.inFlight.size;
  }

  /** Claims due deliveries and starts sending them; returns how many started. */
  async startDue(limit = 100): Promise<number> {
    if (this.closed) return 0;
    const now = this.o.clock.now();
    const saturated = [...this.perChannel].filter(([, n]) => n >= this.o.perChannelConcurrency).map(([k]) => k);
    const { rows } = await this.o.meta.query<DeliveryRow>(
      `UPDATE alert_notifications n SET status = 'sending', lease_owner = $1, lease_until = $2, attempts = n.attempts + 1
       FROM (SELECT id FROM alert_notifications
             WHERE ((status = 'pending' AND next_attempt_at <= $3) OR (status = 'sending' AND lease_until < $3))
               AND NOT (id = ANY($4::bigint[]))
               AND NOT ((project_id || '/' || channel) = ANY($5::text[]))
             ORDER BY next_attempt_at, id LIMIT $6 FOR UPDATE SKIP LOCKED) d
       WHERE n.id = d.id
       RETURNING n.id, n.project_id, n.channel, n.channel_type, n.recipient, n.idempotency_key, n.payload, n.attempts, n.created_at`,
      [this.o.owner, new Date(now + this.o.leaseMs).toISOString(), new Date(now).toISOString(), [...this.inFlight.keys()], saturated, limit],
    );
    const policies = new Map<string, Promise<EffectivePolicy>>();
    for (const d of rows) {
      const chKey = `${d.project_id}/${d.channel}`;
      this.perChannel.set(chKey, (this.perChannel.get(chKey) ?? 0) + 1);
      let policy = policies.get(d.project_id);
      if (!policy) {
        policy = loadPolicy(this.o.meta, d.project_id);
        policies.set(d.project_id, policy);
      }
      const p = this.deliver(d, policy)
        .catch((err: unknown) => this.o.logger.error({ err, notification: d.id }, 'delivery bookkeeping failed; the lease expires and it is retried'))
        .finally(() => {
          this.inFlight.delete(d.id);
          const n = (this.perChannel.get(chKey) ?? 1) - 1;
          if (n <= 0) this.perChannel.delete(chKey);
          else this.perChannel.set(chKey, n);
        });
      this.inFlight.set(d.id, p);
    }
    return rows.length;
  }

  /** Waits for every send in flight. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
    for (const t of this.transports.values()) (t as { close?: () => void }).close?.();
    this.transports.clear();
  }

  /** Sends through one channel config with the in-round retries, recording every attempt. */
  async sendRecorded(
    notification: Notification,
    config: ChannelConfig,
    record: (a: { startedAt: number; durationMs: number; outcome: 'ok' | 'retriable' | 'permanent'; httpStatus: number | null; error: string | null }) => Promise<void>,
  ): Promise<{ ok: true; result: SendResult } | { ok: false; error: TidemarkError; message: string }> {
    const secrets: string[] = [];
    const ctx: ChannelContext = {
      config: this.o.config,
      logger: this.o.logger,
      timeoutMs: this.o.sendTimeoutMs,
      transports: this.transports,
      secret: (ref) => {
        const v = resolveSecret(this.o.config, ref);
        if (!v) throw new ChannelConfigError(`secret ${ref} is not set (ALERTING_SECRETS or the config key)`, config.name);
        secrets.push(v);
        return v;
      },
    };
    try {
      const result = await retry(
        async () => {
          const startedAt = this.o.clock.now();
          const t0 = performance.now();
          try {
            const r = await sendVia(config, notification, ctx);
            await record({ startedAt, durationMs: Math.round(performance.now() - t0), outcome: 'ok', httpStatus: r.status ?? null, error: null });
            return r;
          } catch (raw) {
            const e = classifyError(raw, `channel ${config.name}`);
            const ctxInfo = e.context as { httpStatus?: number };
            await record({
              startedAt,
              durationMs: Math.round(performance.now() - t0),
              outcome: e.retriable ? 'retriable' : 'permanent',
              httpStatus: ctxInfo.httpStatus ?? null,
              error: redact(e.message, secrets).slice(0, 2000),
            });
            throw e;
          }
        },
        {
          retries: this.o.sendRetries,
          initialDelayMs: this.o.retryInitialMs,
          maxDelayMs: MAX_INLINE_RETRY_AFTER_MS,
          jitter: 0.5,
          dependency: `channel ${config.name}`,
          retryIf: (err) => err.retriable && (err.retryAfterMs ?? 0) <= MAX_INLINE_RETRY_AFTER_MS,
        },
      );
      return { ok: true, result };
    } catch (raw) {
      const error = classifyError(raw, `channel ${config.name}`);
      return { ok: false, error, message: redact(error.message, secrets) };
    }
  }

  private async deliver(d: DeliveryRow, policyP: Promise<EffectivePolicy>): Promise<void> {
    const policy = await policyP;
    const config = policy.channels.get(d.channel);
    const notification: Notification = { ...d.payload, id: Number(d.id), idempotencyKey: d.idempotency_key, ...(d.recipient ? { recipient: d.recipient } : {}) };
    const record = async (a: { startedAt: number; durationMs: number; outcome: string; httpStatus: number | null; error: string | null }): Promise<void> => {
      await this.o.meta.query(
        `INSERT INTO alert_notification_attempts (notification_id, project_id, attempt, replica, started_at, duration_ms, outcome, http_status, error)
         VALUES ($1, $2, (SELECT COALESCE(max(attempt), 0) + 1 FROM alert_notification_attempts WHERE notification_id = $1), $3, $4, $5, $6, $7, $8)`,
        [d.id, d.project_id, this.o.owner, new Date(a.startedAt).toISOString(), a.durationMs, a.outcome, a.httpStatus, a.error],
      );
    };
    if (!config) {
      const message = `no channel named "${d.channel}" in the project's notification policy`;
      await record({ startedAt: this.o.clock.now(), durationMs: 0, outcome: 'permanent', httpStatus: null, error: message });
      await this.finishFailed(d, message);
      return;
    }
    const out = await this.sendRecorded(notification, config, record);
    const now = this.o.clock.now();
    if (out.ok) {
      // Sent is final whoever else holds the row: guarded updates of other replicas then match nothing.
      await this.o.meta.query(`UPDATE alert_notifications SET status = 'sent', sent_at = $2, lease_owner = NULL, lease_until = NULL, last_error = NULL WHERE id = $1`, [
        d.id,
        new Date(now).toISOString(),
      ]);
      const alerts = d.payload.alerts;
      await this.o.meta.query(
        `UPDATE alert_instances SET last_sent_at = $2
         WHERE project_id = $1 AND (rule_name, fingerprint) IN (SELECT * FROM unnest($3::text[], $4::text[]))`,
        [d.project_id, new Date(now).toISOString(), alerts.map((a) => a.rule), alerts.map((a) => a.fingerprint)],
      );
      return;
    }
    const err = out.error;
    if (!err.retriable) {
      await this.finishFailed(d, out.message);
      return;
    }
    if (now - d.created_at.getTime() >= this.o.giveUpAfterMs) {
      await this.finishFailed(d, `gave up after ${d.attempts} rounds: ${out.message}`);
      return;
    }
    const delay = Math.max(backoffDelay(d.attempts - 1, { initialDelayMs: 1_000, maxDelayMs: this.o.retryMaxDelayMs, factor: 2, jitter: 0.5 }), err.retryAfterMs ?? 0);
    await this.o.meta.query(
      `UPDATE alert_notifications SET status = 'pending', next_attempt_at = $3, lease_owner = NULL, lease_until = NULL, last_error = $4
       WHERE id = $1 AND status = 'sending' AND lease_owner = $2`,
      [d.id, this.o.owner, new Date(now + delay).toISOString(), out.message.slice(0, 2000)],
    );
    this.o.logger.warn({ notification: d.id, channel: d.channel, retryInMs: delay, err: out.message }, 'notification send failed; retrying later');
  }

  private async finishFailed(d: DeliveryRow, message: string): Promise<void> {
    await this.o.meta.query(
      `UPDATE alert_notifications SET status = 'failed', lease_owner = NULL, lease_until = NULL, last_error = $3
       WHERE id = $1 AND status = 'sending' AND lease_owner = $2`,
      [d.id, this.o.owner, message.slice(0, 2000)],
    );
    this.o.logger.error({ notification: d.id, channel: d.channel, err: message }, 'notification failed permanently');
  }
}
