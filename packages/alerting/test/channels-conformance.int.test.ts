/**
 * Channel conformance (issue 16): each channel against a loopback server that
 * answers as its vendor documents (success, the documented errors, rate
 * limits, asynchronous status callbacks). Each test asserts the exact request
 * and the outcome recorded in the notification log (alert_notifications and
 * its attempts), going through the real Sender (claim, send, record) on the
 * real Postgres. No ClickHouse: nothing here evaluates rules.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { SMTPServer } from 'smtp-server';
import { Registry } from '@tidemark/core';
import { AlertingService, systemClock, twilioSignature, type Notification, type PolicyInput } from '../src';
import { dingtalkSign, feishuSign, metaSignature, opsgenieAlias, pagerdutyDedupKey } from '../src/channels';
import { Sender } from '../src/notify/sender';
import { startTestEnv, type TestEnv } from './support/env';

// The API's own route (packages/api/src/routes/twilio-status.ts), loaded from source: a type import
// would pull the api package into this package's compilation, which its rootDir forbids.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { twilioStatusMiddleware } = require('../../api/src/routes/twilio-status') as {
  twilioStatusMiddleware: (deps: { alerting: AlertingService; logger: TestEnv['logger'] }) => Koa.Middleware;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { whatsappWebhookMiddleware } = require('../../api/src/routes/whatsapp-webhook') as {
  whatsappWebhookMiddleware: (deps: { alerting: AlertingService; logger: TestEnv['logger'] }) => Koa.Middleware;
};

// ------------------------------------------------------------------ a vendor on loopback

interface VendorRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => any;
  form: () => URLSearchParams;
}
interface VendorAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** One HTTP server per test file; each test sets how it answers (as the vendor documents) and reads what it received. */
class Vendor {
  readonly requests: VendorRequest[] = [];
  answer: (r: VendorRequest) => VendorAnswer = () => ({ status: 200, body: {} });
  url = '';
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      const r: VendorRequest = {
        method: req.method ?? '',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
        json: () => JSON.parse(body),
        form: () => new URLSearchParams(body),
      };
      this.requests.push(r);
      const a = this.answer(r);
      res.writeHead(a.status, { 'content-type': typeof a.body === 'string' ? 'text/plain' : 'application/json', ...a.headers });
      res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
    });
  });

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  reset(answer: (r: VendorRequest) => VendorAnswer): void {
    this.requests.length = 0;
    this.answer = answer;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

// ------------------------------------------------------------------ the pipeline under test

let env: TestEnv;
let vendor: Vendor;
const registry = new Registry();

beforeAll(async () => {
  env = await startTestEnv('conformance', { clickhouse: false });
  vendor = await new Vendor().listen();
});

afterAll(async () => {
  await vendor?.close();
  await env?.stop();
});

const TWILIO_TOKEN = 'twilio-auth-token-0123456789';
const CALLBACK_BASE = 'https://tidemark.example.test/api/alerting/twilio/status';

function config(extra: Record<string, unknown> = {}) {
  return env.config({
    ALERTING_WECOM_URL: `${vendor.url}/cgi-bin/webhook/send`,
    ALERTING_WECOM_KEY: 'wecom-key-0123',
    ALERTING_WHATSAPP_API_URL: `${vendor.url}/v21.0`,
    ALERTING_WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
    ALERTING_WHATSAPP_TOKEN: 'meta-token-0123',
    ALERTING_TWILIO_API_URL: vendor.url,
    ALERTING_TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000001',
    ALERTING_TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    ALERTING_TWILIO_SMS_FROM: '+15005550006',
    ALERTING_TWILIO_WHATSAPP_FROM: '+14155238886',
    ALERTING_TWILIO_STATUS_CALLBACK_URL: CALLBACK_BASE,
    ALERTING_SEND_RETRIES: 0,
    ALERTING_WHATSAPP_APP_SECRET: 'meta-app-secret-0123',
    ALERTING_WHATSAPP_VERIFY_TOKEN: 'meta-verify-0123',
    ALERTING_DINGTALK_URL: `${vendor.url}/robot/send`,
    ALERTING_DINGTALK_TOKEN: 'ding-token-0123',
    ALERTING_DINGTALK_SECRET: 'SECding-secret-0123',
    ALERTING_FEISHU_URL: `${vendor.url}/open-apis/bot/v2/hook`,
    ALERTING_FEISHU_TOKEN: 'feishu-hook-0123',
    ALERTING_FEISHU_SECRET: 'feishu-secret-0123',
    ALERTING_PAGERDUTY_URL: `${vendor.url}/v2/enqueue`,
    ALERTING_PAGERDUTY_ROUTING_KEY: 'R0UT1NGKEY0123456789012345678901',
    ALERTING_OPSGENIE_API_URL: vendor.url,
    ALERTING_OPSGENIE_API_KEY: 'genie-key-0123',
    ...extra,
  });
}

function notification(projectId: string, over: Partial<Notification> = {}): Omit<Notification, 'id' | 'idempotencyKey' | 'recipient'> {
  return {
    projectId,
    groupKey: 'g1',
    groupLabels: { alertname: 'HighCpu' },
    status: 'firing',
    severity: 'CRITICAL',
    alerts: [
      {
        rule: 'HighCpu',
        fingerprint: 'fp-web-1',
        kind: 'alert',
        status: 'firing',
        severity: 'CRITICAL',
        labels: { alertname: 'HighCpu', host: 'web-1', severity: 'CRITICAL' },
        annotations: { summary: 'CPU 99%    on\tweb-1' },
        value: 99,
        startsAt: '2026-12-04T10:00:00.000Z',
        endsAt: null,
        dedupKey: 'd'.repeat(40),
        isNew: true,
        acknowledged: false,
      },
    ],
    firingCount: 1,
    resolvedCount: 0,
    omitted: 0,
    commonLabels: { alertname: 'HighCpu', host: 'web-1', severity: 'CRITICAL' },
    commonAnnotations: {},
    isRepeat: false,
    isTest: false,
    createdAt: '2026-12-04T10:00:00.000Z',
    ...over,
  } as Omit<Notification, 'id' | 'idempotencyKey' | 'recipient'>;
}

interface Row {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date;
  provider_id: string | null;
  provider_status: string | null;
  recipient_results: Record<string, { accepted: boolean; response?: string }> | null;
}

/**
 * Queues deliveries of one channel (as the dispatcher does) and runs the
 * Sender until none is due; returns the recorded rows and attempts.
 */
async function deliver(
  policy: PolicyInput,
  channel: string,
  payloads: Omit<Notification, 'id' | 'idempotencyKey' | 'recipient'>[],
  opts: { projectId: string; recipient?: string; extra?: Record<string, unknown> },
): Promise<{
  rows: Row[];
  attempts: { notification_id: string; outcome: string; http_status: number | null; error: string | null }[];
  service: AlertingService;
}> {
  const cfg = config(opts.extra);
  const service = new AlertingService({ meta: env.pool, readonly: undefined as never, config: cfg, logger: env.logger });
  await service.putPolicy(opts.projectId, policy);
  const type = policy.channels?.find((c) => c.name === channel)?.type ?? 'log';
  const now = new Date();
  const ids: string[] = [];
  for (const [i, p] of payloads.entries()) {
    const key = `${opts.projectId}-${channel}-${i}-${Math.random().toString(36).slice(2)}`;
    const { rows } = await env.pool.query<{ id: string }>(
      `INSERT INTO alert_notifications (project_id, group_key, channel, channel_type, recipient, idempotency_key, dedup_keys, payload, status, next_attempt_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9) RETURNING id`,
      [opts.projectId, `g${i}`, channel, type, opts.recipient ?? null, key, [key], JSON.stringify(p), now.toISOString()],
    );
    ids.push(rows[0]?.id ?? '');
  }
  const sender = new Sender({
    meta: env.pool,
    config: cfg,
    clock: systemClock,
    logger: env.logger,
    owner: 'conformance',
    leaseMs: 60_000,
    sendTimeoutMs: cfg.ALERTING_SEND_TIMEOUT_MS,
    sendRetries: cfg.ALERTING_SEND_RETRIES,
    retryInitialMs: 10,
    retryMaxDelayMs: 300_000,
    giveUpAfterMs: 86_400_000,
    perChannelConcurrency: 4,
    metrics: registry,
  });
  // One round per queued delivery is enough: a success starts the next of the queue at once.
  for (let round = 0; round < payloads.length + 1; round++) {
    if ((await sender.startDue()) === 0) break;
    await sender.drain();
  }
  await sender.close();
  const { rows } = await env.pool.query<Row>(`SELECT * FROM alert_notifications WHERE id = ANY($1::bigint[]) ORDER BY id`, [ids]);
  const { rows: attempts } = await env.pool.query(
    `SELECT notification_id, outcome, http_status, error FROM alert_notification_attempts WHERE notification_id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  // Deliveries left pending (retriable answers) must not be picked up by the next test's sender.
  await env.pool.query(`UPDATE alert_notifications SET next_attempt_at = now() + interval '1 day' WHERE id = ANY($1::bigint[]) AND status = 'pending'`, [ids]);
  return { rows, attempts, service };
}

// ------------------------------------------------------------------ WeCom

describe('WeCom group robot', () => {
  const ok = (): VendorAnswer => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } });

  test('text format: no markdown markup, mentions kept; markdown with mentions is sent as text', async () => {
    const projectId = await env.createProject();
    vendor.reset(ok);
    const policy: PolicyInput = {
      channels: [
        { name: 'wc-text', type: 'wecom', format: 'text', mentioned_mobile_list: ['13800138000', '@all'] },
        { name: 'wc-md-mention', type: 'wecom', format: 'markdown', mentioned_mobile_list: ['13800138000'] },
      ],
      routes: [{ channels: ['wc-text', 'wc-md-mention'] }],
    };
    const a = await deliver(policy, 'wc-text', [notification(projectId)], { projectId });
    expect(vendor.requests).toHaveLength(1);
    const r = vendor.requests[0] as VendorRequest;
    expect([r.method, r.path, r.query.get('key'), r.headers['content-type']]).toEqual(['POST', '/cgi-bin/webhook/send', 'wecom-key-0123', 'application/json']);
    expect(r.json()).toEqual({
      msgtype: 'text',
      text: {
        content: '[FIRING:1] HighCpu\n- FIRING [CRITICAL] HighCpu host=web-1 value=99: CPU 99%    on\tweb-1\n',
        mentioned_mobile_list: ['13800138000', '@all'],
      },
    });
    expect(r.body).not.toMatch(/\*\*|<font/);
    expect(a.rows.map((x) => x.status)).toEqual(['sent']);

    vendor.reset(ok);
    await deliver(policy, 'wc-md-mention', [notification(projectId)], { projectId });
    expect(vendor.requests[0]?.json()).toMatchObject({ msgtype: 'text', text: { mentioned_mobile_list: ['13800138000'] } });
  });

  test('errcodes: 93000 permanent, 45009 and -1 retriable (45009 waits a whole window), HTTP 200 decides nothing', async () => {
    const projectId = await env.createProject();
    const policy: PolicyInput = { channels: [{ name: 'wc', type: 'wecom' }], routes: [{ channels: ['wc'] }] };
    vendor.reset(() => ({ status: 200, body: { errcode: 93000, errmsg: 'invalid webhook url, hint: [1733000000_1], from ip: 127.0.0.1' } }));
    const perm = await deliver(policy, 'wc', [notification(projectId)], { projectId });
    expect(perm.rows.map((x) => [x.status, x.attempts])).toEqual([['failed', 1]]);
    expect(perm.attempts.map((x) => [x.outcome, x.http_status])).toEqual([['permanent', 200]]);
    expect(perm.rows[0]?.last_error).toMatch(/^WeCom errcode 93000: invalid webhook url/);

    // A separate robot key so the 45009 penalty does not pace the other tests.
    vendor.reset(() => ({ status: 200, body: { errcode: 45009, errmsg: 'api freq out of limit' } }));
    const t0 = Date.now();
    const limited = await deliver(
      { channels: [{ name: 'wc', type: 'wecom', key: '${OTHER_ROBOT}' }], routes: [{ channels: ['wc'] }] },
      'wc',
      [notification(projectId)],
      {
        projectId,
        extra: { ALERTING_SECRETS: { OTHER_ROBOT: 'robot-2' } },
      },
    );
    expect(vendor.requests).toHaveLength(1);
    expect(limited.rows.map((x) => x.status)).toEqual(['pending']);
    expect(limited.attempts.map((x) => x.outcome)).toEqual(['retriable']);
    // The robot's minute is spent: the next try waits the whole window (60 s by default).
    expect((limited.rows[0]?.next_attempt_at.getTime() ?? 0) - t0).toBeGreaterThanOrEqual(59_000);
  });

  test('30 messages to one robot under its 20-per-window limit: 30 requests, no 45009, all sent in order', async () => {
    const projectId = await env.createProject();
    const WINDOW = 1_500;
    // The robot as documented: 20 messages per window, 45009 beyond.
    const accepted: number[] = [];
    let limited = 0;
    vendor.reset(() => {
      const now = Date.now();
      const recent = accepted.filter((t) => t > now - WINDOW);
      if (recent.length >= 20) {
        limited++;
        return { status: 200, body: { errcode: 45009, errmsg: 'api freq out of limit' } };
      }
      accepted.push(now);
      return { status: 200, body: { errcode: 0, errmsg: 'ok' } };
    });
    const payloads = Array.from({ length: 30 }, (_, i) => notification(projectId, { groupLabels: { alertname: `Rule${i}` } }));
    const out = await deliver({ channels: [{ name: 'wc', type: 'wecom', format: 'text' }], routes: [{ channels: ['wc'] }] }, 'wc', payloads, {
      projectId,
      extra: { ALERTING_WECOM_RATE_WINDOW_MS: WINDOW, ALERTING_WECOM_KEY: 'robot-paced' },
    });
    expect(vendor.requests).toHaveLength(30);
    expect(limited).toBe(0);
    expect(accepted).toHaveLength(30);
    expect(out.rows.every((x) => x.status === 'sent' && x.attempts === 1)).toBe(true);
    expect(vendor.requests.map((r) => /Rule(\d+)/.exec(r.json().text.content)?.[1])).toEqual(payloads.map((_, i) => String(i)));
    // 20 at once, the rest after the window opened again.
    expect(accepted[20]! - accepted[0]!).toBeGreaterThanOrEqual(WINDOW - 50);
  });
});

// ------------------------------------------------------------------ email (smtp-server)

interface SmtpRig {
  port: number;
  auths: string[];
  mails: { from: string; to: string[] }[];
  close: () => Promise<void>;
}

async function smtpRig(opts: { rejectRcpt?: string[]; dataReply?: number } = {}): Promise<SmtpRig> {
  const rig: SmtpRig = { port: 0, auths: [], mails: [], close: async () => undefined };
  const server = new SMTPServer({
    // No certificate here, so no STARTTLS: the require-TLS test relies on exactly that.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth: (auth, _s, cb) => {
      rig.auths.push(`${auth.username}:${auth.password}`);
      cb(null, { user: auth.username });
    },
    onRcptTo: (addr, _s, cb) => {
      if (opts.rejectRcpt?.includes(addr.address))
        cb(Object.assign(new Error(`5.1.1 <${addr.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
      else cb();
    },
    onData: (stream, session, cb) => {
      stream.resume();
      stream.on('end', () => {
        rig.mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) });
        if (opts.dataReply) cb(Object.assign(new Error('4.3.0 Requested action aborted: local error in processing'), { responseCode: opts.dataReply }));
        else cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rig.port = (server.server.address() as AddressInfo).port;
  rig.close = () => new Promise<void>((r) => server.close(() => r()));
  return rig;
}

describe('email (SMTP)', () => {
  const policy: PolicyInput = {
    channels: [{ name: 'mail', type: 'email', to: ['ops@example.test', 'gone@example.test'], cc: ['lead@example.test'] }],
    routes: [{ channels: ['mail'] }],
  };
  const smtpKeys = (port: number, extra: Record<string, unknown> = {}) => ({
    ALERTING_SMTP_HOST: '127.0.0.1',
    ALERTING_SMTP_PORT: port,
    ALERTING_SMTP_USER: 'alerts',
    ALERTING_SMTP_PASSWORD: 'smtp-pass-0123',
    ALERTING_SMTP_FROM: 'tidemark@example.test',
    ...extra,
  });

  test('one recipient refused with 550: partial, per-recipient results recorded, not retried', async () => {
    const rig = await smtpRig({ rejectRcpt: ['gone@example.test'] });
    try {
      const projectId = await env.createProject();
      const out = await deliver(policy, 'mail', [notification(projectId)], { projectId, extra: smtpKeys(rig.port, { ALERTING_SMTP_REQUIRE_TLS: false }) });
      expect(rig.mails).toEqual([{ from: 'tidemark@example.test', to: ['ops@example.test', 'lead@example.test'] }]);
      expect(out.rows.map((r) => [r.status, r.attempts])).toEqual([['partial', 1]]);
      expect(out.rows[0]?.last_error).toMatch(
        /^SMTP refused 1 of 3 recipients: gone@example\.test \(550 5\.1\.1 <gone@example\.test>: Recipient address rejected/,
      );
      expect(out.rows[0]?.recipient_results).toEqual({
        'ops@example.test': { accepted: true, response: expect.stringMatching(/^250/) },
        'lead@example.test': { accepted: true, response: expect.stringMatching(/^250/) },
        'gone@example.test': { accepted: false, response: expect.stringMatching(/^550 5\.1\.1/) },
      });
      expect(out.attempts.map((a) => [a.outcome, a.http_status])).toEqual([['ok', 250]]);
    } finally {
      await rig.close();
    }
  });

  test('ALERTING_SMTP_REQUIRE_TLS (default): a server without STARTTLS never gets the password; permanent', async () => {
    const rig = await smtpRig();
    try {
      const projectId = await env.createProject();
      const out = await deliver(policy, 'mail', [notification(projectId)], { projectId, extra: smtpKeys(rig.port) });
      expect(rig.auths).toEqual([]);
      expect(rig.mails).toEqual([]);
      expect(out.rows.map((r) => r.status)).toEqual(['failed']);
      expect(out.rows[0]?.last_error).toMatch(/did not upgrade the connection with STARTTLS; credentials not sent/);
      expect(out.attempts.map((a) => a.outcome)).toEqual(['permanent']);
    } finally {
      await rig.close();
    }
  });

  test('451 after DATA is retriable; every recipient refused (550) is permanent', async () => {
    const rig = await smtpRig({ dataReply: 451 });
    const rig2 = await smtpRig({ rejectRcpt: ['ops@example.test', 'gone@example.test', 'lead@example.test'] });
    try {
      const projectId = await env.createProject();
      const tmp = await deliver(policy, 'mail', [notification(projectId)], { projectId, extra: smtpKeys(rig.port, { ALERTING_SMTP_REQUIRE_TLS: false }) });
      expect(tmp.rows.map((r) => r.status)).toEqual(['pending']);
      expect(tmp.attempts.map((a) => a.outcome)).toEqual(['retriable']);
      const p2 = await env.createProject();
      const perm = await deliver(policy, 'mail', [notification(p2)], { projectId: p2, extra: smtpKeys(rig2.port, { ALERTING_SMTP_REQUIRE_TLS: false }) });
      expect(perm.rows.map((r) => r.status)).toEqual(['failed']);
      expect(perm.rows[0]?.last_error).toMatch(/^SMTP 550/);
    } finally {
      await rig.close();
      await rig2.close();
    }
  });
});

// ------------------------------------------------------------------ WhatsApp Cloud API (Meta)

describe('WhatsApp Cloud API (Meta)', () => {
  const policy: PolicyInput = {
    channels: [{ name: 'wa', type: 'whatsapp', provider: 'meta', to: ['+8613800138000'], template_name: 'tidemark_alert', template_language: 'en' }],
    routes: [{ channels: ['wa'] }],
  };
  /** Meta's checks of a body parameter: error 132018 for a newline, a tab or more than 4 consecutive spaces. */
  const metaAnswer = (r: VendorRequest): VendorAnswer => {
    const params: { text: string }[] = r.json().template?.components?.[0]?.parameters ?? [];
    if (params.some((p) => /[\n\t]| {5,}/.test(p.text))) {
      return {
        status: 400,
        body: {
          error: {
            message: '(#132018) There was an issue with the parameters in your template.',
            type: 'OAuthException',
            code: 132018,
            error_data: { messaging_product: 'whatsapp', details: 'Param text cannot have new-line/tab characters or more than 4 consecutive spaces' },
            fbtrace_id: 'Aa',
          },
        },
      };
    }
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: '8613800138000', wa_id: '8613800138000' }],
        messages: [{ id: 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA' }],
      },
    };
  };

  test('template send: the multi-line message becomes one parameter Meta accepts; exact request; wamid recorded', async () => {
    const projectId = await env.createProject();
    vendor.reset(metaAnswer);
    const two = notification(projectId, {
      firingCount: 2,
      groupLabels: {},
      alerts: [
        notification(projectId).alerts[0]!,
        {
          ...notification(projectId).alerts[0]!,
          fingerprint: 'fp-2',
          labels: { alertname: 'HighCpu', host: 'web-2' },
          annotations: { summary: 'line one\nline two' },
        },
      ],
    });
    const out = await deliver(policy, 'wa', [two], { projectId, recipient: '+8613800138000' });
    expect(vendor.requests).toHaveLength(1);
    const r = vendor.requests[0] as VendorRequest;
    expect([r.path, r.headers.authorization]).toEqual(['/v21.0/106540352242922/messages', 'Bearer meta-token-0123']);
    const body = r.json();
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '8613800138000',
      biz_opaque_callback_data: expect.any(String),
      type: 'template',
      template: {
        name: 'tidemark_alert',
        language: { code: 'en' },
        components: [
          {
            type: 'body',
            parameters: [
              {
                type: 'text',
                text: '[FIRING:2] HighCpu | - FIRING [CRITICAL] HighCpu host=web-1 value=99: CPU 99% on web-1 | - FIRING [CRITICAL] HighCpu host=web-2 value=99: line one | line two',
              },
            ],
          },
        ],
      },
    });
    expect(out.rows.map((x) => [x.status, x.provider_id])).toEqual([['sent', 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA']]);
  });

  test('status webhook (signed): failed 131047 turns sent into failed; delivered; registration handshake; a forged call is refused', async () => {
    const projectId = await env.createProject();
    vendor.reset(metaAnswer);
    const out = await deliver(policy, 'wa', [notification(projectId), notification(projectId, { groupKey: 'g2' })], { projectId, recipient: '+8613800138000' });
    expect(out.rows.map((r) => r.status)).toEqual(['sent', 'sent']);
    const keys = (
      await env.pool.query<{ idempotency_key: string }>('SELECT idempotency_key FROM alert_notifications WHERE id = ANY($1::bigint[]) ORDER BY id', [
        out.rows.map((r) => r.id),
      ])
    ).rows.map((r) => r.idempotency_key);
    // Both sends got the same wamid from this loopback Meta; give the second its own so each status names one delivery.
    await env.pool.query(`UPDATE alert_notifications SET provider_id = 'wamid.SECOND' WHERE id = $1`, [out.rows[1]?.id]);
    const api = await callbackApi(out.service);
    const hook = `${api.url}/api/alerting/whatsapp/webhook`;
    const post = (body: unknown, secret = 'meta-app-secret-0123') => {
      const raw = JSON.stringify(body);
      return fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(secret, raw) }, body: raw });
    };
    const statusBody = (st: Record<string, unknown>[]) => ({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' }, statuses: st },
            },
          ],
        },
      ],
    });
    try {
      const verify = await fetch(`${hook}?hub.mode=subscribe&hub.verify_token=meta-verify-0123&hub.challenge=1158201444`);
      expect([verify.status, await verify.text()]).toEqual([200, '1158201444']);
      expect((await fetch(`${hook}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`)).status).toBe(403);
      const failed = {
        id: 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA',
        status: 'failed',
        timestamp: '1733310000',
        recipient_id: '8613800138000',
        biz_opaque_callback_data: keys[0],
        errors: [
          {
            code: 131047,
            title: 'Re-engagement message',
            message: 'Re-engagement message',
            error_data: { details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
          },
        ],
      };
      expect((await post(statusBody([failed]), 'forged')).status).toBe(403);
      const ok = await post(statusBody([failed, { id: 'wamid.SECOND', status: 'delivered', timestamp: '1733310001', recipient_id: '8613800138000' }]));
      expect([ok.status, await ok.json()]).toEqual([200, { received: true, changed: 2 }]);
      const recs = await out.service.listNotifications(projectId);
      expect(recs.map((r) => [r.status, r.providerStatus, r.lastError]).reverse()).toEqual([
        [
          'failed',
          'failed',
          'WhatsApp failed 131047: Re-engagement message (Message failed to send because more than 24 hours have passed since the customer last replied to this number.) (reported after Meta accepted the message)',
        ],
        ['delivered', 'delivered', null],
      ]);
    } finally {
      await api.close();
    }
  });

  test('parameters obey the length cap; several parameters from templates', async () => {
    const projectId = await env.createProject();
    vendor.reset(metaAnswer);
    const long = notification(projectId, { alerts: [{ ...notification(projectId).alerts[0]!, annotations: { summary: 'x'.repeat(3000) } }] });
    const p: PolicyInput = {
      channels: [
        {
          name: 'wa',
          type: 'whatsapp',
          provider: 'meta',
          to: ['+8613800138000'],
          template_name: 'tidemark_alert_3',
          template_parameters: ['{{ title }}', '{% for a in alerts %}{{ a.summary }}\n{% endfor %}', '{{ severity }}'],
          template_parameters_max_chars: 600,
        },
      ],
      routes: [{ channels: ['wa'] }],
    };
    const out = await deliver(p, 'wa', [long], { projectId, recipient: '+8613800138000' });
    const params = vendor.requests[0]?.json().template.components[0].parameters as { text: string }[];
    expect(params.map((x) => x.text.length)).toEqual([18, 200, 8]);
    expect(params[1]?.text.endsWith('...')).toBe(true);
    expect(params.map((x) => x.text)[0]).toBe('[FIRING:1] HighCpu');
    expect(out.rows.map((x) => x.status)).toEqual(['sent']);
  });

  test('documented errors: 132018 and 131047 permanent; 130429 (throughput) and HTTP 429 retriable with Retry-After', async () => {
    const projectId = await env.createProject();
    const err =
      (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
      () => ({ status, headers, body: { error: { message, type: 'OAuthException', code, fbtrace_id: 'Ab' } } });
    const cases: [string, () => VendorAnswer, string, RegExp][] = [
      ['132018', err(400, 132018, '(#132018) There was an issue with the parameters in your template.'), 'failed', /code 132018/],
      ['131047', err(400, 131047, 'Re-engagement message'), 'failed', /code 131047/],
      ['130429', err(400, 130429, 'Rate limit hit'), 'pending', /code 130429/],
      ['429', err(429, 80007, 'Rate limit issues', { 'retry-after': '30' }), 'pending', /HTTP 429 code 80007/],
    ];
    for (const [name, answer, status, msg] of cases) {
      vendor.reset(answer);
      const t0 = Date.now();
      const pid = await env.createProject();
      const out = await deliver(policy, 'wa', [notification(pid)], { projectId: pid, recipient: '+8613800138000' });
      expect([name, out.rows[0]?.status]).toEqual([name, status]);
      expect(out.rows[0]?.last_error).toMatch(msg);
      if (name === '429') expect((out.rows[0]?.next_attempt_at.getTime() ?? 0) - t0).toBeGreaterThanOrEqual(29_000);
    }
    expect(projectId).toBeTruthy();
  });
});

// ------------------------------------------------------------------ Twilio (WhatsApp and SMS) with status callbacks

/** The API's route, as mounted by createApiApp, on loopback. */
async function callbackApi(service: AlertingService): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Koa();
  app.use(twilioStatusMiddleware({ alerting: service, logger: env.logger }));
  app.use(whatsappWebhookMiddleware({ alerting: service, logger: env.logger }));
  app.use((ctx) => {
    ctx.status = 404;
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Posts a status callback as Twilio does: form body to the StatusCallback URL, signed with the auth token. */
async function twilioCallback(api: string, statusCallback: string, params: Record<string, string>, token = TWILIO_TOKEN): Promise<number> {
  const u = new URL(statusCallback);
  const res = await fetch(`${api}${u.pathname}${u.search}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(token, statusCallback, params) },
    body: new URLSearchParams(params).toString(),
  });
  return res.status;
}

describe('Twilio', () => {
  const created = (sid: string) => (): VendorAnswer => ({
    status: 201,
    body: { sid, status: 'queued', error_code: null, error_message: null, account_sid: 'AC00000000000000000000000000000001', api_version: '2010-04-01' },
  });

  test('WhatsApp template: ContentSid + ContentVariables + StatusCallback; a later 63016 failure turns sent into failed', async () => {
    const projectId = await env.createProject();
    vendor.reset(created('MM00000000000000000000000000000001'));
    const policy: PolicyInput = {
      channels: [
        {
          name: 'wa-tw',
          type: 'whatsapp',
          provider: 'twilio',
          to: ['+8613800138001'],
          content_sid: 'HX' + 'a'.repeat(32),
          content_variables: { '1': '{{ title }}', '2': '{% for a in alerts %}{{ a.summary }}\n{% endfor %}' },
        },
      ],
      routes: [{ channels: ['wa-tw'] }],
    };
    const out = await deliver(policy, 'wa-tw', [notification(projectId)], { projectId, recipient: '+8613800138001' });
    const r = vendor.requests[0] as VendorRequest;
    expect([r.path, r.headers.authorization]).toEqual([
      '/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json',
      `Basic ${Buffer.from(`AC00000000000000000000000000000001:${TWILIO_TOKEN}`).toString('base64')}`,
    ]);
    const id = out.rows[0]?.id;
    const callback = `${CALLBACK_BASE}?project=${projectId}&notification=${id}`;
    expect(Object.fromEntries(r.form())).toEqual({
      To: 'whatsapp:+8613800138001',
      From: 'whatsapp:+14155238886',
      ContentSid: 'HX' + 'a'.repeat(32),
      ContentVariables: JSON.stringify({ '1': '[FIRING:1] HighCpu', '2': 'CPU 99% on web-1' }),
      StatusCallback: callback,
    });
    expect(out.rows.map((x) => [x.status, x.provider_id])).toEqual([['sent', 'MM00000000000000000000000000000001']]);

    const api = await callbackApi(out.service);
    try {
      const base = {
        AccountSid: 'AC00000000000000000000000000000001',
        MessageSid: 'MM00000000000000000000000000000001',
        From: 'whatsapp:+14155238886',
        To: 'whatsapp:+8613800138001',
        ApiVersion: '2010-04-01',
      };
      // A forged or mis-signed callback is refused and changes nothing.
      expect(await twilioCallback(api.url, callback, { ...base, MessageStatus: 'delivered' }, 'wrong-token')).toBe(403);
      expect(await twilioCallback(api.url, callback, { ...base, MessageStatus: 'sent', SmsStatus: 'sent' })).toBe(204);
      expect(
        await twilioCallback(api.url, callback, {
          ...base,
          MessageStatus: 'failed',
          SmsStatus: 'failed',
          ErrorCode: '63016',
          ErrorMessage: 'Failed to send freeform message because you are outside the allowed window.',
        }),
      ).toBe(204);
      // A late "sent" after the final verdict does not undo it.
      expect(await twilioCallback(api.url, callback, { ...base, MessageStatus: 'sent' })).toBe(204);
      const [rec] = await out.service.listNotifications(projectId);
      expect([rec?.status, rec?.providerStatus, rec?.lastError]).toEqual([
        'failed',
        'failed',
        'Twilio failed 63016: Failed to send freeform message because you are outside the allowed window. (reported after Twilio accepted the message)',
      ]);
    } finally {
      await api.close();
    }
  });

  test('SMS: StatusCallback delivered → delivered; undelivered (30003) → failed; a callback before the send was recorded still counts', async () => {
    const policy: PolicyInput = { channels: [{ name: 'sms', type: 'sms', to: ['+8613800138002'] }], routes: [{ channels: ['sms'] }] };
    const p1 = await env.createProject();
    vendor.reset(created('SM00000000000000000000000000000001'));
    const a = await deliver(policy, 'sms', [notification(p1)], { projectId: p1, recipient: '+8613800138002' });
    const form = Object.fromEntries(vendor.requests[0]?.form() ?? []);
    expect(form).toEqual({
      To: '+8613800138002',
      From: '+15005550006',
      Body: expect.stringContaining('FIRING CRITICAL HighCpu host=web-1 =99'),
      StatusCallback: `${CALLBACK_BASE}?project=${p1}&notification=${a.rows[0]?.id}`,
    });
    const api = await callbackApi(a.service);
    try {
      const sms = { AccountSid: 'AC00000000000000000000000000000001', MessageSid: 'SM00000000000000000000000000000001', ApiVersion: '2010-04-01' };
      expect(await twilioCallback(api.url, form.StatusCallback as string, { ...sms, MessageStatus: 'delivered', SmsStatus: 'delivered' })).toBe(204);
      expect((await a.service.listNotifications(p1))[0]?.status).toBe('delivered');

      // The carrier verdict arrives while the send is still being recorded: the sender applies it.
      const p2 = await env.createProject();
      let api2Url = '';
      vendor.reset((r) => {
        void twilioCallback(api2Url, r.form().get('StatusCallback') ?? '', {
          ...sms,
          MessageSid: 'SM00000000000000000000000000000002',
          MessageStatus: 'undelivered',
          ErrorCode: '30003',
          ErrorMessage: 'Unreachable destination handset',
        });
        return created('SM00000000000000000000000000000002')();
      });
      const svc2 = new AlertingService({ meta: env.pool, readonly: undefined as never, config: config(), logger: env.logger });
      const api2 = await callbackApi(svc2);
      api2Url = api2.url;
      try {
        const b = await deliver(policy, 'sms', [notification(p2)], { projectId: p2, recipient: '+8613800138002' });
        // Either order of the two writes ends in failed.
        for (let i = 0; i < 50 && (await b.service.listNotifications(p2))[0]?.status !== 'failed'; i++) await new Promise((r) => setTimeout(r, 50));
        const [rec] = await b.service.listNotifications(p2);
        expect([rec?.status, rec?.providerId, rec?.lastError]).toEqual([
          'failed',
          'SM00000000000000000000000000000002',
          'Twilio undelivered 30003: Unreachable destination handset (reported after Twilio accepted the message)',
        ]);
      } finally {
        await api2.close();
      }
    } finally {
      await api.close();
    }
  });

  test('Twilio errors: 400 21211 permanent; 429 20429 retriable honouring Retry-After', async () => {
    const policy: PolicyInput = { channels: [{ name: 'sms', type: 'sms', to: ['+8613800138002'] }], routes: [{ channels: ['sms'] }] };
    vendor.reset(() => ({
      status: 400,
      body: {
        code: 21211,
        message: "The 'To' number +8613800138002 is not a valid phone number.",
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      },
    }));
    const p1 = await env.createProject();
    const a = await deliver(policy, 'sms', [notification(p1)], { projectId: p1, recipient: '+8613800138002' });
    expect([a.rows[0]?.status, a.rows[0]?.last_error]).toEqual([
      'failed',
      "HTTP 400: Twilio 21211: The 'To' number +8613800138002 is not a valid phone number.",
    ]);
    vendor.reset(() => ({
      status: 429,
      headers: { 'retry-after': '20' },
      body: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 },
    }));
    const p2 = await env.createProject();
    const t0 = Date.now();
    const b = await deliver(policy, 'sms', [notification(p2)], { projectId: p2, recipient: '+8613800138002' });
    expect(b.rows[0]?.status).toBe('pending');
    expect((b.rows[0]?.next_attempt_at.getTime() ?? 0) - t0).toBeGreaterThanOrEqual(19_000);
  });
});

// ------------------------------------------------------------------ DingTalk, Feishu/Lark, PagerDuty, Opsgenie

describe('DingTalk robot (signed)', () => {
  const policy: PolicyInput = { channels: [{ name: 'ding', type: 'dingtalk', at_mobiles: ['13800138000'] }], routes: [{ channels: ['ding'] }] };
  /** DingTalk's checks: the signature of the timestamp, within an hour. */
  const dingtalk =
    (errcode = 0, errmsg = 'ok') =>
    (r: VendorRequest): VendorAnswer => {
      const ts = Number(r.query.get('timestamp'));
      if (r.query.get('sign') !== dingtalkSign('SECding-secret-0123', ts) || Math.abs(Date.now() - ts) > 3_600_000)
        return { status: 200, body: { errcode: 310000, errmsg: 'sign not match' } };
      return { status: 200, body: { errcode, errmsg } };
    };

  test('signed text message with mentions; exact request; sent', async () => {
    const projectId = await env.createProject();
    vendor.reset(dingtalk());
    const out = await deliver(policy, 'ding', [notification(projectId)], { projectId });
    const r = vendor.requests[0] as VendorRequest;
    expect([r.path, r.query.get('access_token'), r.headers['content-type']]).toEqual(['/robot/send', 'ding-token-0123', 'application/json; charset=utf-8']);
    expect(r.json()).toEqual({
      msgtype: 'text',
      text: { content: '[FIRING:1] HighCpu\n- FIRING [CRITICAL] HighCpu host=web-1 value=99: CPU 99%    on\tweb-1\n' },
      at: { atMobiles: ['13800138000'], isAtAll: false },
    });
    expect(out.rows.map((x) => x.status)).toEqual(['sent']);
  });

  test('310000 (sign not match) permanent; 130101 (send too fast) retriable after the 10-minute block', async () => {
    const p1 = await env.createProject();
    vendor.reset(dingtalk());
    const bad = await deliver(policy, 'ding', [notification(p1)], { projectId: p1, extra: { ALERTING_DINGTALK_SECRET: 'SECwrong' } });
    expect([bad.rows[0]?.status, bad.rows[0]?.last_error]).toEqual(['failed', 'DingTalk errcode 310000: sign not match']);
    const p2 = await env.createProject();
    vendor.reset(dingtalk(130101, 'send too fast, exceed 20 times per minute'));
    const t0 = Date.now();
    const limited = await deliver(policy, 'ding', [notification(p2)], { projectId: p2, extra: { ALERTING_DINGTALK_TOKEN: 'ding-token-limited' } });
    expect(limited.rows[0]?.status).toBe('pending');
    expect((limited.rows[0]?.next_attempt_at.getTime() ?? 0) - t0).toBeGreaterThanOrEqual(599_000);
  });
});

describe('Feishu/Lark bot (signed)', () => {
  const policy: PolicyInput = { channels: [{ name: 'fs', type: 'feishu', at: ['all'] }], routes: [{ channels: ['fs'] }] };
  const feishu =
    (code = 0, msg = 'success') =>
    (r: VendorRequest): VendorAnswer => {
      const b = r.json();
      const ts = Number(b.timestamp);
      if (b.sign !== feishuSign('feishu-secret-0123', ts) || Math.abs(Date.now() / 1000 - ts) > 3600)
        return { status: 200, body: { code: 19021, data: {}, msg: 'sign match fail or timestamp is not within one hour from current time' } };
      return { status: 200, body: { code, data: {}, msg } };
    };

  test('signed text message; exact request; sent', async () => {
    const projectId = await env.createProject();
    vendor.reset(feishu());
    const out = await deliver(policy, 'fs', [notification(projectId)], { projectId });
    const r = vendor.requests[0] as VendorRequest;
    expect(r.path).toBe('/open-apis/bot/v2/hook/feishu-hook-0123');
    expect(r.json()).toEqual({
      timestamp: expect.stringMatching(/^\d{10}$/),
      sign: expect.any(String),
      msg_type: 'text',
      content: { text: '[FIRING:1] HighCpu\n- FIRING [CRITICAL] HighCpu host=web-1 value=99: CPU 99%    on\tweb-1\n\n<at user_id="all"></at>' },
    });
    expect(out.rows.map((x) => x.status)).toEqual(['sent']);
  });

  test('19021 permanent; 11232 (frequency limited) retriable', async () => {
    const p1 = await env.createProject();
    vendor.reset(feishu());
    const bad = await deliver(policy, 'fs', [notification(p1)], { projectId: p1, extra: { ALERTING_FEISHU_SECRET: 'wrong' } });
    expect([bad.rows[0]?.status, bad.rows[0]?.last_error]).toEqual([
      'failed',
      'Feishu code 19021: sign match fail or timestamp is not within one hour from current time',
    ]);
    const p2 = await env.createProject();
    vendor.reset(feishu(11232, 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1]'));
    const limited = await deliver(policy, 'fs', [notification(p2)], { projectId: p2, extra: { ALERTING_FEISHU_TOKEN: 'feishu-hook-limited' } });
    expect([limited.rows[0]?.status, limited.attempts.map((a) => a.outcome)]).toEqual(['pending', ['retriable']]);
  });
});

describe('PagerDuty Events API v2', () => {
  const policy: PolicyInput = { channels: [{ name: 'pd', type: 'pagerduty' }], routes: [{ channels: ['pd'] }] };
  const accepted = (r: VendorRequest): VendorAnswer => ({
    status: 202,
    body: { status: 'success', message: 'Event processed', dedup_key: r.json().dedup_key },
  });

  test('trigger for a new firing alert, resolve with the same dedup_key for its resolve', async () => {
    const projectId = await env.createProject();
    vendor.reset(accepted);
    const firing = notification(projectId);
    const a = firing.alerts[0]!;
    const resolved = notification(projectId, {
      status: 'resolved',
      firingCount: 0,
      resolvedCount: 1,
      alerts: [{ ...a, status: 'resolved', endsAt: '2026-12-04T10:05:00.000Z', dedupKey: 'e'.repeat(40) }],
    });
    const out = await deliver(policy, 'pd', [firing, resolved], { projectId });
    const key = pagerdutyDedupKey(projectId, a);
    expect(vendor.requests.map((r) => [r.method, r.path, r.headers['content-type']])).toEqual([
      ['POST', '/v2/enqueue', 'application/json'],
      ['POST', '/v2/enqueue', 'application/json'],
    ]);
    expect(vendor.requests[0]?.json()).toEqual({
      routing_key: 'R0UT1NGKEY0123456789012345678901',
      event_action: 'trigger',
      dedup_key: key,
      payload: {
        summary: '[CRITICAL] HighCpu host=web-1: CPU 99%    on\tweb-1',
        source: 'web-1',
        severity: 'critical',
        timestamp: '2026-12-04T10:00:00.000Z',
        class: 'HighCpu',
        custom_details: { labels: a.labels, annotations: a.annotations, value: 99, project: projectId },
      },
      client: 'Tidemark',
    });
    expect(vendor.requests[1]?.json()).toEqual({ routing_key: 'R0UT1NGKEY0123456789012345678901', event_action: 'resolve', dedup_key: key });
    expect(out.rows.map((x) => [x.status, x.provider_id])).toEqual([
      ['sent', key],
      ['sent', key],
    ]);
  });

  test('400 invalid event permanent; 429 retriable', async () => {
    const p1 = await env.createProject();
    vendor.reset(() => ({
      status: 400,
      body: { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.source' is missing or blank"] },
    }));
    const bad = await deliver(policy, 'pd', [notification(p1)], { projectId: p1 });
    expect([bad.rows[0]?.status, bad.rows[0]?.last_error]).toEqual(['failed', "HTTP 400: Event object is invalid: 'payload.source' is missing or blank"]);
    const p2 = await env.createProject();
    vendor.reset(() => ({
      status: 429,
      body: { status: 'throttle event', message: 'Requests for this service are arriving too quickly.  Please retry later.' },
    }));
    const limited = await deliver(policy, 'pd', [notification(p2)], { projectId: p2 });
    expect([limited.rows[0]?.status, limited.attempts.map((x) => [x.outcome, x.http_status])]).toEqual(['pending', [['retriable', 429]]]);
  });
});

describe('Opsgenie Alert API', () => {
  const policy: PolicyInput = {
    channels: [{ name: 'og', type: 'opsgenie', tags: ['tidemark'], responders: [{ type: 'team', name: 'ops' }] }],
    routes: [{ channels: ['og'] }],
  };
  const accepted = (): VendorAnswer => ({
    status: 202,
    body: { result: 'Request will be processed', took: 0.107, requestId: '43a29c5c-3dbf-4fa4-9c26-f4f71023e120' },
  });

  test('create with alias, priority and responders; close by alias', async () => {
    const projectId = await env.createProject();
    vendor.reset(accepted);
    const firing = notification(projectId);
    const a = firing.alerts[0]!;
    const resolved = notification(projectId, {
      status: 'resolved',
      firingCount: 0,
      resolvedCount: 1,
      alerts: [{ ...a, status: 'resolved', endsAt: '2026-12-04T10:05:00.000Z' }],
    });
    const out = await deliver(policy, 'og', [firing, resolved], { projectId });
    const alias = opsgenieAlias(projectId, a);
    expect(vendor.requests.map((r) => [r.path, r.query.get('identifierType'), r.headers.authorization])).toEqual([
      ['/v2/alerts', null, 'GenieKey genie-key-0123'],
      [`/v2/alerts/${alias}/close`, 'alias', 'GenieKey genie-key-0123'],
    ]);
    expect(vendor.requests[0]?.json()).toEqual({
      message: '[CRITICAL] HighCpu host=web-1',
      alias,
      description: `CPU 99%    on\tweb-1\n\nproject: ${projectId}\nvalue: 99\nsince: 2026-12-04T10:00:00.000Z`,
      priority: 'P1',
      source: 'Tidemark',
      tags: ['tidemark'],
      responders: [{ type: 'team', name: 'ops' }],
      details: a.labels,
    });
    expect(vendor.requests[1]?.json()).toEqual({ source: 'Tidemark', note: 'resolved at 2026-12-04T10:05:00.000Z' });
    expect(out.rows.map((x) => [x.status, x.provider_id])).toEqual([
      ['sent', '43a29c5c-3dbf-4fa4-9c26-f4f71023e120'],
      ['sent', '43a29c5c-3dbf-4fa4-9c26-f4f71023e120'],
    ]);
  });

  test('422 permanent; 429 retriable with Retry-After', async () => {
    const p1 = await env.createProject();
    vendor.reset(() => ({
      status: 422,
      body: {
        message: 'Request body is not processable. Please check the errors.',
        errors: { message: 'Message can not be empty.' },
        took: 0.002,
        requestId: 'r1',
      },
    }));
    const bad = await deliver(policy, 'og', [notification(p1)], { projectId: p1 });
    expect([bad.rows[0]?.status, bad.rows[0]?.last_error]).toEqual([
      'failed',
      'HTTP 422: Request body is not processable. Please check the errors.: message Message can not be empty.',
    ]);
    const p2 = await env.createProject();
    vendor.reset(() => ({
      status: 429,
      headers: { 'retry-after': '15' },
      body: { message: 'You are making too many requests! To avoid errors, we recommend you limit requests.', took: 0.001, requestId: 'r2' },
    }));
    const t0 = Date.now();
    const limited = await deliver(policy, 'og', [notification(p2)], { projectId: p2 });
    expect(limited.rows[0]?.status).toBe('pending');
    expect((limited.rows[0]?.next_attempt_at.getTime() ?? 0) - t0).toBeGreaterThanOrEqual(14_000);
  });
});

// ------------------------------------------------------------------ metrics

test('notification metrics: sent, failed, retried per channel, pending age', async () => {
  const text = await registry.metrics();
  const value = (name: string, channel: string): number =>
    Number(new RegExp(`^${name}\\{type="[a-z]+",channel="${channel}"\\} (\\d+(?:\\.\\d+)?)`, 'm').exec(text)?.[1] ?? 0);
  expect(value('tidemark_alerting_notifications_sent_total', 'wc')).toBeGreaterThanOrEqual(30);
  expect(value('tidemark_alerting_notifications_failed_total', 'wc')).toBeGreaterThanOrEqual(1);
  expect(value('tidemark_alerting_notifications_retried_total', 'wc')).toBeGreaterThanOrEqual(1);
  expect(value('tidemark_alerting_notifications_failed_total', 'mail')).toBeGreaterThanOrEqual(2);
  // Pending deliveries (the retriable cases above) are still queued: their age is reported.
  expect(text).toMatch(/^tidemark_alerting_notification_pending_age_seconds\{type="whatsapp",channel="wa"\} \d/m);
});
