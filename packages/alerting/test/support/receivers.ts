/**
 * Real receivers on loopback, each speaking its service's documented API:
 * request shapes and authentication are checked the way the service would,
 * and failures are answered in the service's own error format.
 *
 * - Slack incoming webhook: POST JSON {text}; 200 "ok"; errors are plain
 *   text (500 rollup_error, 404 no_service, 429 + Retry-After).
 * - WeCom group robot: POST /cgi-bin/webhook/send?key=KEY, JSON
 *   {msgtype, markdown|text}; ALWAYS HTTP 200 with {errcode, errmsg}.
 * - WhatsApp Cloud API: POST /{version}/{phone-number-id}/messages with
 *   Bearer token; 200 {messaging_product, contacts, messages:[{id}]};
 *   errors {error:{message,type,code,error_subcode,fbtrace_id}}.
 * - Twilio Messages: POST /2010-04-01/Accounts/{sid}/Messages.json,
 *   form-encoded, basic auth; 201 {sid,...}; errors {code,message,more_info,status}.
 * - Generic webhook: verifies the HMAC signature and honours Idempotency-Key.
 * - SMTP: the smtp-server package with AUTH; a failure is a 451 reply.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** How a receiver answers right now. */
export type Mode = 'ok' | 'fail' | 'reject' | 'hang';

export interface Received {
  /** Time on the test's clock when the request arrived. */
  at: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The message text the service would show (parsed per service). */
  text: string;
  /** Whether the receiver accepted it (answered success). */
  accepted: boolean;
}

export interface Receiver {
  name: string;
  url: string;
  received: Received[];
  /** Accepted messages only. */
  accepted(): Received[];
  setMode(m: Mode | (() => Mode)): void;
  close(): Promise<void>;
}

abstract class HttpReceiver implements Receiver {
  readonly received: Received[] = [];
  url = '';
  protected mode: () => Mode = () => 'ok';
  /** Delay before answering an accepted request: the sender may die in between (crash tests). */
  holdAcceptedMs = 0;
  private server: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();

  constructor(
    readonly name: string,
    protected readonly now: () => number,
  ) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const mode = this.mode();
        if (mode === 'hang') {
          // Never answers: the sender's timeout must fire.
          this.hanging.add(res);
          this.received.push({ at: this.now(), path: req.url ?? '', headers: req.headers, body, text: '', accepted: false });
          return;
        }
        let out: { status: number; body: string; headers?: Record<string, string>; text: string; accepted: boolean };
        try {
          out = this.handle(req, body, mode);
        } catch (err) {
          out = { status: 400, body: `test receiver: ${(err as Error).message}`, text: '', accepted: false };
        }
        this.received.push({ at: this.now(), path: req.url ?? '', headers: req.headers, body, text: out.text, accepted: out.accepted });
        const answer = (): void => {
          if (res.destroyed) return;
          res.writeHead(out.status, { 'content-type': out.body.startsWith('{') ? 'application/json' : 'text/plain', ...out.headers });
          res.end(out.body);
        };
        const delay = out.accepted ? this.holdAcceptedMs : 0;
        if (delay > 0) {
          this.hanging.add(res);
          setTimeout(answer, delay);
        } else answer();
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  accepted(): Received[] {
    return this.received.filter((r) => r.accepted);
  }

  setMode(m: Mode | (() => Mode)): void {
    this.mode = typeof m === 'function' ? m : () => m;
  }

  protected abstract handle(
    req: http.IncomingMessage,
    body: string,
    mode: Mode,
  ): { status: number; body: string; headers?: Record<string, string>; text: string; accepted: boolean };

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export class SlackReceiver extends HttpReceiver {
  /** The incoming-webhook path: it is the credential. */
  readonly hookPath = '/services/T0TIDEMARK/B0ALERTS/s3cr3tSlackToken';

  get webhookUrl(): string {
    return `${this.url}${this.hookPath}`;
  }

  protected handle(req: http.IncomingMessage, body: string, mode: Mode) {
    if (req.url !== this.hookPath) return { status: 404, body: 'no_service', text: '', accepted: false };
    if (req.headers['content-type'] !== 'application/json') return { status: 400, body: 'invalid_payload', text: '', accepted: false };
    const j = JSON.parse(body) as { text?: unknown };
    if (typeof j.text !== 'string' || j.text === '') return { status: 400, body: 'no_text', text: '', accepted: false };
    if (mode === 'fail') return { status: 500, body: 'rollup_error', text: j.text, accepted: false };
    if (mode === 'reject') return { status: 404, body: 'channel_not_found', text: j.text, accepted: false };
    return { status: 200, body: 'ok', text: j.text, accepted: true };
  }
}

export class WecomReceiver extends HttpReceiver {
  readonly key = 'wecom-robot-key-0123456789';

  protected handle(req: http.IncomingMessage, body: string, mode: Mode) {
    const u = new URL(req.url ?? '/', 'http://x');
    // WeCom answers 200 even for errors; the errcode says what happened.
    const err = (errcode: number, errmsg: string, text = '') => ({ status: 200, body: JSON.stringify({ errcode, errmsg }), text, accepted: false });
    if (u.pathname !== '/cgi-bin/webhook/send') return { status: 404, body: 'not found', text: '', accepted: false };
    if (u.searchParams.get('key') !== this.key) return err(93000, 'invalid webhook url, hint: [1700000000_1_abc]');
    const j = JSON.parse(body) as { msgtype?: string; markdown?: { content?: string }; text?: { content?: string } };
    const content = j.msgtype === 'markdown' ? j.markdown?.content : j.msgtype === 'text' ? j.text?.content : undefined;
    if (typeof content !== 'string') return err(40008, 'invalid message type');
    if (Buffer.byteLength(content) > (j.msgtype === 'markdown' ? 4096 : 2048)) return err(45002, 'content size out of limit');
    if (mode === 'fail') return err(-1, 'system error, hint: busy', content);
    if (mode === 'reject') return err(93000, 'invalid webhook url', content);
    return { status: 200, body: JSON.stringify({ errcode: 0, errmsg: 'ok' }), text: content, accepted: true };
  }
}

export class WhatsappCloudReceiver extends HttpReceiver {
  readonly phoneNumberId = '106540352242922';
  readonly token = 'EAAGm0PX4ZCpsBAMetaTestToken';
  private seq = 0;

  get apiUrl(): string {
    return `${this.url}/v21.0`;
  }

  protected handle(req: http.IncomingMessage, body: string, mode: Mode) {
    const error = (status: number, code: number, message: string, type = 'OAuthException') => ({
      status,
      body: JSON.stringify({ error: { message, type, code, error_subcode: 2494010, fbtrace_id: 'AbCdEf123' } }),
      text: '',
      accepted: false,
    });
    if (req.url !== `/v21.0/${this.phoneNumberId}/messages`) return error(400, 100, 'Unsupported post request', 'GraphMethodException');
    if (req.headers.authorization !== `Bearer ${this.token}`) return error(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    const j = JSON.parse(body) as { messaging_product?: string; to?: string; type?: string; text?: { body?: string } };
    if (j.messaging_product !== 'whatsapp') return error(400, 100, '(#100) The parameter messaging_product is required.');
    if (!/^\d{7,15}$/.test(j.to ?? '')) return error(400, 100, '(#100) Invalid parameter to');
    if (j.type !== 'text' || typeof j.text?.body !== 'string') return error(400, 100, '(#100) Param text[body] is required');
    if (mode === 'fail') return { ...error(503, 2, 'Service temporarily unavailable'), text: j.text.body };
    if (mode === 'reject') return { ...error(400, 131030, '(#131030) Recipient phone number not in allowed list'), text: j.text.body };
    return {
      status: 200,
      body: JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: j.to, wa_id: j.to }], messages: [{ id: `wamid.HBgL${++this.seq}` }] }),
      text: j.text.body,
      accepted: true,
    };
  }
}

export class TwilioReceiver extends HttpReceiver {
  readonly accountSid = 'AC0123456789abcdef0123456789abcdef';
  readonly authToken = 'twilio-auth-token-fedcba9876543210';
  private seq = 0;

  protected handle(req: http.IncomingMessage, body: string, mode: Mode) {
    const error = (status: number, code: number, message: string) => ({
      status,
      body: JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }),
      text: '',
      accepted: false,
    });
    if (req.url !== `/2010-04-01/Accounts/${this.accountSid}/Messages.json`) return error(404, 20404, 'The requested resource was not found');
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return error(401, 20003, 'Authentication Error - invalid username');
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return error(400, 20001, 'Invalid content type');
    const form = new URLSearchParams(body);
    const to = form.get('To') ?? '';
    const from = form.get('From') ?? '';
    const text = form.get('Body') ?? '';
    if (!/^(whatsapp:)?\+\d{7,15}$/.test(to)) return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!/^(whatsapp:)?\+\d{7,15}$/.test(from)) return error(400, 21606, `The From phone number ${from} is not a valid, SMS-capable inbound phone number`);
    if (text.length === 0 || text.length > 1600) return error(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (mode === 'fail') return { ...error(503, 20503, 'Service Unavailable'), text };
    if (mode === 'reject') return { ...error(400, 21211, `The 'To' number ${to} is not a valid phone number.`), text };
    return {
      status: 201,
      body: JSON.stringify({ sid: `SM${(++this.seq).toString().padStart(32, '0')}`, status: 'queued', to, from, body: text, account_sid: this.accountSid }),
      text,
      accepted: true,
    };
  }
}

/** Verifies X-Tidemark-Signature and processes each Idempotency-Key once. */
export class WebhookReceiver extends HttpReceiver {
  readonly secret = 'whsec-test-0123456789';
  /** Keys processed, with how many requests carried each. */
  readonly processed = new Map<string, number>();
  readonly duplicates: string[] = [];

  protected handle(req: http.IncomingMessage, body: string, mode: Mode) {
    const ts = String(req.headers['x-tidemark-timestamp'] ?? '');
    const sig = String(req.headers['x-tidemark-signature'] ?? '');
    const expected = `v1=${crypto.createHmac('sha256', this.secret).update(`${ts}.${body}`).digest('hex')}`;
    if (sig.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected)))
      return { status: 401, body: '{"error":"bad signature"}', text: '', accepted: false };
    const key = String(req.headers['idempotency-key'] ?? '');
    if (!key) return { status: 400, body: '{"error":"Idempotency-Key required"}', text: '', accepted: false };
    const j = JSON.parse(body) as { message?: string };
    if (mode === 'fail') return { status: 503, body: '{"error":"unavailable"}', text: j.message ?? '', accepted: false };
    if (mode === 'reject') return { status: 422, body: '{"error":"unprocessable"}', text: j.message ?? '', accepted: false };
    if (this.processed.has(key)) {
      this.processed.set(key, (this.processed.get(key) ?? 0) + 1);
      this.duplicates.push(key);
      return { status: 200, body: '{"duplicate":true}', text: j.message ?? '', accepted: false };
    }
    this.processed.set(key, 1);
    return { status: 200, body: '{"ok":true}', text: j.message ?? '', accepted: true };
  }

  /** Parsed bodies of accepted (first-time) requests. */
  notifications(): {
    at: number;
    body: Record<string, unknown> & {
      alerts: { rule: string; status: string; isNew: boolean; dedupKey: string; labels: Record<string, string>; acknowledged: boolean }[];
      isRepeat: boolean;
      status: string;
    };
  }[] {
    return this.accepted().map((r) => ({ at: r.at, body: JSON.parse(r.body) }));
  }
}

export interface SmtpMessage {
  at: number;
  from: string;
  to: string[];
  raw: string;
  subject: string;
  messageId: string;
  accepted: boolean;
}

/** An SMTP server (smtp-server) requiring AUTH; fail mode answers 451 (temporary), reject mode 550. */
export class SmtpReceiver implements Receiver {
  readonly name = 'smtp';
  readonly user = 'alerts';
  readonly password = 'smtp-pass-0123';
  readonly received: (Received & { mail: SmtpMessage })[] = [];
  url = '';
  port = 0;
  private mode: () => Mode = () => 'ok';
  private readonly server: SMTPServer;

  constructor(private readonly now: () => number) {
    this.server = new SMTPServer({
      // Loopback test server: no TLS certificate, so STARTTLS is off (production SMTP negotiates it).
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authOptional: false,
      logger: false,
      onAuth: (auth, _session, cb) => {
        if (auth.username === this.user && auth.password === this.password) cb(null, { user: auth.username });
        else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const header = (name: string): string =>
            new RegExp(`^${name}:\\s*(.*(?:\\r?\\n[ \\t].*)*)`, 'im')
              .exec(raw)?.[1]
              ?.replace(/\r?\n[ \t]/g, ' ')
              .trim() ?? '';
          const mode = this.mode();
          const mail: SmtpMessage = {
            at: this.now(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            subject: header('Subject'),
            messageId: header('Message-ID'),
            accepted: mode === 'ok',
          };
          this.received.push({ at: mail.at, path: '', headers: {}, body: raw, text: raw, accepted: mail.accepted, mail });
          if (mode === 'fail') cb(Object.assign(new Error('Requested action aborted: local error in processing'), { responseCode: 451 }));
          else if (mode === 'reject') cb(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
          else cb();
        });
      },
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.server.address() as AddressInfo).port;
    this.url = `smtp://127.0.0.1:${this.port}`;
    return this;
  }

  accepted(): Received[] {
    return this.received.filter((r) => r.accepted);
  }

  setMode(m: Mode | (() => Mode)): void {
    this.mode = typeof m === 'function' ? m : () => m;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface ReceiverSet {
  slack: SlackReceiver;
  wecom: WecomReceiver;
  whatsapp: WhatsappCloudReceiver;
  twilio: TwilioReceiver;
  webhook: WebhookReceiver;
  smtp: SmtpReceiver;
  all: Receiver[];
  /** Config keys pointing the channels at these receivers. */
  configKeys(): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startReceivers(now: () => number = Date.now): Promise<ReceiverSet> {
  const slack = await new SlackReceiver('slack', now).listen();
  const wecom = await new WecomReceiver('wecom', now).listen();
  const whatsapp = await new WhatsappCloudReceiver('whatsapp', now).listen();
  const twilio = await new TwilioReceiver('twilio', now).listen();
  const webhook = await new WebhookReceiver('webhook', now).listen();
  const smtp = await new SmtpReceiver(now).listen();
  const all: Receiver[] = [slack, wecom, whatsapp, twilio, webhook, smtp];
  return {
    slack,
    wecom,
    whatsapp,
    twilio,
    webhook,
    smtp,
    all,
    configKeys: () => ({
      ALERTING_SLACK_WEBHOOK_SECRET_URL: slack.webhookUrl,
      ALERTING_WECOM_URL: `${wecom.url}/cgi-bin/webhook/send`,
      ALERTING_WECOM_KEY: wecom.key,
      ALERTING_WHATSAPP_API_URL: whatsapp.apiUrl,
      ALERTING_WHATSAPP_PHONE_NUMBER_ID: whatsapp.phoneNumberId,
      ALERTING_WHATSAPP_TOKEN: whatsapp.token,
      ALERTING_TWILIO_API_URL: twilio.url,
      ALERTING_TWILIO_ACCOUNT_SID: twilio.accountSid,
      ALERTING_TWILIO_AUTH_TOKEN: twilio.authToken,
      ALERTING_TWILIO_SMS_FROM: '+15005550006',
      ALERTING_TWILIO_WHATSAPP_FROM: '+14155238886',
      ALERTING_WEBHOOK_SECRET: webhook.secret,
      ALERTING_SMTP_HOST: '127.0.0.1',
      ALERTING_SMTP_PORT: smtp.port,
      ALERTING_SMTP_USER: smtp.user,
      ALERTING_SMTP_PASSWORD: smtp.password,
      ALERTING_SMTP_FROM: 'tidemark@example.test',
      // This SMTP receiver has no certificate (STARTTLS off), and the WeCom one no rate limit; the
      // STARTTLS requirement and the robot pacing have their own tests (channels-conformance).
      ALERTING_SMTP_REQUIRE_TLS: false,
      ALERTING_WECOM_RATE_LIMIT: 100_000,
    }),
    async close() {
      await Promise.all(all.map((r) => r.close()));
    },
  };
}
