import { z } from 'zod';
import { channelBase, render } from './render';
import { twilioBody, twilioSend } from './twilio';
import { ChannelConfigError, type ChannelContext, type Notification, type SendResult } from './types';

export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +8613800138000');

export const smsConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('sms'),
  /** Recipients; each gets its own delivery (and its own retries). */
  to: z.array(e164).min(1, 'name at least one recipient'),
});
export type SmsConfig = z.output<typeof smsConfigSchema>;

// Plain ASCII so a message stays in the GSM alphabet where possible.
const TEMPLATE = `{{ title }}
{% for a in alerts %}{{ a.status | upper }} {{ a.severity }} {{ a.rule }}{% if a.labelText %} {{ a.labelText }}{% endif %}{% if a.valueText %} ={{ a.valueText }}{% endif %}
{% endfor %}`;

/** SMS through Twilio's Messages API. */
export const smsChannel = {
  type: 'sms' as const,
  schema: smsConfigSchema,
  defaultTemplate: TEMPLATE,
  secretRefs: (): string[] => ['${ALERTING_TWILIO_AUTH_TOKEN}'],
  recipients: (c: SmsConfig): string[] => c.to,
  async send(n: Notification, config: SmsConfig, ctx: ChannelContext): Promise<SendResult> {
    if (!n.recipient) throw new ChannelConfigError('an SMS delivery needs a recipient', config.name);
    if (!ctx.config.ALERTING_TWILIO_SMS_FROM) throw new ChannelConfigError('ALERTING_TWILIO_SMS_FROM is not set', config.name);
    return twilioSend(
      config.name,
      ctx,
      { To: n.recipient, From: ctx.config.ALERTING_TWILIO_SMS_FROM, Body: twilioBody(render(config.template ?? TEMPLATE, n)) },
      n,
    );
  },
};
