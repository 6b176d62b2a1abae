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

{% for a in alerts %}{{ a.status | upper }} [{{ a.severity }}] {{ a.rule }}{% if a.acknowledged %} (acknowledged){% endif %}
{% for l in a.labels %}  {{ l[0] }}: {{ l[1] }}
{% endfor %}{% if a.valueText %}  value: {{ a.valueText }}
{% endif %}{% for n in a.annotations %}  {{ n[0] }}: {{ n[1] }}
{% endfor %}  since: {{ a.startsAt | time }}{% if a.endsAt %}, resolved: {{ a.endsAt | time }}{% endif %}

{% endfor %}{% if omitted %}... and {{ omitted }} more alerts
{% endif %}-- 
Tidemark alerting, project {{ projectId }}, notification {{ idempotencyKey }}
`;

function transportFor(ctx: ChannelContext, name: string): Transporter {
  const c = ctx.config;
  if (!c.ALERTING_SMTP_HOST) throw new ChannelConfigError('ALERTING_SMTP_HOST is not set: email channels cannot send', name);
  // Credentials never travel in cleartext: with a user, no implicit TLS and ALERTING_SMTP_REQUIRE_TLS,
  // the connection must upgrade with STARTTLS before AUTH, or the send fails (permanently).
  const requireTLS = Boolean(c.ALERTING_SMTP_USER) && !c.ALERTING_SMTP_SECURE && c.ALERTING_SMTP_REQUIRE_TLS;
  const key = `${c.ALERTING_SMTP_HOST}|${c.ALERTING_SMTP_PORT}|${c.ALERTING_SMTP_SECURE}|${requireTLS}|${c.ALERTING_SMTP_USER ?? ''}|${ctx.timeoutMs}`;
  let t = ctx.transports.get(key) as Transporter | undefined;
  if (!t) {
    t = nodemailer.createTransport({
      host: c.ALERTING_SMTP_HOST,
      port: c.ALERTING_SMTP_PORT,
      secure: c.ALERTING_SMTP_SECURE,
      requireTLS,
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
  if (e.code === 'ETLS' || (e.code === 'ECONNECTION' && /STARTTLS/i.test(e.message))) {
    // A server without STARTTLS stays without it: retrying would not make sending the password safe.
    return new ChannelError(
      `SMTP server did not upgrade the connection with STARTTLS; credentials not sent (ALERTING_SMTP_REQUIRE_TLS): ${e.message.slice(0, 200)}`,
      {
        channel,
        retriable: false,
        providerCode: 'STARTTLS_REQUIRED',
        cause: err,
      },
    );
  }
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
        subject: render(config.subject, n)
          .replace(/[\r\n]+/g, ' ')
          .slice(0, 900),
        text: render(config.template ?? TEMPLATE, n),
        messageId: `<${n.idempotencyKey}@tidemark.alerts>`,
        headers: { 'X-Tidemark-Idempotency-Key': n.idempotencyKey, 'X-Tidemark-Status': n.status },
      })) as {
        messageId?: string;
        response?: string;
        accepted?: unknown[];
        rejected?: unknown[];
        rejectedErrors?: (Error & { response?: string; recipient?: string })[];
      };
      const status = Number(/^(\d{3})/.exec(info.response ?? '')?.[1] ?? 250);
      // The server answers each RCPT on its own: a message accepted for some recipients and refused
      // (550) for others is a partial failure, recorded per recipient, never plain "sent".
      const addr = (a: unknown): string => (typeof a === 'string' ? a : String((a as { address?: string }).address ?? a));
      const recipientResults: NonNullable<SendResult['recipientResults']> = {};
      for (const a of info.accepted ?? []) recipientResults[addr(a)] = { accepted: true, ...(info.response ? { response: info.response.slice(0, 200) } : {}) };
      const rejected = (info.rejected ?? []).map(addr);
      rejected.forEach((r, i) => {
        const why = info.rejectedErrors?.find((e) => e.recipient === r) ?? info.rejectedErrors?.[i];
        recipientResults[r] = { accepted: false, response: (why?.response ?? why?.message ?? 'rejected').slice(0, 200) };
      });
      return {
        status,
        ...(info.messageId ? { providerId: info.messageId } : {}),
        recipientResults,
        ...(rejected.length > 0
          ? {
              partial:
                `SMTP refused ${rejected.length} of ${rejected.length + (info.accepted?.length ?? 0)} recipients: ${rejected.map((r) => `${r} (${recipientResults[r]?.response ?? ''})`).join('; ')}`.slice(
                  0,
                  1000,
                ),
            }
          : {}),
      };
    } catch (err) {
      throw classify(err, config.name);
    }
  },
};
