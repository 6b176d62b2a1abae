/**
 * Timeline tests: the engine against real ClickHouse (chDB over HTTP),
 * real Postgres and a real webhook receiver, on a controllable clock. Each
 * test declares data over time and asserts the exact notifications (and
 * their times) the receiver got, like Alertmanager's acceptance tests.
 */
import { startTestEnv, type TestEnv } from './support/env';
import { seriesSql, T0, Timeline } from './support/timeline';

let env: TestEnv;
const timelines: Timeline[] = [];

beforeAll(async () => {
  env = await startTestEnv('timeline');
});

afterAll(async () => {
  await Promise.allSettled(timelines.map((t) => t.close()));
  await env?.stop();
});

async function timeline(opts?: Parameters<typeof Timeline.create>[1]): Promise<Timeline> {
  const t = await Timeline.create(env, opts);
  timelines.push(t);
  return t;
}

const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

test('for: pending for 30 s then firing; resolve when the value drops; Prometheus timestamps kept', async () => {
  const tl = await timeline();
  await tl.series('a', 0, 60, 50);
  await tl.series('a', 60, 180, 90);
  await tl.series('a', 180, 300, 50);
  await tl.addRule({ name: 'HighValue', for: '30s', annotations: { summary: 'value {{ value }} on {{ labels.host }}' } });
  await tl.runTo(75);
  const pending = await tl.service.listActiveAlerts(tl.projectId);
  expect(pending.map((a) => [a.labels.host, a.state, a.activeSince])).toEqual([['a', 'pending', at(60)]]);
  await tl.runTo(240);
  expect(tl.sent()).toEqual([
    { t: 90, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 180, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
  ]);
  expect(await tl.transitions()).toEqual(['60 a inactive>pending', '90 a pending>firing', '180 a firing>resolved']);
  const [firing, resolved] = tl.hook.notifications();
  expect(firing?.body.alerts[0]?.dedupKey).not.toEqual(resolved?.body.alerts[0]?.dedupKey);
  expect((firing?.body.alerts[0] as unknown as { annotations: Record<string, string> }).annotations.summary).toBe('value 90 on a');
  const { rows } = await env.pool.query('SELECT state, active_since, fired_at, resolved_at, last_sent_at, episode FROM alert_instances WHERE project_id = $1', [
    tl.projectId,
  ]);
  expect(rows).toEqual([
    {
      state: 'resolved',
      active_since: new Date(at(60)),
      fired_at: new Date(at(90)),
      resolved_at: new Date(at(180)),
      last_sent_at: new Date(at(180)),
      episode: 1,
    },
  ]);
  expect(await tl.service.listActiveAlerts(tl.projectId)).toEqual([]);
});

test('keep_firing_for: a dip shorter than 30 s does not resolve; resolve 30 s after the condition stops', async () => {
  const tl = await timeline();
  await tl.series('a', 0, 40, 90);
  await tl.series('a', 40, 50, 50);
  await tl.series('a', 50, 60, 90);
  await tl.series('a', 60, 200, 50);
  await tl.addRule({ name: 'Flappy', keep_firing_for: '30s' });
  await tl.runTo(120);
  expect(tl.sent()).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 90, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
  ]);
  expect(await tl.transitions()).toEqual([
    '0 a inactive>firing',
    '40 a firing>recovering',
    '50 a recovering>firing',
    '60 a firing>recovering',
    '90 a recovering>resolved',
  ]);
});

test('NoData: an empty result fires the rule NoData alert after its own pending period; firing alerts stay firing', async () => {
  const tl = await timeline();
  await tl.series('a', 0, 100, 50);
  await tl.series('b', 0, 100, 90);
  await tl.series('a', 200, 300, 50);
  await tl.series('b', 200, 300, 90);
  await tl.addRule({ name: 'Gappy', no_data: { state: 'nodata', for: '20s' } });
  await tl.runTo(250);
  expect(tl.sent()).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['b:firing:WARNING*'] },
    { t: 130, status: 'firing', repeat: false, alerts: ['NoData:firing:WARNING*'] },
    { t: 200, status: 'resolved', repeat: false, alerts: ['NoData:resolved:WARNING*'] },
  ]);
  expect(await tl.transitions()).toEqual(['0 b inactive>firing', '110 NoData inactive>pending', '130 NoData pending>firing', '200 NoData firing>resolved']);
  const active = await tl.service.listActiveAlerts(tl.projectId);
  expect(active.map((a) => [a.labels.host, a.state])).toEqual([['b', 'firing']]);
});

test('Error: a ClickHouse query timeout fires the Error alert; the firing alert is not resolved by the outage', async () => {
  const tl = await timeline();
  await tl.series('a', 0, 200, 90);
  const slowFrom = new Date(T0 + 60_000).toISOString().slice(0, 19).replace('T', ' ');
  const slowTo = new Date(T0 + 80_000).toISOString().slice(0, 19).replace('T', ' ');
  // Between 60 s and 80 s the query scans 10^11 numbers: ClickHouse stops it at the rule's 1 s limit.
  // (The numbers() generator: rule SQL may not name the system database.)
  const sql = seriesSql(tl.table).replace(
    'GROUP BY host',
    `AND (SELECT count() FROM numbers(if({now:DateTime64(3, 'UTC')} >= toDateTime64('${slowFrom}', 3, 'UTC') AND {now:DateTime64(3, 'UTC')} < toDateTime64('${slowTo}', 3, 'UTC'), 100000000000, 1))) > 0
GROUP BY host`,
  );
  await tl.addRule({ name: 'SlowQuery', sql, timeout: '1s', error: { state: 'error', for: '0s' } });
  await tl.runTo(100);
  expect(tl.sent()).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 60, status: 'firing', repeat: false, alerts: ['Error:firing:WARNING*'] },
    { t: 80, status: 'resolved', repeat: false, alerts: ['Error:resolved:WARNING*'] },
  ]);
  const errorAlert = tl.hook.notifications()[1]?.body.alerts[0] as unknown as { annotations: Record<string, string> };
  expect(errorAlert.annotations.error).toMatch(/ran longer than its time limit|Timeout exceeded/);
  const h = await tl.service.history(tl.projectId, { limit: 10 });
  expect(h.find((e) => e.to === 'firing' && e.kind === 'error')?.detail).toMatch(/ran longer than its time limit|Timeout exceeded/);
  expect((await tl.service.listActiveAlerts(tl.projectId)).map((a) => [a.labels.host, a.state])).toEqual([['a', 'firing']]);
});

test('severity thresholds: escalation and de-escalation are notified; the resolve carries the severity it fired at', async () => {
  const tl = await timeline();
  await tl.series('a', 0, 30, 85);
  await tl.series('a', 30, 60, 97);
  await tl.series('a', 60, 90, 85);
  await tl.series('a', 90, 150, 50);
  await tl.addRule({ name: 'Graded', condition: { op: '>', thresholds: { WARNING: 80, CRITICAL: 95 } } });
  await tl.runTo(120);
  expect(tl.sent()).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 30, status: 'firing', repeat: false, alerts: ['a:firing:CRITICAL*'] },
    // group_by ['...'] puts each severity in its own group of the same route: moving between
    // them announces the new severity and says nothing stale about the old one.
    { t: 60, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 90, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
  ]);
});

test('grouping: group_wait collects, group_interval batches changes, repeat_interval resends the unresolved', async () => {
  const tl = await timeline({
    policy: (url) => ({
      channels: [{ name: 'hook', type: 'webhook', url }],
      routes: [{ channels: ['hook'], group_by: ['alertname'], group_wait: '30s', group_interval: '60s', repeat_interval: '300s' }],
    }),
  });
  await tl.series('a', 0, 200, 90);
  await tl.series('a', 200, 600, 50);
  await tl.series('b', 20, 600, 90);
  await tl.series('c', 100, 600, 90);
  await tl.addRule({ name: 'Grouped' });
  await tl.runTo(520);
  expect(tl.sent()).toEqual([
    { t: 30, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*', 'b:firing:WARNING*'] },
    { t: 100, status: 'firing', repeat: false, alerts: ['c:firing:WARNING*', 'a:firing:WARNING', 'b:firing:WARNING'] },
    { t: 200, status: 'firing', repeat: false, alerts: ['a:resolved:WARNING*', 'b:firing:WARNING', 'c:firing:WARNING'] },
    { t: 500, status: 'firing', repeat: true, alerts: ['b:firing:WARNING', 'c:firing:WARNING'] },
  ]);
  expect(tl.hook.notifications().every((n) => (n.body.groupLabels as Record<string, string>).alertname === 'Grouped')).toBe(true);
});

test('acknowledge: no repeats until resolved; the resolve is sent; the next episode repeats again', async () => {
  const tl = await timeline({
    policy: (url) => ({
      channels: [{ name: 'hook', type: 'webhook', url }],
      routes: [{ channels: ['hook'], group_by: ['...'], group_wait: '0s', group_interval: '10s', repeat_interval: '60s' }],
    }),
  });
  await tl.series('a', 0, 200, 90);
  await tl.series('a', 200, 230, 50);
  await tl.series('a', 230, 400, 90);
  await tl.addRule({ name: 'Acked' });
  await tl.runTo(70);
  const [alert] = await tl.service.listActiveAlerts(tl.projectId);
  const acked = await tl.service.acknowledge(tl.projectId, {
    rule: 'Acked',
    fingerprint: alert?.fingerprint ?? '',
    by: 'oncall@example.com',
    comment: 'looking',
  });
  expect(acked.acknowledged).toEqual({ at: at(70), by: 'oncall@example.com', comment: 'looking' });
  await tl.runTo(300);
  expect(tl.sent()).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 60, status: 'firing', repeat: true, alerts: ['a:firing:WARNING'] },
    { t: 200, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
    { t: 230, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 290, status: 'firing', repeat: true, alerts: ['a:firing:WARNING'] },
  ]);
  const h = await tl.service.history(tl.projectId, { rule: 'Acked' });
  expect(h.some((e) => e.detail === 'acknowledged by oncall@example.com: looking')).toBe(true);
  await expect(tl.service.acknowledge(tl.projectId, { rule: 'Acked', fingerprint: 'f'.repeat(32), by: 'x' })).rejects.toThrow(/no active alert/);
});

test('silence: muted alerts are sent when the silence ends; a resolve while silenced is dropped', async () => {
  const tl = await timeline();
  await tl.series('a', 20, 150, 90);
  await tl.series('a', 150, 300, 50);
  await tl.series('b', 20, 150, 90);
  await tl.series('b', 150, 300, 50);
  await tl.addRule({ name: 'Silenced' });
  const s1 = await tl.service.createSilence(tl.projectId, { matchers: ['host="a"'], ends_at: at(100), created_by: 'ops', comment: 'deploy' });
  expect(s1.state).toBe('active');
  await tl.runTo(119);
  await tl.runTo(120);
  const s2 = await tl.service.createSilence(tl.projectId, {
    matchers: [{ name: 'host', op: '=~', value: 'b|x' }],
    ends_at: at(400),
    created_by: 'ops',
    comment: 'noisy',
  });
  const active = await tl.service.listActiveAlerts(tl.projectId);
  expect(active.map((a) => [a.labels.host, a.mutedBy])).toEqual(
    expect.arrayContaining([
      ['a', null],
      ['b', `silence ${s2.id}`],
    ]),
  );
  await tl.runTo(200);
  expect(tl.sent()).toEqual([
    { t: 20, status: 'firing', repeat: false, alerts: ['b:firing:WARNING*'] },
    { t: 100, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 150, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
  ]);
  expect((await tl.service.listSilences(tl.projectId, { state: 'expired' })).map((s) => s.id)).toEqual([s1.id]);
  const expired = await tl.service.expireSilence(tl.projectId, s2.id);
  expect(expired.state).toBe('expired');
  await expect(tl.service.createSilence(tl.projectId, { matchers: [], ends_at: at(500), created_by: 'ops', comment: 'x' })).rejects.toThrow(
    /matchers: a silence needs at least one matcher/,
  );
});

test('maintenance window: alerts in a window are held until it ends', async () => {
  const tl = await timeline();
  await tl.series('a', 10, 300, 90);
  await tl.series('b', 10, 300, 90);
  await tl.addRule({ name: 'Maint' });
  await tl.service.createMaintenanceWindow(tl.projectId, { name: 'db upgrade', matchers: ['host="a"'], starts_at: at(0), ends_at: at(50), created_by: 'ops' });
  await tl.runTo(70);
  expect(tl.sent()).toEqual([
    { t: 10, status: 'firing', repeat: false, alerts: ['b:firing:WARNING*'] },
    { t: 50, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
  ]);
});

test('restart: a pending for-clock and an unsent resolve survive a new engine process', async () => {
  const tl = await timeline();
  await tl.series('a', 60, 180, 90);
  await tl.series('a', 180, 300, 50);
  await tl.addRule({ name: 'Durable', for: '30s' });
  await tl.runTo(75);
  await tl.restart();
  await tl.runTo(179);
  // At 180 the engine evaluates (resolved + outbox event committed) and dies before dispatching.
  tl.clock.advance(1000);
  const ev = await tl.engine.evaluator.evaluateDue();
  expect(ev.events).toBe(1);
  await tl.restart();
  tl.clock.advance(5000);
  await tl.engine.runOnce();
  await tl.runTo(190);
  expect(tl.sent()).toEqual([
    { t: 90, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 185, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
  ]);
  expect(await tl.transitions()).toEqual(['60 a inactive>pending', '90 a pending>firing', '180 a firing>resolved']);
});

test('an annotation-only edit keeps the pending clock; the notification carries the new text', async () => {
  const tl = await timeline();
  await tl.series('a', 60, 200, 90);
  await tl.addRule({ name: 'Edited', for: '30s', annotations: { summary: 'old text' } });
  await tl.runTo(75);
  const stored = await tl.service.getRule(tl.projectId, 'Edited');
  await tl.service.updateRule(tl.projectId, 'Edited', { ...stored.spec, annotations: { summary: 'new text {{ labels.host }}' } });
  const [pending] = await tl.service.listActiveAlerts(tl.projectId);
  expect([pending?.state, pending?.activeSince]).toEqual(['pending', at(60)]);
  await tl.runTo(95);
  expect(tl.sent()).toEqual([{ t: 90, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] }]);
  expect((tl.hook.notifications()[0]?.body.alerts[0] as unknown as { annotations: Record<string, string> }).annotations.summary).toBe('new text a');
  expect((await tl.service.getRule(tl.projectId, 'Edited')).version).toBe(2);
});

test('deleting a rule resolves its firing alerts and sends the resolve', async () => {
  const tl = await timeline();
  await tl.series('a', 0, 100, 90);
  await tl.addRule({ name: 'Doomed' });
  await tl.runTo(10);
  await tl.service.deleteRule(tl.projectId, 'Doomed');
  await tl.runTo(20);
  expect(tl.sent()).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    // Deleted through the API at 10 s; the resolve goes out on the next tick.
    { t: 11, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
  ]);
  await expect(tl.service.getRule(tl.projectId, 'Doomed')).rejects.toThrow(/no rule Doomed/);
});
