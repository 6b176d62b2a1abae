import type { Logger } from '@tidemark/core';
import type { AlertingRoleConfig } from '../settings';
import { TidemarkError } from '@tidemark/core';
import type { Severity } from '../rules/schema';
import type { InstanceKind } from '../state/types';

/** One alert inside a notification. */
export interface NotificationAlert {
  rule: string;
  fingerprint: string;
  kind: InstanceKind;
  status: 'firing' | 'resolved';
  severity: Severity;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  startsAt: string;
  endsAt: string | null;
  /** hash(rule, fingerprint, state, episode). */
  dedupKey: string;
  /** This alert's status is new in this notification (not a repeat of an earlier one). */
  isNew: boolean;
  acknowledged: boolean;
}

/**
 * What every channel gets: one group's notification. Channels render it
 * with their one template; nothing here is channel-specific.
 */
export interface Notification {
  /** Delivery id (alert_notifications.id); 0 for test sends. */
  id: number;
  projectId: string;
  /** Receivers deduplicate on it; the same for every attempt of this delivery. */
  idempotencyKey: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  /** firing when any alert in it is firing. */
  status: 'firing' | 'resolved';
  /** Highest severity among the firing alerts (of all alerts when none fires). */
  severity: Severity;
  alerts: NotificationAlert[];
  firingCount: number;
  resolvedCount: number;
  /** Alerts left out because of the per-notification cap. */
  omitted: number;
  /** Labels every alert shares, and annotations every alert shares. */
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  isRepeat: boolean;
  isTest: boolean;
  /** For channels that fan out per recipient (SMS, WhatsApp): this delivery's recipient. */
  recipient?: string;
  createdAt: string;
}

/** What a channel may use besides its config: settings, secrets, a logger, the time limit. */
export interface ChannelContext {
  config: AlertingRoleConfig;
  logger: Logger;
  /** Resolves a `${NAME}` reference to its secret. @throws ChannelConfigError when unset. */
  secret(ref: string): string;
  timeoutMs: number;
  /** Reused SMTP transports, keyed by their settings. */
  transports: Map<string, unknown>;
}

export interface SendResult {
  /** HTTP status or SMTP reply code of the accepted send. */
  status?: number;
  /** Provider's message id, for the attempt record. */
  providerId?: string;
  /**
   * Set when the receiver accepted the message for some recipients and refused others
   * (SMTP: a RCPT answered 550). The delivery is recorded as `partial`, not `sent`, and not
   * retried: the refusals are permanent and a resend would repeat it to the accepted ones.
   */
  partial?: string;
  /** Per-recipient results of a send to several recipients (email), kept with the delivery. */
  recipientResults?: Record<string, { accepted: boolean; response?: string }>;
}

/**
 * A send failed. `retriable` says whether the same send may succeed later
 * (5xx, timeouts, rate limits, WeCom busy codes); a 4xx or a rejected
 * payload is permanent and is not retried.
 */
export class ChannelError extends TidemarkError<{ channel: string; httpStatus?: number; providerCode?: string | number }> {
  constructor(
    message: string,
    opts: { channel: string; retriable: boolean; httpStatus?: number; providerCode?: string | number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(
      message,
      { code: opts.retriable ? 'CHANNEL_UNAVAILABLE' : 'CHANNEL_REJECTED', retriable: opts.retriable, statusCode: 502 },
      {
        context: {
          channel: opts.channel,
          ...(opts.httpStatus !== undefined ? { httpStatus: opts.httpStatus } : {}),
          ...(opts.providerCode !== undefined ? { providerCode: opts.providerCode } : {}),
        },
        ...(opts.retryAfterMs !== undefined ? { retryAfterMs: opts.retryAfterMs } : {}),
        ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
      },
    );
  }
}

/** A channel cannot send because its configuration is incomplete (a missing secret, no SMTP host). Permanent. */
export class ChannelConfigError extends TidemarkError<{ channel: string }> {
  constructor(message: string, channel: string) {
    super(message, { code: 'CHANNEL_CONFIG_INVALID', retriable: false, statusCode: 400 }, { context: { channel } });
  }
}
