import { z } from 'zod';
import { dingtalkChannel, dingtalkConfigSchema, type DingtalkConfig } from './dingtalk';
import { emailChannel, emailConfigSchema, type EmailConfig } from './email';
import { feishuChannel, feishuConfigSchema, type FeishuConfig } from './feishu';
import { logChannel, logConfigSchema, type LogConfig } from './log';
import { opsgenieChannel, opsgenieConfigSchema, type OpsgenieConfig } from './opsgenie';
import { pagerdutyChannel, pagerdutyConfigSchema, type PagerdutyConfig } from './pagerduty';
import { slackChannel, slackConfigSchema, type SlackConfig } from './slack';
import { smsChannel, smsConfigSchema, type SmsConfig } from './sms';
import type { ChannelContext, Notification, SendResult } from './types';
import { webhookChannel, webhookConfigSchema, type WebhookConfig } from './webhook';
import { wecomChannel, wecomConfigSchema, type WecomConfig } from './wecom';
import { whatsappChannel, whatsappConfigSchema, type WhatsappConfig } from './whatsapp';

export * from './types';
export { signWebhook } from './webhook';
export { twilioSignature, verifyTwilioSignature, recordTwilioStatus, applyProviderVerdict, type TwilioStatus } from './twilio-status';
export { metaSignature, verifyMetaSignature, recordMetaStatuses } from './meta-status';
export { statusCallbackUrl } from './twilio';
export { Pacer } from './pacer';
export { dingtalkSign } from './dingtalk';
export { feishuSign } from './feishu';
export { pagerdutyDedupKey } from './pagerduty';
export { opsgenieAlias } from './opsgenie';
export { render, messageContext, titleOf } from './render';

/** The config of each channel type. */
export interface ChannelConfigs {
  log: LogConfig;
  email: EmailConfig;
  wecom: WecomConfig;
  whatsapp: WhatsappConfig;
  slack: SlackConfig;
  webhook: WebhookConfig;
  sms: SmsConfig;
  dingtalk: DingtalkConfig;
  feishu: FeishuConfig;
  pagerduty: PagerdutyConfig;
  opsgenie: OpsgenieConfig;
}
export type ChannelType = keyof ChannelConfigs;
export type ChannelConfig = ChannelConfigs[ChannelType];

/** One channel type: its config schema, its one template, and the one send signature. */
export interface Channel<K extends ChannelType> {
  type: K;
  schema: z.ZodType<ChannelConfigs[K]>;
  /** The message template used when the channel config sets none. */
  defaultTemplate: string;
  /** Secret references the config uses (checked when a policy is saved). */
  secretRefs(config: ChannelConfigs[K]): string[];
  /** Present on channels that send to each recipient separately: one delivery per recipient. */
  recipients?(config: ChannelConfigs[K]): string[];
  send(notification: Notification, config: ChannelConfigs[K], ctx: ChannelContext): Promise<SendResult>;
}

/**
 * The registry. Its type makes the compiler reject a ChannelType without an
 * implementation, or an implementation whose config type is not its own.
 */
export const channels: { [K in ChannelType]: Channel<K> } = {
  log: logChannel,
  email: emailChannel,
  wecom: wecomChannel,
  whatsapp: whatsappChannel,
  slack: slackChannel,
  webhook: webhookChannel,
  sms: smsChannel,
  dingtalk: dingtalkChannel,
  feishu: feishuChannel,
  pagerduty: pagerdutyChannel,
  opsgenie: opsgenieChannel,
};

export const CHANNEL_TYPES = Object.keys(channels) as ChannelType[];

/** Any channel config, told apart by `type`. */
export const channelConfigSchema = z.discriminatedUnion('type', [
  logConfigSchema,
  emailConfigSchema,
  wecomConfigSchema,
  whatsappConfigSchema,
  slackConfigSchema,
  webhookConfigSchema,
  smsConfigSchema,
  dingtalkConfigSchema,
  feishuConfigSchema,
  pagerdutyConfigSchema,
  opsgenieConfigSchema,
]);

/** Sends through the channel of the config's type (the one place the union is narrowed). */
export function sendVia(config: ChannelConfig, n: Notification, ctx: ChannelContext): Promise<SendResult> {
  const ch = channels[config.type] as Channel<ChannelType>;
  return ch.send(n, config as never, ctx);
}

export function recipientsOf(config: ChannelConfig): (string | undefined)[] {
  const ch = channels[config.type] as Channel<ChannelType>;
  return ch.recipients ? ch.recipients(config as never) : [undefined];
}

export function secretRefsOf(config: ChannelConfig): string[] {
  const ch = channels[config.type] as Channel<ChannelType>;
  return ch.secretRefs(config as never);
}

/** The channel "log" every project has, so an alert is never routed nowhere. */
export const BUILTIN_LOG_CHANNEL: LogConfig = { name: 'log', type: 'log', level: 'warn' };
