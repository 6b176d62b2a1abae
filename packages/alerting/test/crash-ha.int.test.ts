/**
 * Real engine processes (scheduler ticks, system clock): kill -9 in the middle
 * of a send, restart, and two replicas at once. The receivers are real
 * loopback webhook servers that verify signatures and honour Idempotency-Key.
 */
import { AlertingService } from '../src';
import { spawnEngine, type EngineProcess } from './support/child';
import { startTestEnv, uniqueName, waitFor, type TestEnv } from './support/env';
import { WebhookReceiver } from './support/receivers';

let env: TestEnv;
const children: EngineProcess[] = [];
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  env = await startTestEnv('crash');
});

afterAll(async () => {
  await Promise.allSettled(children.map((c) => c.kill9()));
  await Promise.allSettled(receivers.map((r) => r.close()));
  await env?.stop();
});

/** Hosts of each live table, written when the project exists (setup). */
const liveHosts = new Map<string, string[]>();

/**
 * A table of real-time samples: `hosts` at 99 from a minute ago to ten minutes ahead. It has a
 * project_id column (rule SQL may only read tenant tables); setup writes the rows for its project.
 */
async function liveTable(hosts: string[]): Promise<string> {
  const table = uniqueName('live').toLowerCase();
  await env.rw.command(
    `CREATE TABLE ${table} (project_id String, ts DateTime64(3, 'UTC'), host String, value Float64) ENGINE = MergeTree ORDER BY (project_id, host, ts)`,
  );
  liveHosts.set(table, hosts);
  return table;
}

async function fillLiveTable(table: string, project: string): Promise<void> {
  const now = Date.now();
  const rows = [];
  for (const host of liveHosts.get(table) ?? [])
    for (let t = now - 60_000; t < now + 600_000; t += 2_000)
      rows.push({ project_id: project, ts: new Date(t).toISOString().replace('T', ' ').replace('Z', ''), host, value: 99 });
  await env.rw.client.insert({ table, values: rows, format: 'JSONEachRow' });
}

const ruleSql = (table: string): string =>
  `SELECT host, argMax(value, ts) AS value FROM ${table} WHERE project_id = {project_id:String} AND ts <= {now:DateTime64(3, 'UTC')} AND ts > {now:DateTime64(3, 'UTC')} - INTERVAL 10 SECOND GROUP BY host`;

async function setup(
  hook: WebhookReceiver,
  groupBy: string[],
  rules: { name: string; table: string }[],
): Promise<{ service: AlertingService; project: string; config: Record<string, string | number> }> {
  const config = {
    ALERTING_WEBHOOK_SECRET: hook.secret,
    ALERTING_TICK_MS: 200,
    ALERTING_LEASE_MS: 20_000,
    ALERTING_SEND_TIMEOUT_MS: 5_000,
    ALERTING_SEND_RETRIES: 0,
  };
  const service = new AlertingService({ meta: env.pool, readonly: env.ro, config: env.config(config), logger: env.logger });
  const project = await env.createProject();
  await service.putPolicy(project, {
    channels: [{ name: 'hook', type: 'webhook', url: hook.url }],
    routes: [{ channels: ['hook'], group_by: groupBy, group_wait: '1s', group_interval: '5s', repeat_interval: '1h' }],
  });
  for (const r of rules) await fillLiveTable(r.table, project);
  for (const r of rules)
    await service.createRule(project, { name: r.name, sql: ruleSql(r.table), interval: '1s', condition: { op: '>', threshold: 80 }, no_data: { state: 'ok' } });
  return { service, project, config };
}

test('kill -9 mid-send, then restart: no notification lost, none processed twice by an idempotent receiver', async () => {
  const hook = await new WebhookReceiver('webhook', Date.now).listen();
  receivers.push(hook);
  // The receiver processes each new key, then holds its answer: the engine dies before it hears back.
  hook.holdAcceptedMs = 2_000;
  const table = await liveTable(['c1', 'c2', 'c3']);
  const { service, project, config } = await setup(hook, ['...'], [{ name: 'Crashy', table }]);

  const first = await spawnEngine(env, { ...config, ALERTING_REPLICA_ID: 'crashy' });
  children.push(first);
  await waitFor('a processed notification', () => hook.processed.size >= 1, 30_000, 5);
  await first.kill9();

  const inFlight = await service.listNotifications(project);
  expect(inFlight.length).toBeGreaterThanOrEqual(1);
  // Killed mid-send: the receiver has processed it, the engine never recorded the answer.
  expect(inFlight.some((n) => n.status === 'sending')).toBe(true);
  const processedBeforeCrash = [...hook.processed.keys()];

  hook.holdAcceptedMs = 0;
  const second = await spawnEngine(env, { ...config, ALERTING_REPLICA_ID: 'crashy' });
  children.push(second);
  const all = await waitFor(
    'three sent notifications',
    async () => {
      const n = await service.listNotifications(project);
      return n.length === 3 && n.every((x) => x.status === 'sent') ? n : undefined;
    },
    30_000,
  );
  await second.stop();

  // Every notification arrived and was processed exactly once.
  expect([...hook.processed.keys()].sort()).toEqual(all.map((n) => n.idempotencyKey).sort());
  const { rows: events } = await env.pool.query<{ dedup_key: string }>(`SELECT dedup_key FROM alert_events WHERE project_id = $1`, [project]);
  const delivered = hook.notifications().flatMap((n) => n.body.alerts.filter((a) => a.isNew).map((a) => a.dedupKey));
  expect(delivered.sort()).toEqual(events.map((e) => e.dedup_key).sort());
  // The ones in flight at the crash were sent again with the same key: the receiver saw and dropped the repeat.
  expect(hook.duplicates.sort()).toEqual(processedBeforeCrash.sort());
  for (const key of processedBeforeCrash) {
    const n = all.find((x) => x.idempotencyKey === key);
    expect(n?.attempts).toBe(2);
    const attempts = await service.listAttempts(project, n?.id ?? 0);
    // The send cut off by kill -9 is on record as started by the killed process (recorded before the send), then the restart's ok.
    expect(attempts.map((a) => [a.outcome, a.replica.startsWith('crashy/'), a.replica !== first.owner])).toEqual([
      ['started', true, false],
      ['ok', true, true],
    ]);
  }
  await service.close();
});

test('two engine replicas: each rule evaluated once per interval, one notification per group, failover on kill -9', async () => {
  const hook = await new WebhookReceiver('webhook', Date.now).listen();
  receivers.push(hook);
  const rules = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => ({ name: `Replicated${i}`, table: await liveTable(i % 2 === 0 ? ['r1', 'r2'] : ['r3', 'r4', 'r5']) })),
  );
  const setupResult = await setup(hook, ['alertname'], rules);
  const { service, project } = setupResult;
  // Short limits so a dead replica's leases expire within seconds.
  const config = { ...setupResult.config, ALERTING_QUERY_TIMEOUT_MS: 1_000, ALERTING_SEND_TIMEOUT_MS: 2_000, ALERTING_LEASE_MS: 7_000 };
  const started = Date.now();
  const [a, b] = await Promise.all([
    spawnEngine(env, { ...config, ALERTING_REPLICA_ID: 'replica-a' }),
    spawnEngine(env, { ...config, ALERTING_REPLICA_ID: 'replica-b' }),
  ]);
  children.push(a as EngineProcess, b as EngineProcess);
  await waitFor('six groups notified', () => hook.processed.size >= 6, 30_000);
  // Let both keep running for a while: nothing more may arrive (no change, repeat in 1 h).
  await new Promise((r) => setTimeout(r, 2_000));
  const elapsedS = (Date.now() - started) / 1000;
  const evaluations = async (): Promise<Map<string, { n: number; owner: string }>> => {
    const { rows } = await env.pool.query<{ rule_name: string; evaluations: string; last_owner: string }>(
      `SELECT rule_name, evaluations, last_owner FROM alert_rule_schedule WHERE project_id = $1`,
      [project],
    );
    return new Map(rows.map((r) => [r.rule_name, { n: Number(r.evaluations), owner: r.last_owner }]));
  };
  const before = await evaluations();
  // Each rule was evaluated about once a second in total, not once per replica.
  for (const [, e] of before) expect(e.n).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);

  // Failover: replica b dies; replica a takes every rule over (leases of b expire, 7 s at most).
  await b?.kill9();
  await waitFor(
    'replica a evaluating every rule',
    async () => {
      const now = await evaluations();
      return [...now].every(([name, e]) => e.owner.startsWith('replica-a/') && e.n > (before.get(name)?.n ?? 0));
    },
    20_000,
    100,
  );
  await a?.stop();

  // One request per group, no duplicate even without the receiver's idempotency check.
  expect(hook.received.length).toBe(6);
  expect(hook.duplicates).toEqual([]);
  const groups = hook.notifications().map((n) => [
    (n.body.groupLabels as Record<string, string>).alertname,
    n.body.alerts
      .map((x) => x.labels.host)
      .sort()
      .join(','),
  ]);
  expect(groups.sort()).toEqual(rules.map((r, i) => [r.name, i % 2 === 0 ? 'r1,r2' : 'r3,r4,r5']).sort());

  // Every instance fired once, across both replicas and the failover.
  const { rows: history } = await env.pool.query<{ n: string }>(`SELECT count(*) AS n FROM alert_history WHERE project_id = $1 AND to_state = 'firing'`, [
    project,
  ]);
  expect(Number(history[0]?.n)).toBe(15);
  await service.close();
});
