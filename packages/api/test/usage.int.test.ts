/**
 * Anonymous usage statistics (/api/analytics-monitoring/usage/...) from
 * tidemark.install.heartbeat events: installs seen, active in the last
 * 1/7/30 days, new, the daily series, and the OS and version of active
 * installs (each counted once, with its latest heartbeat). Heartbeats come
 * in both shapes: install_id/os/version properties, and the monitor's
 * (distinct_id, tidemark_version, context). The other project's installs
 * never show.
 */
import { createApiKey, ensureProject } from '@tidemark/core';
import { DAY, rng } from './fixtures/biz';
import { localDate, pct, shiftDate, startApi, type ApiEnv } from './helpers';

let env: ApiEnv;
const NOW = Date.now();
const U = '/api/analytics-monitoring/usage';
const TZ = 'America/New_York';
const r = rng(11);
const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

interface Beat {
  install: string;
  at: number;
  os: string;
  version: string;
  /** How it is sent: install_id/os/version properties, or as the monitor does (distinct_id, tidemark_version, context). */
  style: 'props' | 'context';
}
const beats: Beat[] = [];
for (let i = 0; i < 40; i++) {
  const os = ['linux', 'windows', 'macos'][i % 3]!;
  const style = i % 4 === 0 ? 'context' : 'props';
  const count = int(1, 6);
  // Heartbeats k and a half days ago: clear of every rolling-window edge.
  const ks = [...new Set(Array.from({ length: count }, () => int(0, 60)))].sort((a, b) => b - a);
  ks.forEach((k, j) =>
    beats.push({ install: `inst-${i}`, at: NOW - (k + 0.5) * DAY, os, version: j === ks.length - 1 && i % 5 === 0 ? '2.0.0' : '1.9.0', style }),
  );
}

const event = (b: Beat) =>
  b.style === 'props'
    ? { name: 'tidemark.install.heartbeat', timestamp: b.at, properties: { install_id: b.install, os: b.os, version: b.version } }
    : // As the monitor's UsageReporter sends it.
      {
        name: 'tidemark.install.heartbeat',
        timestamp: b.at,
        distinct_id: b.install,
        properties: { os: b.os, arch: 'x64', tidemark_version: b.version, deployment: 'embedded' },
        context: { os: b.os, app_version: b.version },
      };

beforeAll(async () => {
  env = await startApi();
  await env.ingest(env.stack.project, [
    ...beats.map(event),
    { name: 'tidemark.install.other', timestamp: NOW - 1000, properties: { install_id: 'not-a-heartbeat', os: 'beos' } },
  ]);
  await env.ingest(env.other.project, [
    { name: 'tidemark.install.heartbeat', timestamp: NOW - 1000, properties: { install_id: 'secret_b', os: 'secret_b_os', version: 'secret_b_v' } },
  ]);
}, 120_000);

afterAll(async () => {
  await env?.close();
});

const installs = () => [...new Set(beats.map((b) => b.install))];
const first = (i: string) => Math.min(...beats.filter((b) => b.install === i).map((b) => b.at));
const last = (i: string) => Math.max(...beats.filter((b) => b.install === i).map((b) => b.at));

test('installs: total, active in the last 1/7/30 days, new, and the daily series in a time zone', async () => {
  const res = await env.get(`${U}/installs?days=14&timezone=${encodeURIComponent(TZ)}`);
  expect(res.status).toBe(200);
  const all = installs();
  const activeWithin = (d: number) => all.filter((i) => last(i) >= NOW - d * DAY).length;
  const newWithin = (d: number) => all.filter((i) => first(i) >= NOW - d * DAY).length;
  expect(res.json).toMatchObject({
    total_installs: all.length,
    daily_active: activeWithin(1),
    weekly_active: activeWithin(7),
    monthly_active: activeWithin(30),
    new_installs_7d: newWithin(7),
    new_installs_30d: newWithin(30),
    timezone: TZ,
  });
  const end = localDate(Date.now(), TZ);
  expect(res.json.daily).toHaveLength(14);
  expect(res.json.daily[0].date).toBe(shiftDate(end, -13));
  for (const d of res.json.daily) {
    expect(d).toEqual({
      date: d.date,
      active_installs: new Set(beats.filter((b) => localDate(b.at, TZ) === d.date).map((b) => b.install)).size,
      new_installs: all.filter((i) => localDate(first(i), TZ) === d.date).length,
    });
  }
  expect(res.text).not.toMatch(/secret_b|not-a-heartbeat/);
});

test('OS and version distribution of installs active in the window, by their latest heartbeat', async () => {
  for (const days of [30, 7]) {
    const res = await env.get(`${U}/distribution?days=${days}`);
    expect(res.status).toBe(200);
    const active = installs().filter((i) => last(i) >= NOW - days * DAY);
    const latest = active.map((i) => beats.filter((b) => b.install === i).sort((a, b) => b.at - a.at)[0]!);
    const shares = (key: 'os' | 'version') => {
      const m = new Map<string, number>();
      for (const b of latest) m.set(b[key], (m.get(b[key]) ?? 0) + 1);
      return [...m.entries()]
        .map(([value, n]) => ({ value, installs: n, percent: pct(n, active.length) }))
        .sort((a, b) => b.installs - a.installs || (a.value < b.value ? -1 : 1));
    };
    expect(res.json).toEqual({ days, active_installs: active.length, os: shares('os'), version: shares('version') });
  }
  const theirs = await env.get(`${U}/distribution`, env.other.read);
  expect(theirs.json.os).toEqual([{ value: 'secret_b_os', installs: 1, percent: 100 }]);
  expect((await env.get(`${U}/distribution?days=abc`)).json.error.context.issues[0].path).toBe('query.days');
});

// Moved from packages/monitor (its own usage-stats queries were a second definition of an install, now removed):
// the summary the requirements' stats page shows, over heartbeats exactly as the monitor's UsageReporter sends them.
test('usage stats of monitor heartbeats: total installs, daily and weekly active, OS and version distribution, daily series', async () => {
  const project = `${env.stack.project}-stats`;
  await ensureProject(env.stack.meta, project);
  const read = (await createApiKey(env.stack.meta, { projectId: project, role: 'read' })).key;
  const now = Date.now();
  const beat = (id: string, os: string, version: string, agoMs: number) => ({
    name: 'tidemark.install.heartbeat',
    timestamp: now - agoMs,
    distinct_id: id,
    properties: { os, arch: 'x64', tidemark_version: version, node_version: process.versions.node, deployment: 'embedded' },
    context: { os, app_version: version },
  });
  await env.ingest(project, [
    beat('11111111-1111-4111-8111-111111111111', 'linux', '0.1.0', 120_000), // today
    beat('11111111-1111-4111-8111-111111111111', 'linux', '0.2.0', 60_000), // upgraded today
    beat('22222222-2222-4222-8222-222222222222', 'darwin', '0.1.0', 3 * DAY), // this week
    beat('33333333-3333-4333-8333-333333333333', 'win32', '0.1.0', 20 * DAY), // this month
    beat('44444444-4444-4444-8444-444444444444', 'linux', '0.0.9', 60 * DAY), // long ago
    beat('55555555-5555-4555-8555-555555555555', 'linux', '0.1.0', 30_000), // today (the monitor test's own install)
  ]);
  const installs = await env.get(`${U}/installs?days=61&timezone=UTC`, read);
  expect(installs.status).toBe(200);
  expect(installs.json).toMatchObject({ total_installs: 5, daily_active: 2, weekly_active: 3 });
  const daily = installs.json.daily as { date: string; active_installs: number }[];
  expect(daily.reduce((n, d) => n + d.active_installs, 0)).toBeGreaterThanOrEqual(5);
  expect(daily.at(-1)).toMatchObject({ date: localDate(now, 'UTC'), active_installs: 2 });
  const dist = await env.get(`${U}/distribution?days=30`, read);
  const counts = (list: { value: string; installs: number }[]) => Object.fromEntries(list.map((x) => [x.value, x.installs]));
  expect(counts(dist.json.os)).toEqual({ linux: 2, darwin: 1, win32: 1 });
  expect(counts(dist.json.version)).toEqual({ '0.1.0': 3, '0.2.0': 1 });
});
