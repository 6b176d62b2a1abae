import crypto from 'node:crypto';
import { parseConfig } from '@tidemark/core';
import { channelConfigSchema, channels, CHANNEL_TYPES, render, signWebhook, titleOf, type Notification } from '../src/channels';
import { inWindow, type MaintenanceWindow } from '../src/notify/mute';
import { checkPolicy, DEFAULT_ROUTE, groupLabelsOf, matchRoutes, policySchema, resolveSecret } from '../src/notify/policy';
import { redact } from '../src/notify/sender';
import { matchers, parseMatcher } from './support/matchers-helper';
import { alertingRoleConfigSchema } from '../src';

const notification = (over: Partial<Notification> = {}): Notification => ({
  id: 1,
  projectId: 'p',
  idempotencyKey: 'k'.repeat(40),
  groupKey: 'g',
  groupLabels: { alertname: 'HighCpu' },
  status: 'firing',
  severity: 'CRITICAL',
  alerts: [
    {
      rule: 'HighCpu',
      fingerprint: 'f',
      kind: 'alert',
      status: 'firing',
      severity: 'CRITICAL',
      labels: { alertname: 'HighCpu', host: 'web-1', severity: 'CRITICAL' },
      annotations: { summary: 'CPU 97%' },
      value: 97.123,
      startsAt: '2026-03-02T10:00:00.000Z',
      endsAt: null,
      dedupKey: 'd'.repeat(40),
      isNew: true,
      acknowledged: false,
    },
  ],
  firingCount: 1,
  resolvedCount: 0,
  omitted: 0,
  commonLabels: {},
  commonAnnotations: {},
  isRepeat: false,
  isTest: false,
  createdAt: '2026-03-02T10:00:00.000Z',
  ...over,
});

describe('matchers', () => {
  test('Alertmanager syntax and semantics (anchored regex, missing label = "")', () => {
    expect(parseMatcher('severity="CRITICAL"')).toEqual({ name: 'severity', op: '=', value: 'CRITICAL' });
    expect(parseMatcher('team=~"db|ops"')).toEqual({ name: 'team', op: '=~', value: 'db|ops' });
    expect(parseMatcher('host!=web-1')).toEqual({ name: 'host', op: '!=', value: 'web-1' });
    expect(parseMatcher('nonsense')).toMatch(/is not a matcher/);
    expect(matchers('team=~"db|ops"', { team: 'db' })).toBe(true);
    expect(matchers('team=~"db|ops"', { team: 'dbx' })).toBe(false);
    expect(matchers('env=""', {})).toBe(true);
    expect(matchers('env!~"prod.*"', { env: 'staging' })).toBe(true);
  });
});

describe('routing', () => {
  const policy = policySchema.parse({
    channels: [{ name: 'sms', type: 'sms', to: ['+8613800138000'] }],
    routes: [
      { name: 'crit', matchers: ['severity="CRITICAL"'], channels: ['sms'], continue: true, group_by: ['alertname', 'host'] },
      { name: 'db', matchers: { team: 'db' }, channels: ['log'] },
    ],
  });
  const eff = { channels: new Map(), routes: [...policy.routes.map((r) => ({ ...r, name: r.name ?? '' })), { ...DEFAULT_ROUTE, name: 'default' }] };

  test('first match wins unless continue; the default route catches the rest', () => {
    expect(matchRoutes(eff, { severity: 'CRITICAL', team: 'db' }).map((r) => r.name)).toEqual(['crit', 'db']);
    expect(matchRoutes(eff, { severity: 'CRITICAL' }).map((r) => r.name)).toEqual(['crit']);
    expect(matchRoutes(eff, { severity: 'INFO' }).map((r) => r.name)).toEqual(['default']);
  });

  test('group labels', () => {
    expect(groupLabelsOf(policy.routes[0]!, { alertname: 'A', host: 'h', x: 'y' })).toEqual({ alertname: 'A', host: 'h' });
    expect(groupLabelsOf({ ...DEFAULT_ROUTE, group_by: ['...'] }, { a: '1' })).toEqual({ a: '1' });
  });

  test('policy checks: unknown channels, duplicates, unset secrets; secrets resolve from keys or ALERTING_SECRETS', () => {
    const config = parseConfig(alertingRoleConfigSchema, {}, { ALERTING_SECRETS: '{"TEAM_HOOK":"s3"}', ALERTING_WECOM_KEY: 'wk' });
    expect(resolveSecret(config, '${TEAM_HOOK}')).toBe('s3');
    expect(resolveSecret(config, '${ALERTING_WECOM_KEY}')).toBe('wk');
    expect(resolveSecret(config, '${NOPE}')).toBe('');
    const p = policySchema.parse({
      channels: [
        { name: 'w', type: 'wecom' },
        { name: 'w', type: 'slack' },
      ],
      routes: [{ channels: ['w', 'missing', 'log'] }],
    });
    expect(checkPolicy(p, config)).toEqual([
      { field: 'channels[1].name', message: 'channel "w" is defined twice' },
      { field: 'channels[1]', message: 'secret ${ALERTING_SLACK_WEBHOOK_SECRET_URL} is not set (add it to ALERTING_SECRETS or set the config key)' },
      { field: 'routes[0].channels[1]', message: 'no channel named "missing"' },
    ]);
  });
});

describe('channels', () => {
  test('the registry has one implementation per type, each with a schema and a template', () => {
    expect(CHANNEL_TYPES.sort()).toEqual(['dingtalk', 'email', 'feishu', 'log', 'opsgenie', 'pagerduty', 'slack', 'sms', 'webhook', 'wecom', 'whatsapp']);
    for (const t of CHANNEL_TYPES) {
      expect(channels[t].type).toBe(t);
      expect(typeof channels[t].send).toBe('function');
      expect(channels[t].defaultTemplate.length).toBeGreaterThan(10);
    }
  });

  test('configs are validated per type with clear messages', () => {
    const r = channelConfigSchema.safeParse({ name: 'x', type: 'sms', to: ['13800138000'] });
    expect(r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['to.0: must be an E.164 number such as +8613800138000']);
    const s = channelConfigSchema.safeParse({ name: 'x', type: 'pager' });
    expect(s.success).toBe(false);
  });

  test('one template per channel renders firing and resolved alike', () => {
    const n = notification();
    expect(titleOf(n)).toBe('[FIRING:1] HighCpu');
    expect(render(channels.sms.defaultTemplate, n)).toBe('[FIRING:1] HighCpu\nFIRING CRITICAL HighCpu host=web-1 =97.12\n');
    const resolved = notification({ status: 'resolved', firingCount: 0, resolvedCount: 1, alerts: [{ ...n.alerts[0]!, status: 'resolved' }] });
    expect(render(channels.sms.defaultTemplate, resolved)).toBe('[RESOLVED] HighCpu\nRESOLVED CRITICAL HighCpu host=web-1 =97.12\n');
  });

  test('webhook signature and secret redaction', () => {
    expect(signWebhook('k', '1700000000', '{}')).toBe(`v1=${crypto.createHmac('sha256', 'k').update('1700000000.{}').digest('hex')}`);
    expect(redact('POST https://x/send?key=abc123&x=1 failed: token s3cr3t-value', ['s3cr3t-value'])).toBe(
      'POST https://x/send?key=<redacted>&x=1 failed: token <redacted>',
    );
  });
});

describe('maintenance windows', () => {
  const w = (r: MaintenanceWindow['recurrence']): MaintenanceWindow => ({ id: 'i', name: 'n', matchers: [], startsAt: 0, endsAt: null, recurrence: r });
  test('weekly recurrence in a time zone, including past midnight', () => {
    // 2026-03-02 is a Monday; Asia/Shanghai is UTC+8.
    const nightly = w({ weekdays: [1], start: '23:00', end: '03:00', timezone: 'Asia/Shanghai' });
    // Monday 23:30 in Shanghai is 15:30 UTC; Tuesday 01:00 in Shanghai (still Monday's window) is Monday 17:00 UTC.
    expect(inWindow(nightly, Date.UTC(2026, 2, 2, 15, 30))).toBe(true);
    expect(inWindow(nightly, Date.UTC(2026, 2, 2, 17, 0))).toBe(true);
    expect(inWindow(nightly, Date.UTC(2026, 2, 2, 20, 0))).toBe(false);
    expect(inWindow(w({ weekdays: [7], start: '23:00', end: '03:00', timezone: 'Asia/Shanghai' }), Date.UTC(2026, 2, 1, 18, 30))).toBe(true);
    expect(inWindow(w({ weekdays: [1], start: '09:00', end: '10:00', timezone: 'UTC' }), Date.UTC(2026, 2, 2, 9, 30))).toBe(true);
    expect(inWindow(w({ weekdays: [2], start: '09:00', end: '10:00', timezone: 'UTC' }), Date.UTC(2026, 2, 2, 9, 30))).toBe(false);
    expect(inWindow({ ...w(null), startsAt: 100, endsAt: 200 }, 150)).toBe(true);
    expect(inWindow({ ...w(null), startsAt: 100, endsAt: 200 }, 200)).toBe(false);
  });
});
