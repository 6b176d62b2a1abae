import nodemailer, { type Transporter } from 'nodemailer';
import { z } from 'zod';
import { channelBase, render } from './render';
import { ChannelConfigError, ChannelError, type ChannelContext, type Notification, type SendResult } from './types';

const address = z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an email address');

export const emailConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('email'),
  to: z.array(address).min(1, 'name at least one recipient'),
  cc: z.array(address).default([]),
  /** Subject template; the body is `template`. */
  subject: z.string().max(1000).default('{{ title }}'),
});
export type EmailConfig = z.output<typeof emailConfigSchema>;

const TEMPLATE = `{{ title }}

{{#each alerts}}{{ status | upper }} [{{ severity }}] {{ rule }}{{#if acknowledged}} (acknowledged){{/if}}
{{#each labels}}  {{ key }}: {{ value }}
{{/each}}{{#if valueText}}  value: {{ valueText }}
{{/if}}{{#each annotations}}  {{ key }}: {{ value }}
{{/each}}  since: {{ startsAt | time }}{{#if endsAt}}, resolved: {{ endsAt | time }}{{/if}}

{{/each}}{{#if omitted}}... and {{ omitted }} more alerts
{{/if}}-- 
Tidemark alerting, project {{ projectId }}, notification {{ idempotencyKey }}
`;

function transportFor(ctx: ChannelContext, name: string): Transporter {
  const c = ctx.config;
  if (!c.ALERTING_SMTP_HOST) throw new ChannelConfigError('ALERTING_SMTP_HOST is not set: email channels cannot send', name);
  const key = `${c.ALERTING_SMTP_HOST}|${c.ALERTING_SMTP_PORT}|${c.ALERTING_SMTP_SECURE}|${c.ALERTING_SMTP_USER ?? ''}|${ctx.timeoutMs}`;
  let t = ctx.transports.get(key) as Transporter | undefined;
  if (!t) {
    t = nodemailer.createTransport({
      host: c.ALERTING_SMTP_HOST,
      port: c.ALERTING_SMTP_PORT,
      secure: c.ALERTING_SMTP_SECURE,
      ...(c.ALERTING_SMTP_USER ? { auth: { user: c.ALERTING_SMTP_USER, pass: c.ALERTING_SMTP_PASSWORD } } : {}),
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
    });
    ctx.transports.set(key, t);
  }
  return t;
}

/** SMTP reply codes 4xx and connection problems are retriable; 5xx replies (and bad credentials) are permanent. */
function classify(err: unknown, channel: string): ChannelError {
  const e = err as Error & { responseCode?: number; code?: string; response?: string };
  const code = e.responseCode;
  const retriable = code !== undefined ? code >= 400 && code < 500 : e.code !== 'EAUTH' && e.code !== 'EENVELOPE' && e.code !== 'EMESSAGE';
  return new ChannelError(`SMTP ${code ?? e.code ?? 'error'}: ${(e.response ?? e.message).slice(0, 300)}`, {
    channel,
    retriable,
    ...(code !== undefined ? { providerCode: code } : e.code ? { providerCode: e.code } : {}),
    cause: err,
  });
}

/**
 * Email through SMTP (nodemailer). The Message-ID is derived from the
 * idempotency key, so a resend after a crash carries the same id and mail
 * systems that deduplicate on it show it once.
 */
export const emailChannel = {
  type: 'email' as const,
  schema: emailConfigSchema,
  defaultTemplate: TEMPLATE,
  secretRefs: (): string[] => [],
  async send(n: Notification, config: EmailConfig, ctx: ChannelContext): Promise<SendResult> {
    const transport = transportFor(ctx, config.name);
    try {
      const info = (await transport.sendMail({
        from: ctx.config.ALERTING_SMTP_FROM,
        to: config.to,
        ...(config.cc.length > 0 ? { cc: config.cc } : {}),
        subject: render(config.subject, n).replace(/[\r\n]+/g, ' ').slice(0, 900),
        text: render(config.template ?? TEMPLATE, n),
        messageId: `<${n.idempotencyKey}@tidemark.alerts>`,
        headers: { 'X-Tidemark-Idempotency-Key': n.idempotencyKey, 'X-Tidemark-Status': n.status },
      })) as { messageId?: string; response?: string };
      const status = Number(/^(\d{3})/.exec(info.response ?? '')?.[1] ?? 250);
      return { status, ...(info.messageId ? { providerId: info.messageId } : {}) };
    } catch (err) {
      throw classify(err, config.name);
    }
  },
};
