/**
 * Delivery under faults (issue 14), in the timeline harness: real Postgres,
 * real ClickHouse (chDB), a real webhook receiver on loopback that fails or
 * hangs on command, and the ManualClock. Each test asserts what the receiver
 * got, in arrival order, with times on the test clock.
 */
import { startTestEnv, type TestEnv } from './support/env';
import { T0, Timeline } from './support/timeline';

let env: TestEnv;
const timelines: Timeline[] = [];

beforeAll(async () => {
  env = await startTestEnv('delivery');
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

interface Arrival {
  t: number;
  path: string;
  status: string;
  repeat: boolean;
  /** "host:status:SEVERITY", "*" when new. */
  alerts: string[];
  keys: { host: string; status: string; isNew: boolean; dedupKey: string }[];
}

function arrivals(tl: Timeline): Arrival[] {
  return tl.hook.accepted().map((r) => {
    const body = JSON.parse(r.body) as {
      status: string;
      isRepeat: boolean;
      alerts: { status: string; isNew: boolean; dedupKey: string; labels: Record<string, string> }[];
    };
    return {
      t: (r.at - T0) / 1000,
      path: r.path,
      status: body.status,
      repeat: body.isRepeat,
      alerts: body.alerts.map((a) => `${a.labels.host}:${a.status}:${a.labels.severity}${a.isNew ? '*' : ''}`),
      keys: body.alerts.map((a) => ({ host: a.labels.host ?? '', status: a.status, isNew: a.isNew, dedupKey: a.dedupKey })),
    };
  });
}

const short = (a: Arrival[]) => a.map(({ t, status, repeat, alerts }) => ({ t, status, repeat, alerts }));

test('severity routes: escalation, de-escalation and resolve reach each route with the severity it fired at; no re-page after resolve', async () => {
  const timers = { group_by: ['host'], group_wait: '0s', group_interval: '10s', repeat_interval: '60s' };
  const tl = await timeline({
    policy: (url) => ({
      channels: [
        { name: 'crit', type: 'webhook', url: `${url}/crit` },
        { name: 'warn', type: 'webhook', url: `${url}/warn` },
      ],
      routes: [
        { matchers: ['severity="CRITICAL"'], channels: ['crit'], ...timers },
        { channels: ['warn'], ...timers },
      ],
    }),
  });
  // a: WARNING → CRITICAL → WARNING → resolved. b: CRITICAL, resolved straight from CRITICAL.
  await tl.series('a', 0, 30, 85);
  await tl.series('a', 30, 60, 97);
  await tl.series('a', 60, 90, 85);
  await tl.series('a', 90, 400, 50);
  await tl.series('b', 0, 40, 97);
  await tl.series('b', 40, 400, 50);
  await tl.addRule({ name: 'Graded', condition: { op: '>', thresholds: { WARNING: 80, CRITICAL: 95 } } });
  await tl.runTo(360);
  const got = arrivals(tl);
  expect(short(got.filter((a) => a.path === '/crit'))).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['b:firing:CRITICAL*'] },
    { t: 30, status: 'firing', repeat: false, alerts: ['a:firing:CRITICAL*'] },
    { t: 40, status: 'resolved', repeat: false, alerts: ['b:resolved:CRITICAL*'] },
    // De-escalation: the CRITICAL route hears the page is over, at the severity it was paged with.
    { t: 60, status: 'resolved', repeat: false, alerts: ['a:resolved:CRITICAL*'] },
  ]);
  expect(short(got.filter((a) => a.path === '/warn'))).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    // Escalation: the WARNING route's alert is over there (it moved to the CRITICAL route).
    { t: 30, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
    { t: 60, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 90, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
  ]);
  // 0 stale re-pages: nothing after the last resolve although repeat_interval is 60 s and we ran to 360 s.
  expect(got.filter((a) => a.t > 90)).toEqual([]);
  const { rows } = await env.pool.query('SELECT count(*)::int AS n FROM alert_group_alerts WHERE project_id = $1', [tl.projectId]);
  expect(rows[0]).toEqual({ n: 0 });
});

test('outage with several state changes in flight: each alert arrives in order, repeats never first, all within 5 s of recovery', async () => {
  const tl = await timeline({
    policy: (url) => ({
      channels: [{ name: 'hook', type: 'webhook', url }],
      routes: [{ channels: ['hook'], group_by: ['host'], group_wait: '0s', group_interval: '5s', repeat_interval: '15s' }],
    }),
  });
  const outageEnd = T0 + 60_000;
  tl.hook.setMode(() => (tl.clock.now() < outageEnd ? 'fail' : 'ok'));
  // a: fires, resolves, fires again (episode 2), resolves, all during the outage. b: fires at 10 and
  // repeats every 15 s during it. c: fires at 40 and resolves at 70, after the receiver is back.
  await tl.series('a', 0, 20, 90);
  await tl.series('a', 20, 30, 50);
  await tl.series('a', 30, 50, 90);
  await tl.series('a', 50, 200, 50);
  await tl.series('b', 10, 200, 90);
  await tl.series('c', 40, 70, 90);
  await tl.series('c', 70, 200, 50);
  await tl.addRule({ name: 'Churn', interval: '5s' });
  await tl.runTo(59);
  expect(tl.hook.accepted()).toEqual([]);
  await tl.runTo(100);
  const got = arrivals(tl);
  // Recovery latency: everything queued during the outage is delivered within 5 s of recovery.
  const records = await tl.service.listNotifications(tl.projectId, { limit: 1000 });
  const queuedInOutage = records.filter((n) => Date.parse(n.createdAt) < outageEnd && n.status === 'sent');
  expect(queuedInOutage.length).toBeGreaterThanOrEqual(5);
  expect(Math.max(...queuedInOutage.map((n) => Date.parse(n.sentAt ?? '') - outageEnd))).toBeLessThanOrEqual(5_000);
  expect(got.every((a) => a.t >= 60)).toBe(true);

  // Per alert, the order the receiver saw equals the order the changes happened.
  const seen = (host: string): string[] => got.flatMap((a) => a.keys.filter((k) => k.host === host && k.isNew).map((k) => k.status));
  expect(seen('a')).toEqual(['firing', 'resolved', 'firing', 'resolved']);
  expect(seen('b')).toEqual(['firing']);
  expect(seen('c')).toEqual(['firing', 'resolved']);
  for (const host of ['a', 'b', 'c']) {
    const first = got.findIndex((a) => a.keys.some((k) => k.host === host));
    expect(got[first]?.repeat).toBe(false);
  }
  // Exactly once per change.
  const { rows: events } = await env.pool.query<{ dedup_key: string }>('SELECT dedup_key FROM alert_events WHERE project_id = $1', [tl.projectId]);
  const newKeys = got.flatMap((a) => a.keys.filter((k) => k.isNew).map((k) => k.dedupKey));
  expect(newKeys.sort()).toEqual(events.map((e) => e.dedup_key).sort());
  expect(tl.hook.duplicates).toEqual([]);
  // Repeats queued during the outage behind newer news were dropped as superseded, visibly.
  expect(records.every((n) => n.status === 'sent' || n.status === 'superseded')).toBe(true);
  expect(records.some((n) => n.status === 'superseded')).toBe(true);
  // Every attempt is recorded with its outcome; none is left 'started' (nothing crashed here).
  const { rows: attempts } = await env.pool.query<{ outcome: string; finished: boolean }>(
    'SELECT outcome, finished_at IS NOT NULL AS finished FROM alert_notification_attempts WHERE project_id = $1',
    [tl.projectId],
  );
  expect(attempts.length).toBeGreaterThan(records.length);
  expect(attempts.every((a) => a.finished && a.outcome !== 'started')).toBe(true);
});

test('recovery latency: after a 60 s outage, 8 alerts queued at different times all arrive within 5 s of recovery', async () => {
  const tl = await timeline();
  const outageEnd = T0 + 60_000;
  tl.hook.setMode(() => (tl.clock.now() < outageEnd ? 'fail' : 'ok'));
  for (let i = 0; i < 8; i++) await tl.series(`h${i}`, i * 7, 300, 90);
  await tl.addRule({ name: 'Recover', interval: '1s' });
  await tl.runTo(90);
  const got = arrivals(tl);
  const hosts = new Set(got.flatMap((a) => a.keys.filter((k) => k.isNew).map((k) => k.host)));
  expect(hosts.size).toBe(8);
  const latencies = got.map((a) => a.t - 60);
  expect(Math.min(...latencies)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...latencies)).toBeLessThanOrEqual(5);
});

test('a resolve while silenced or in a maintenance window is sent when the mute ends to whoever got the firing', async () => {
  const tl = await timeline();
  await tl.series('a', 0, 50, 90);
  await tl.series('a', 50, 300, 50);
  await tl.series('b', 0, 40, 90);
  await tl.series('b', 40, 300, 50);
  // Never sent: fires and resolves inside the silence, so its resolve is dropped.
  await tl.series('c', 20, 30, 90);
  await tl.series('c', 30, 300, 50);
  await tl.addRule({ name: 'Muted' });
  await tl.runTo(5);
  await tl.service.createSilence(tl.projectId, { matchers: ['host=~"a|c"'], ends_at: at(100), created_by: 'ops', comment: 'deploy' });
  await tl.service.createMaintenanceWindow(tl.projectId, { name: 'db', matchers: ['host="b"'], starts_at: at(5), ends_at: at(80), created_by: 'ops' });
  await tl.runTo(200);
  // Sends of one second to different groups may arrive in either order.
  expect(short(arrivals(tl)).sort((x, y) => x.t - y.t || x.alerts.join().localeCompare(y.alerts.join()))).toEqual([
    { t: 0, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] },
    { t: 0, status: 'firing', repeat: false, alerts: ['b:firing:WARNING*'] },
    { t: 80, status: 'resolved', repeat: false, alerts: ['b:resolved:WARNING*'] },
    { t: 100, status: 'resolved', repeat: false, alerts: ['a:resolved:WARNING*'] },
  ]);
});

test('ALERTING_SEND_RESOLVED_AFTER_MUTE=false drops a resolve that happened while silenced', async () => {
  const tl = await timeline({ configOverrides: { ALERTING_SEND_RESOLVED_AFTER_MUTE: false } });
  await tl.series('a', 0, 50, 90);
  await tl.series('a', 50, 300, 50);
  await tl.addRule({ name: 'MutedOff' });
  await tl.runTo(5);
  await tl.service.createSilence(tl.projectId, { matchers: ['host="a"'], ends_at: at(100), created_by: 'ops', comment: 'deploy' });
  await tl.runTo(150);
  expect(short(arrivals(tl))).toEqual([{ t: 0, status: 'firing', repeat: false, alerts: ['a:firing:WARNING*'] }]);
});

test('an attempt is on record as started before the send completes', async () => {
  // The timeout is long enough that a loaded machine still reads the row while the send hangs.
  const tl = await timeline({ configOverrides: { ALERTING_SEND_TIMEOUT_MS: 5000, ALERTING_SEND_RETRIES: 0 } });
  tl.hook.setMode('hang');
  await tl.series('a', 0, 60, 90);
  await tl.addRule({ name: 'Hung' });
  await tl.engine.tick();
  // The send runs in the background: wait until the receiver holds the request.
  for (let i = 0; i < 200 && tl.hook.received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(tl.hook.received).toHaveLength(1);
  // The send is hanging now: its attempt row exists already (a kill -9 here would leave it).
  const during = await env.pool.query<{ outcome: string; finished: boolean }>(
    'SELECT outcome, finished_at IS NOT NULL AS finished FROM alert_notification_attempts WHERE project_id = $1',
    [tl.projectId],
  );
  expect(during.rows).toEqual([{ outcome: 'started', finished: false }]);
  await tl.engine.sender.drain();
  const after = await env.pool.query<{ outcome: string; finished: boolean; error: string }>(
    'SELECT outcome, finished_at IS NOT NULL AS finished, error FROM alert_notification_attempts WHERE project_id = $1',
    [tl.projectId],
  );
  expect(after.rows).toEqual([{ outcome: 'retriable', finished: true, error: 'no answer within 5000 ms' }]);
  tl.hook.setMode('ok');
});
