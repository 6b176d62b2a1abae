import { z } from 'zod';
import { httpRequest, parseJson, retryAfterMs } from './http';
import { templateSchema } from '../rules/schema';
import { channelBase, PLAIN_TEMPLATE, render, secretRef, templateParam } from './render';
import { e164 } from './sms';
import { twilioBody, twilioSend } from './twilio';
import { ChannelConfigError, ChannelError, type ChannelContext, type Notification, type SendResult } from './types';

export const whatsappConfigSchema = z.strictObject({
  ...channelBase,
  type: z.literal('whatsapp'),
  /** meta: the WhatsApp Cloud API; twilio: Twilio's WhatsApp sender. */
  provider: z.enum(['meta', 'twilio']),
  /** Recipients (E.164); each gets its own delivery. */
  to: z.array(e164).min(1, 'name at least one recipient'),
  /** Meta: access token reference. */
  token: secretRef.default('${ALERTING_WHATSAPP_TOKEN}'),
  /** Meta: sender phone-number id (default ALERTING_WHATSAPP_PHONE_NUMBER_ID). */
  phone_number_id: z.string().regex(/^\d+$/, 'must be the numeric phone-number id').optional(),
  /**
   * Meta: an approved message template to send instead of free text (needed
   * outside the 24-hour customer-service window). Its body's parameters are
   * `template_parameters` ({{1}}, {{2}}, ...), by default one: the rendered
   * message on one line (Meta refuses newlines, tabs and 5+ spaces in a
   * parameter with error 132018).
   */
  template_name: z
    .string()
    .regex(/^[a-z0-9_]+$/)
    .optional(),
  template_language: z.string().default('en_US'),
  /** Meta: the body parameters, each a template rendered and made one line. Default: [the message]. */
  template_parameters: z.array(templateSchema).min(1).max(10).optional(),
  /**
   * Meta: characters all body parameters may take together (split evenly). A template body is
   * at most 1024 characters with its parameters filled in; leave room for the template's own text.
   */
  template_parameters_max_chars: z.number().int().min(10).max(1024).default(900),
  /** Twilio: an approved Content template (HX...) to send instead of Body (needed outside the 24-hour window). */
  content_sid: z
    .string()
    .regex(/^HX[0-9a-fA-F]{32}$/, 'must be a Twilio Content SID (HX + 32 hex digits)')
    .optional(),
  /** Twilio: the template's variables {"1": template, ...}, each rendered on one line. Default: {"1": the message}. */
  content_variables: z.record(z.string().regex(/^\d{1,2}$/, 'variables are numbered: "1", "2", ...'), templateSchema).optional(),
});
export type WhatsappConfig = z.output<typeof whatsappConfigSchema>;

/**
 * Meta error codes that mean "later": 1/2 temporary, 4 and 80007 API rate
 * limits, 130429 throughput, 131048 spam rate limit, 131056 pair rate limit,
 * 131000 generic. Others (131026 undeliverable, 131047 outside the 24-hour window,
 * 100 bad parameter, 190 expired token) are permanent.
 */
const META_RETRIABLE = new Set([1, 2, 4, 80007, 130429, 131000, 131048, 131056]);

async function sendMeta(n: Notification, c: WhatsappConfig, ctx: ChannelContext, text: string): Promise<SendResult> {
  const phoneId = c.phone_number_id ?? ctx.config.ALERTING_WHATSAPP_PHONE_NUMBER_ID;
  if (!phoneId) throw new ChannelConfigError('no WhatsApp phone-number id (phone_number_id or ALERTING_WHATSAPP_PHONE_NUMBER_ID)', c.name);
  const token = ctx.secret(c.token);
  const to = (n.recipient ?? '').replace(/^\+/, '');
  const message = c.template_name
    ? {
        type: 'template',
        template: { name: c.template_name, language: { code: c.template_language }, components: [{ type: 'body', parameters: metaParameters(n, c, text) }] },
      }
    : { type: 'text', text: { preview_url: false, body: text.slice(0, 4096) } };
  const body = { messaging_product: 'whatsapp', recipient_type: 'individual', to, biz_opaque_callback_data: n.idempotencyKey, ...message };
  const res = await httpRequest(
    c.name,
    `${ctx.config.ALERTING_WHATSAPP_API_URL.replace(/\/+$/, '')}/${phoneId}/messages`,
    { headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) },
    ctx.timeoutMs,
  );
  const j = parseJson(res.text) as { messages?: { id?: string }[]; error?: { message?: string; code?: number; error_subcode?: number } } | undefined;
  if (res.status >= 200 && res.status < 300 && j?.messages?.[0]?.id) return { status: res.status, providerId: j.messages[0].id };
  const code = j?.error?.code;
  const retriable = res.status >= 500 || res.status === 429 || (code !== undefined && META_RETRIABLE.has(code)) || (res.status < 300 && !j);
  const after = retryAfterMs(res.headers.get('retry-after'));
  throw new ChannelError(
    `WhatsApp Cloud API HTTP ${res.status}${code !== undefined ? ` code ${code}` : ''}: ${(j?.error?.message ?? res.text).slice(0, 200)}`,
    {
      channel: c.name,
      retriable,
      httpStatus: res.status,
      ...(code !== undefined ? { providerCode: code } : {}),
      ...(after !== undefined ? { retryAfterMs: after } : {}),
    },
  );
}

/** The template's body parameters, each one line within its share of the length budget. */
function metaParameters(n: Notification, c: WhatsappConfig, text: string): { type: 'text'; text: string }[] {
  const raw = c.template_parameters ? c.template_parameters.map((t) => render(t, n)) : [text];
  const each = Math.floor(c.template_parameters_max_chars / raw.length);
  // An empty parameter is refused too (131008/132000); a dash keeps the count the template expects.
  return raw.map((r) => ({ type: 'text' as const, text: templateParam(r, each) || '-' }));
}

/** Twilio Content variables: JSON {"1": "..."}; the WhatsApp rules of template parameters apply. */
function twilioVariables(n: Notification, c: WhatsappConfig, text: string): string {
  const vars = c.content_variables ? Object.entries(c.content_variables).map(([k, t]) => [k, render(t, n)] as const) : [['1', text] as const];
  return JSON.stringify(Object.fromEntries(vars.map(([k, v]) => [k, templateParam(v, 1024) || '-'])));
}

/** WhatsApp through Meta's Cloud API (POST /{phone-number-id}/messages) or Twilio (whatsapp: addresses). */
export const whatsappChannel = {
  type: 'whatsapp' as const,
  schema: whatsappConfigSchema,
  defaultTemplate: PLAIN_TEMPLATE,
  secretRefs: (c: WhatsappConfig): string[] => (c.provider === 'meta' ? [c.token] : ['${ALERTING_TWILIO_AUTH_TOKEN}']),
  recipients: (c: WhatsappConfig): string[] => c.to,
  async send(n: Notification, config: WhatsappConfig, ctx: ChannelContext): Promise<SendResult> {
    if (!n.recipient) throw new ChannelConfigError('a WhatsApp delivery needs a recipient', config.name);
    const text = render(config.template ?? PLAIN_TEMPLATE, n);
    if (config.provider === 'meta') return sendMeta(n, config, ctx, text);
    const from = ctx.config.ALERTING_TWILIO_WHATSAPP_FROM;
    if (!from) throw new ChannelConfigError('ALERTING_TWILIO_WHATSAPP_FROM is not set', config.name);
    const content = config.content_sid ? { ContentSid: config.content_sid, ContentVariables: twilioVariables(n, config, text) } : { Body: twilioBody(text) };
    return twilioSend(config.name, ctx, { To: `whatsapp:${n.recipient}`, From: `whatsapp:${from}`, ...content }, n);
  },
};
