import { z } from 'zod';
import { channelBase, PLAIN_TEMPLATE, render } from './render';
import type { ChannelContext, Notification, SendResult } from './types';

export const logConfigSchema = z.strictObject({ ...channelBase, type: z.literal('log'), level: z.enum(['info', 'warn', 'error']).default('warn') });
export type LogConfig = z.output<typeof logConfigSchema>;

/** Writes the notification to the process log (pino). Always available as channel "log": nothing is ever routed nowhere. */
export const logChannel = {
  type: 'log' as const,
  schema: logConfigSchema,
  defaultTemplate: PLAIN_TEMPLATE,
  secretRefs: (): string[] => [],
  async send(n: Notification, config: LogConfig, ctx: ChannelContext): Promise<SendResult> {
    const text = render(config.template ?? PLAIN_TEMPLATE, n);
    ctx.logger[config.level](
      {
        channel: config.name,
        notificationId: n.id,
        idempotencyKey: n.idempotencyKey,
        status: n.status,
        alerts: n.alerts.map((a) => ({ rule: a.rule, status: a.status, severity: a.severity, labels: a.labels, value: a.value, dedupKey: a.dedupKey })),
        text,
      },
      'alert notification',
    );
    return {};
  },
};
