/**
 * Every channel against a real receiver on loopback that speaks the
 * service's documented API (see support/receivers.ts), through the whole
 * pipeline: rule → state → outbox → group → delivery → channel.
 */
import { Writable } from 'node:stream';
import { createLogger } from '@tidemark/core';
import type { PolicyInput } from '../src';
import { AlertEngine } from '../src';
import { startTestEnv, waitFor, type TestEnv } from './support/env';
import { startReceivers, type ReceiverSet } from './support/receivers';
import { T0, Timeline } from './support/timeline';

let env: TestEnv;
let rx: ReceiverSet;
const timelines: Timeline[] = [];

beforeAll(async () => {
  env = await startTestEnv('channels');
});

afterAll(async () => {
  await Promise.allSettled(timelines.map((t) => t.close()));
  await rx?.close();
  await env?.stop();
});

/** A template that shows which alert changes (dedup keys) a message carries, so any receiver can count them. */
const KEYED = 'KEYS{% for a in alerts %}{% if a.isNew %} [{{ a.dedupKey }}]{% endif %}{% endfor %} {{ title }}';

function allChannels(keyed: boolean): PolicyInput {
  const t = keyed ? { template: KEYED } : {};
  return {
    channels: [
      { name: 'slack', type: 'slack', ...t },
      { name: 'wecom', type: 'wecom', ...t },
      { name: 'wa-meta', type: 'whatsapp', provider: 'meta', to: ['+8613800138000'], ...t },
      { name: 'wa-twilio', type: 'whatsapp', provider: 'twilio', to: ['+8613800138001'], ...t },
      { name: 'sms', type: 'sms', to: ['+8613800138002'], ...t },
      { name: 'mail', type: 'email', to: ['ops@example.test'], ...t },
      { name: 'hook', type: 'webhook', url: `${rx.webhook.url}/alerts` },
      { name: 'log', type: 'log', level: 'info' },
    ],
    routes: [
      {
        channels: ['slack', 'wecom', 'wa-meta', 'wa-twilio', 'sms', 'mail', 'hook', 'log'],
        group_by: ['...'],
        group_wait: '0s',
        group_interval: '10s',
        repeat_interval: '1h',
      },
    ],
  };
}

async function timeline(extra: Record<string, unknown> = {}, keyed = false): Promise<Timeline> {
  rx ??= await startReceivers();
  for (const r of rx.all) r.received.length = 0;
  rx.webhook.processed.clear();
  const tl = await Timeline.create(env, { policy: () => allChannels(keyed), configOverrides: { ...rx.configKeys(), ...extra } });
  for (const r of rx.all) r.setMode('ok');
  timelines.push(tl);
  // Receivers stamp arrivals with this timeline's clock.
  for (const r of rx.all) (r as unknown as { now: () => number }).now = () => tl.clock.now();
  return tl;
}

test('each channel sends its service format, authenticated, and every attempt is recorded', async () => {
  const tl = await timeline();
  await tl.series('web-1', 0, 60, 99);
  await tl.addRule({ name: 'HighCpu', annotations: { summary: 'CPU <{{ value }}%> & rising on {{ labels.host }}' } });
  await tl.runTo(5);

  const slack = rx.slack.accepted();
  expect(slack).toHaveLength(1);
  // mrkdwn control characters of values are escaped; the template's own markup is not.
  expect(slack[0]?.text).toContain('*[FIRING:1] HighCpu (host=web-1)*');
  expect(slack[0]?.text).toContain('CPU &lt;99%&gt; &amp; rising on web-1');

  const wecom = rx.wecom.accepted();
  expect(wecom).toHaveLength(1);
  expect(JSON.parse(wecom[0]?.body ?? '{}').msgtype).toBe('markdown');
  expect(wecom[0]?.text).toContain('<font color="warning">FIRING</font> [WARNING] HighCpu host=web-1 value=99');

  const wa = rx.whatsapp.accepted();
  expect(wa).toHaveLength(1);
  const waBody = JSON.parse(wa[0]?.body ?? '{}');
  expect(waBody).toMatchObject({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '8613800138000', type: 'text' });
  expect(waBody.text.body).toContain('FIRING [WARNING] HighCpu host=web-1 value=99');

  const tw = rx.twilio.accepted().map((r) => new URLSearchParams(r.body));
  expect(tw.map((f) => [f.get('To'), f.get('From')]).sort()).toEqual([
    ['+8613800138002', '+15005550006'],
    ['whatsapp:+8613800138001', 'whatsapp:+14155238886'],
  ]);
  expect(tw.every((f) => (f.get('Body') ?? '').includes('HighCpu'))).toBe(true);

  const mail = rx.smtp.received.map((r) => r.mail);
  expect(mail).toHaveLength(1);
  expect(mail[0]?.to).toEqual(['ops@example.test']);
  expect(mail[0]?.subject).toBe('[FIRING:1] HighCpu (host=web-1)');
  expect(mail[0]?.messageId).toMatch(/^<[0-9a-f]{40}@tidemark\.alerts>$/);
  expect(mail[0]?.raw).toContain('CPU <99%> & rising on web-1');

  const hooks = rx.webhook.notifications();
  expect(hooks).toHaveLength(1);
  expect(rx.webhook.accepted()[0]?.headers['idempotency-key']).toMatch(/^[0-9a-f]{40}$/);
  expect(hooks[0]?.body).toMatchObject({ version: 1, status: 'firing', projectId: tl.projectId, firingCount: 1 });

  const records = await tl.service.listNotifications(tl.projectId);
  expect(records.map((n) => [n.channel, n.status, n.attempts]).sort()).toEqual(
    ['hook', 'log', 'mail', 'slack', 'sms', 'wa-meta', 'wa-twilio', 'wecom'].map((c) => [c, 'sent', 1]),
  );
  for (const n of records) {
    const attempts = await tl.service.listAttempts(tl.projectId, n.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ attempt: 1, outcome: 'ok', replica: expect.stringMatching(/^timeline\//) });
  }
  const emailAttempt = await tl.service.listAttempts(tl.projectId, records.find((n) => n.channel === 'mail')?.id ?? 0);
  expect(emailAttempt[0]?.httpStatus).toBe(250);
  // last_sent_at is kept on the instance once a delivery of it succeeded.
  const [alert] = await tl.service.listActiveAlerts(tl.projectId);
  expect(alert?.lastSentAt).toBe(new Date(T0).toISOString());
});

test('a 4xx (or a WeCom errcode in an HTTP 200, or SMTP 550) is permanent: one attempt, failed, reason recorded', async () => {
  const tl = await timeline();
  for (const r of rx.all) r.setMode('reject');
  await tl.series('db-1', 0, 60, 99);
  await tl.addRule({ name: 'Rejected' });
  await tl.runTo(30);
  const records = await tl.service.listNotifications(tl.projectId);
  const byChannel = Object.fromEntries(records.map((n) => [n.channel, n]));
  for (const c of ['slack', 'wecom', 'wa-meta', 'wa-twilio', 'sms', 'mail', 'hook']) {
    expect([c, byChannel[c]?.status, byChannel[c]?.attempts]).toEqual([c, 'failed', 1]);
    const attempts = await tl.service.listAttempts(tl.projectId, byChannel[c]?.id ?? 0);
    expect(attempts.map((a) => a.outcome)).toEqual(['permanent']);
  }
  expect(byChannel.slack?.lastError).toBe('HTTP 404: channel_not_found');
  expect(byChannel.wecom?.lastError).toBe('WeCom errcode 93000: invalid webhook url');
  expect(byChannel['wa-meta']?.lastError).toMatch(/^WhatsApp Cloud API HTTP 400 code 131030: \(#131030\) Recipient phone number not in allowed list/);
  expect(byChannel.sms?.lastError).toMatch(/^HTTP 400: Twilio 21211: The 'To' number/);
  expect(byChannel.mail?.lastError).toMatch(/^SMTP 550/);
  expect(byChannel.hook?.lastError).toMatch(/^HTTP 422/);
  expect(byChannel.log?.status).toBe('sent');
  // The WeCom rejection came as HTTP 200: the errcode decided.
  const wecomAttempt = await tl.service.listAttempts(tl.projectId, byChannel.wecom?.id ?? 0);
  expect(wecomAttempt[0]?.httpStatus).toBe(200);
});

test('receivers failing for 60 s get every notification afterwards, exactly once per dedup key; no secret reaches a log', async () => {
  const lines: string[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const tl = await timeline({ ALERTING_RETRY_MAX_DELAY_MS: 20_000 }, true);
  const logger = createLogger({ level: 'debug' }, capture);
  tl.engine = new AlertEngine({ config: tl.config(), meta: env.pool, readonly: env.ro, logger, clock: tl.clock, replicaId: 'outage', retryInitialMs: 1 });
  const outageEnd = T0 + 60_000;
  for (const r of rx.all) r.setMode(() => (tl.clock.now() < outageEnd ? 'fail' : 'ok'));
  // Five hosts fire at different times during the outage; two resolve during it.
  await tl.series('h1', 0, 300, 99);
  await tl.series('h2', 10, 30, 99);
  await tl.series('h3', 20, 300, 99);
  await tl.series('h4', 30, 45, 99);
  await tl.series('h5', 50, 300, 99);
  await tl.addRule({ name: 'Outage' });
  await tl.runTo(59);
  expect(rx.all.every((r) => r.accepted().length === 0)).toBe(true);
  await tl.runTo(240);

  const { rows: events } = await env.pool.query<{ dedup_key: string }>('SELECT dedup_key FROM alert_events WHERE project_id = $1', [tl.projectId]);
  const expected = events.map((e) => e.dedup_key).sort();
  // h1..h5 firing, h2 and h4 resolved.
  expect(expected).toHaveLength(7);
  const keysOf = (text: string): string[] => [...text.matchAll(/\[([0-9a-f]{40})\]/g)].map((m) => m[1] as string);
  for (const r of [rx.slack, rx.wecom, rx.whatsapp, rx.smtp]) {
    const keys = r.accepted().flatMap((m) => keysOf(m.text));
    expect([r.name, keys.sort()]).toEqual([r.name, expected]);
    expect(r.received.some((m) => !m.accepted)).toBe(true);
  }
  // Twilio serves two channels here (SMS and WhatsApp): every key twice, once per channel.
  const twilioKeys = rx.twilio.accepted().flatMap((m) => keysOf(m.text));
  expect(twilioKeys.sort()).toEqual([...expected, ...expected].sort());
  const hookKeys = rx.webhook.notifications().flatMap((n) => n.body.alerts.filter((a) => a.isNew).map((a) => a.dedupKey));
  expect(hookKeys.sort()).toEqual(expected);
  expect(rx.webhook.duplicates).toEqual([]);
  expect(rx.all.every((r) => r.accepted().every((m) => m.at >= outageEnd))).toBe(true);

  const records = await tl.service.listNotifications(tl.projectId, { limit: 1000 });
  expect(records.every((n) => n.status === 'sent')).toBe(true);
  // The first alert's Slack delivery (records are newest first) lived through the whole outage.
  const attempts = await tl.service.listAttempts(tl.projectId, records.filter((n) => n.channel === 'slack').at(-1)?.id ?? 0);
  expect(attempts.length).toBeGreaterThan(2);
  expect(attempts.slice(0, -1).every((a) => a.outcome === 'retriable' && a.httpStatus === 500)).toBe(true);
  expect(attempts.at(-1)?.outcome).toBe('ok');

  const secrets = [rx.slack.hookPath, rx.wecom.key, rx.whatsapp.token, rx.twilio.authToken, rx.smtp.password, rx.webhook.secret];
  const logText = lines.join('');
  expect(logText).toContain('notification send failed; retrying later');
  for (const s of secrets) expect(logText).not.toContain(s);
  const { rows } = await env.pool.query<{ error: string }>('SELECT error FROM alert_notification_attempts WHERE project_id = $1 AND error IS NOT NULL', [
    tl.projectId,
  ]);
  for (const s of secrets) expect(rows.map((r) => r.error).join('\n')).not.toContain(s);
});

test('one hanging channel never holds back another', async () => {
  const tl = await timeline({ ALERTING_SEND_TIMEOUT_MS: 2000, ALERTING_SEND_RETRIES: 0 });
  rx.slack.setMode('hang');
  await tl.series('x', 0, 60, 99);
  await tl.addRule({ name: 'Hang' });
  const started = Date.now();
  await tl.engine.tick();
  await waitFor('the webhook', () => rx.webhook.accepted().length === 1, 5000, 10);
  const hookMs = Date.now() - started;
  expect(hookMs).toBeLessThan(1500);
  const slackRow = async () => (await tl.service.listNotifications(tl.projectId)).find((n) => n.channel === 'slack');
  expect((await slackRow())?.status).toBe('sending');
  await tl.engine.sender.drain();
  const slack = await slackRow();
  expect(slack?.status).toBe('pending');
  expect(slack?.lastError).toBe('no answer within 2000 ms');
  expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
});

test('test-send goes through the real channel and reports attempts; an unknown channel is a clear error', async () => {
  const tl = await timeline();
  const ok = await tl.service.testSend(tl.projectId, { channel: 'wecom', message: '测试告警' });
  expect(ok).toMatchObject({ ok: true, error: null, attempts: [{ attempt: 1, outcome: 'ok', httpStatus: 200 }] });
  expect(rx.wecom.accepted()[0]?.text).toContain('[TEST]');
  expect(rx.wecom.accepted()[0]?.text).toContain('测试告警');
  rx.twilio.setMode('reject');
  const bad = await tl.service.testSend(tl.projectId, { channel: 'sms' });
  expect(bad.ok).toBe(false);
  expect(bad.error).toMatch(/Twilio 21211/);
  expect(bad.attempts.map((a) => a.outcome)).toEqual(['permanent']);
  await expect(tl.service.testSend(tl.projectId, { channel: 'pager' })).rejects.toThrow(/no channel named "pager"/);
});

test('SMTP with a wrong password fails permanently (535) and names SMTP', async () => {
  const tl = await timeline({ ALERTING_SMTP_PASSWORD: 'wrong-password' });
  const r = await tl.service.testSend(tl.projectId, { channel: 'mail' });
  expect(r.ok).toBe(false);
  expect(r.error).toMatch(/^SMTP 535/);
  expect(r.attempts.map((a) => a.outcome)).toEqual(['permanent']);
});

test('a policy naming an unknown channel or an unset secret is refused with the field named', async () => {
  const tl = await timeline();
  await expect(
    tl.service.putPolicy(tl.projectId, {
      channels: [{ name: 'hook2', type: 'webhook', url: 'http://127.0.0.1:1/x', secret: '${NOT_SET_ANYWHERE}' }],
      routes: [{ channels: ['pager'] }],
    }),
  ).rejects.toThrow(/channels\[0\]: secret \$\{NOT_SET_ANYWHERE\} is not set.*routes\[0\]\.channels\[0\]: no channel named "pager"/);
  await expect(
    tl.service.putPolicy(tl.projectId, { channels: [{ name: 'hook3', type: 'webhook', url: 'http://127.0.0.1:1/x', secret: 'plain-secret' }] }),
  ).rejects.toThrow(/channels\.0\.secret: must be a reference like \$\{NAME\}/);
});
