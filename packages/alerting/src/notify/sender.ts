import type { Pool } from 'pg';
import type { Logger, Registry, TidemarkError } from '@tidemark/core';
import type { AlertingRoleConfig } from '../settings';
import { backoffDelay, classifyError, retry } from '@tidemark/core';
import { NotificationMetrics } from './metrics';
import { ChannelConfigError, sendVia, type ChannelConfig, type ChannelContext, type Notification, type SendResult } from '../channels';
import type { Clock } from '../clock';
import { loadPolicy, resolveSecret, type EffectivePolicy } from './policy';
import {
  claimDue,
  hasLaterInGroup,
  markFailed,
  markInstancesSent,
  markSent,
  markSuperseded,
  reschedule,
  resetQueueBackoff,
  type DeliveryRow,
} from './deliveries';
import { finishAttempt, insertAttempt } from './records';

export interface SenderOptions {
  meta: Pool;
  config: AlertingRoleConfig;
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
  /**
   * ALERTING_RECEIVER_PROBE_MS: the head of a failing receiver's queue is
   * retried at least this often (jittered down to half), so a recovered
   * receiver gets its queue within about this long.
   */
  probeMs?: number;
  giveUpAfterMs: number;
  /** Sends in flight per channel; a slow channel cannot take every slot. */
  perChannelConcurrency: number;
  /** Where the notification metrics (sent, failed, retried, pending age per channel) go; none without it. */
  metrics?: Registry;
}

/** One finished try of a send, as sendRecorded reports it. */
export interface AttemptOutcome {
  startedAt: number;
  durationMs: number;
  outcome: 'ok' | 'retriable' | 'permanent';
  httpStatus: number | null;
  error: string | null;
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

  private readonly m: NotificationMetrics | undefined;

  constructor(private readonly o: SenderOptions) {
    this.m = o.metrics ? new NotificationMetrics(o.metrics, o.meta) : undefined;
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** Claims due deliveries and starts sending them; returns how many started. */
  async startDue(limit = 100): Promise<number> {
    if (this.closed) return 0;
    const now = this.o.clock.now();
    const saturated = [...this.perChannel].filter(([, n]) => n >= this.o.perChannelConcurrency).map(([k]) => k);
    // FIFO per receiver: a later notification of a queue waits until every earlier one is sent,
    // failed or superseded, whichever replica holds it. That is what keeps one alert's states
    // in order at the receiver after an outage (a resolve never overtakes its firing, a repeat
    // never precedes the first send): each queue has at most one send in flight, everywhere.
    const rows = await claimDue(this.o.meta, { owner: this.o.owner, now, leaseMs: this.o.leaseMs, inFlight: [...this.inFlight.keys()], saturated, limit });
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
    record: (a: AttemptOutcome) => Promise<void>,
    /** Called before each try, so the attempt is on record even if the process dies during the send. */
    onStart?: (startedAt: number) => Promise<void>,
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
          await onStart?.(startedAt);
          const t0 = performance.now();
          try {
            const r = await sendVia(config, notification, ctx);
            await record({ startedAt, durationMs: Math.round(performance.now() - t0), outcome: 'ok', httpStatus: r.status ?? null, error: null });
            return r;
          } catch (raw) {
            const e = classifyError(raw, `channel ${config.name}`);
            const ctxInfo = e.context as { httpStatus?: number };
            if (e.retriable) this.m?.retried.inc({ type: config.type, channel: config.name });
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
    const notification: Notification = {
      ...d.payload,
      id: Number(d.id),
      idempotencyKey: d.idempotency_key,
      ...(d.recipient ? { recipient: d.recipient } : {}),
    };
    // A repeat with a later notification of the same group queued behind it is stale: the later
    // one lists the group's current state. Dropping it keeps a recovering receiver from getting
    // old "still firing" pages after the news.
    if (d.payload.isRepeat && (await hasLaterInGroup(this.o.meta, d))) {
      await markSuperseded(this.o.meta, d.id, this.o.owner);
      await this.next();
      return;
    }
    // Each try is recorded as 'started' before the send and completed after it: a send cut off
    // by kill -9 leaves its 'started' row (no finished_at).
    let attemptId: string | null = null;
    const start = (startedAt: number): Promise<string> =>
      insertAttempt(this.o.meta, {
        notificationId: d.id,
        projectId: d.project_id,
        replica: this.o.owner,
        startedAt,
        durationMs: 0,
        outcome: 'started',
        httpStatus: null,
        error: null,
      });
    const begin = async (startedAt: number): Promise<void> => {
      attemptId = await start(startedAt);
    };
    const record = async (a: AttemptOutcome): Promise<void> => {
      const id = attemptId ?? (await start(a.startedAt));
      await finishAttempt(this.o.meta, id, { ...a, finishedAt: this.o.clock.now() });
      attemptId = null;
    };
    if (!config) {
      const message = `no channel named "${d.channel}" in the project's notification policy`;
      await record({ startedAt: this.o.clock.now(), durationMs: 0, outcome: 'permanent', httpStatus: null, error: message });
      await this.finishFailed(d, message);
      await this.next();
      return;
    }
    const out = await this.sendRecorded(notification, config, record, begin);
    const now = this.o.clock.now();
    if (out.ok) {
      // Sent is final whoever else holds the row: guarded updates of other replicas then match nothing.
      const r = out.result;
      const final = await markSent(this.o.meta, d.id, now, r);
      (final === 'sent' || final === 'delivered' ? this.m?.sent : this.m?.failed)?.inc({ type: d.channel_type, channel: d.channel });
      if (r.partial) this.o.logger.error({ notification: d.id, channel: d.channel, err: r.partial }, 'notification partially delivered');
      await markInstancesSent(this.o.meta, d.project_id, now, d.payload.alerts);
      // The receiver answers again: whatever waits in its queue is due now (its backoff is reset),
      // and the next one is started at once. One send at a time per queue bounds the load on a
      // receiver that just recovered. A first-try success had nothing backed off behind it that
      // an earlier success did not already reset, so only a recovery pays for the statement.
      if (d.attempts > 1) await resetQueueBackoff(this.o.meta, d, now);
      await this.next();
      return;
    }
    const err = out.error;
    if (!err.retriable) {
      await this.finishFailed(d, out.message);
      await this.next();
      return;
    }
    if (now - d.created_at.getTime() >= this.o.giveUpAfterMs) {
      await this.finishFailed(d, `gave up after ${d.attempts} rounds: ${out.message}`);
      await this.next();
      return;
    }
    // The head of the queue is the receiver's probe: its wait grows from 1 s but never beyond the
    // probe interval, so the receiver is tried again within that long after it recovers; a
    // Retry-After the receiver asked for is still honoured.
    const cap = Math.min(this.o.retryMaxDelayMs, this.o.probeMs ?? this.o.retryMaxDelayMs);
    const delay = Math.max(
      backoffDelay(d.attempts - 1, { initialDelayMs: Math.min(1_000, cap), maxDelayMs: cap, factor: 2, jitter: 0.5 }),
      err.retryAfterMs ?? 0,
    );
    await reschedule(this.o.meta, d.id, this.o.owner, now + delay, out.message);
    this.o.logger.warn({ notification: d.id, channel: d.channel, retryInMs: delay, err: out.message }, 'notification send failed; retrying later');
  }

  /**
   * A queue's head finished: start what became due (its successor) now rather than on the next
   * tick. Awaited inside the finished send's promise, so drain() also waits for the successor.
   */
  private async next(): Promise<void> {
    if (this.closed) return;
    await this.startDue();
  }

  private async finishFailed(d: DeliveryRow, message: string): Promise<void> {
    this.m?.failed.inc({ type: d.channel_type, channel: d.channel });
    await markFailed(this.o.meta, d.id, this.o.owner, message);
    this.o.logger.error({ notification: d.id, channel: d.channel, err: message }, 'notification failed permanently');
  }
}
