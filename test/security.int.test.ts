/**
 * The attack catalogue of issue 11, against the platform as a newcomer starts
 * it (`tidemark start`, embedded default), with two projects: A ("default",
 * the first start's keys) and B (made with `tidemark keys create`). Each block
 * is a boundary: tenant (B never sees or changes A), host (no user-supplied
 * SQL reaches a file, URL or another database), the embedded ports (closed
 * by default), hostile ingest (one tenant's bad strings cost nobody else),
 * and input ranges (clear 4xx, never 500).
 *
 * Every assertion that "B sees nothing of A" looks for markers that only A's
 * data carries, in the whole answer text, so it holds whatever shape the
 * answer has.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { bearer, request, startPlatform, type Answer, type RunningPlatform } from './lib/platform';

let p: RunningPlatform;
let api: string;
let collector: string;
let clickhouse: string;
type Keys = Record<'ingest' | 'read' | 'admin', string>;
let A: Keys;
let B: Keys;
const tag = crypto.randomBytes(4).toString('hex');
/** Strings only project A's data holds. */
const MARK_A = { event: `seca_evt_${tag}`, log: `seca_log_${tag}`, metric: `seca_metric_${tag}`, user: `seca_user_${tag}` };
const MARK_B = { event: `secb_evt_${tag}`, log: `secb_log_${tag}` };
const marksOfA = Object.values(MARK_A);

function expectNoneOfA(a: Answer, what: string): void {
  for (const m of marksOfA) {
    if (a.text.includes(m)) throw new Error(`${what}: project B's answer (HTTP ${a.status}) contains project A's ${m}: ${a.text.slice(0, 500)}`);
  }
}

function createKey(project: string, role: string): string {
  const r = p.cli(['keys', 'create', '--project', project, '--key-role', role]);
  if (r.status !== 0) throw new Error(`keys create failed (${r.status}): ${r.stderr}`);
  const key = r.stdout.split('\n').find((l) => l.startsWith('tm_'));
  if (!key) throw new Error(`no key printed: ${r.stdout}`);
  return key.trim();
}

const post = (url: string, key: string, body: unknown): Promise<Answer> => request(url, { method: 'POST', headers: bearer(key), body: JSON.stringify(body) });
const get = (url: string, key?: string): Promise<Answer> => request(url, { headers: key ? bearer(key) : {} });
const sql = (key: string, text: string): Promise<Answer> => post(`${api}/api/v1/sql`, key, { sql: text });
/** The number in the first column of the first row of a console JSON answer (UInt64 arrives quoted). */
const firstNumber = (a: Answer): number => {
  if (a.status !== 200) throw new Error(`console answered ${a.status}: ${a.text.slice(0, 300)}`);
  const row = (JSON.parse(a.text) as { data: Record<string, unknown>[] }).data[0] ?? {};
  return Number(Object.values(row)[0]);
};

async function ingest(keys: Keys, marks: { event: string; log: string; metric?: string; user?: string }): Promise<void> {
  const e = await post(`${collector}/v1/events`, keys.ingest, [
    { name: marks.event, distinct_id: marks.user ?? 'u1', properties: { duration_ms: 12 } },
    { name: marks.event, distinct_id: 'u2' },
  ]);
  expect(e.status).toBe(200);
  const l = await post(`${collector}/v1/logs`, keys.ingest, [{ level: 'ERROR', service: 'sec', message: marks.log }]);
  expect(l.status).toBe(200);
  if (marks.metric) {
    const m = await post(`${collector}/v1/metrics`, keys.ingest, [{ name: marks.metric, value: 1, labels: { host: marks.user ?? 'h' } }]);
    expect(m.status).toBe(200);
  }
}

beforeAll(async () => {
  p = await startPlatform();
  api = p.endpoint('Query API');
  collector = p.endpoint('Collector');
  clickhouse = p.endpoint('ClickHouse');
  A = p.keys;
  B = { ingest: createKey('secb', 'ingest'), read: createKey('secb', 'read'), admin: createKey('secb', 'admin') };
  await ingest(A, MARK_A);
  await ingest(B, MARK_B);
  // A's rows are visible to A before any probe runs, so "B saw nothing" is not "nothing was there yet".
  for (let i = 0; ; i++) {
    const r = await sql(A.read, `SELECT count() AS n FROM logs_raw_v1 WHERE message = '${MARK_A.log}'`);
    if (r.status === 200 && firstNumber(r) === 1) break;
    if (i > 100) throw new Error(`A's log never became visible: ${r.status} ${r.text}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}, 180_000);

afterAll(async () => {
  await p?.stop();
});

describe('every endpoint x every role x two projects', () => {
  interface Op {
    method: string;
    path: string;
    needs: 'ingest' | 'read' | 'admin' | 'public';
  }
  let ops: Op[] = [];

  beforeAll(async () => {
    const doc = JSON.parse((await get(`${api}/openapi.json`)).text) as {
      paths: Record<string, Record<string, { security?: unknown[]; description?: string }>>;
    };
    ops = Object.entries(doc.paths).flatMap(([route, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path: route,
        needs: op.security && op.security.length === 0 ? 'public' : ((/role (\w+)/.exec(op.description ?? '')?.[1] ?? 'read') as Op['needs']),
      })),
    );
    expect(ops.length).toBeGreaterThan(40);
  });

  const concrete = (route: string): string => route.replace(/\{[^}]+\}/g, 'x');

  test('without a key, or with a bad one, every non-public endpoint answers 401', async () => {
    for (const op of ops.filter((o) => o.needs !== 'public')) {
      for (const headers of [{}, { authorization: 'Bearer tm_read_forged' }] as Record<string, string>[]) {
        const r = await request(`${api}${concrete(op.path)}`, {
          method: op.method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: ['POST', 'PUT'].includes(op.method) ? '{}' : undefined,
        });
        if (r.status !== 401) throw new Error(`${op.method} ${op.path} without a valid key: ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
  });

  test('a key below the role an endpoint needs is refused with 403', async () => {
    const below: Record<string, ('ingest' | 'read')[]> = { read: ['ingest'], admin: ['ingest', 'read'] };
    for (const op of ops) {
      for (const role of below[op.needs] ?? []) {
        const r = await request(`${api}${concrete(op.path)}`, {
          method: op.method,
          headers: bearer(B[role]),
          body: ['POST', 'PUT'].includes(op.method) ? '{}' : undefined,
        });
        if (r.status !== 403) throw new Error(`${op.method} ${op.path} with a ${role} key: ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
  });

  test("B's admin key reads nothing of A on any GET endpoint", async () => {
    const queries = ['', '?range=30d', '?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z', `?q=${encodeURIComponent(MARK_A.log)}`];
    for (const op of ops.filter((o) => o.method === 'GET' && o.needs !== 'public')) {
      for (const q of queries) expectNoneOfA(await get(`${api}${concrete(op.path)}${q}`, B.admin), `GET ${op.path}${q}`);
    }
  });

  test("B cannot read, change or delete A's rules, silences and keys by id", async () => {
    const rule = {
      name: `SecA_${tag}`,
      interval: '1m',
      sql: `SELECT toFloat64(count()) AS value FROM logs_raw_v1 WHERE project_id = {project_id:String} AND message = '${MARK_A.log}'`,
    };
    expect((await post(`${api}/api/analytics-monitoring/alerts/rules`, A.admin, rule)).status).toBe(201);
    const silence = await post(`${api}/api/analytics-monitoring/alerts/silences`, A.admin, {
      matchers: [{ name: 'alertname', op: '=', value: rule.name }],
      ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      created_by: 'security test',
      comment: 'sec test',
    });
    if (silence.status !== 201) throw new Error(`silence: ${silence.status} ${silence.text}`);
    const silenceId = (JSON.parse(silence.text) as { id: string }).id;
    const keyList = JSON.parse((await get(`${api}/api/v1/keys`, A.admin)).text) as { items: { id: string; role: string }[] };
    const aReadKeyId = keyList.items.find((k) => k.role === 'read')!.id;

    const rules = `${api}/api/analytics-monitoring/alerts/rules/${rule.name}`;
    expect((await get(rules, B.admin)).status).toBe(404);
    expect((await request(rules, { method: 'PUT', headers: bearer(B.admin), body: JSON.stringify({ ...rule, sql: 'SELECT 1 AS value' }) })).status).not.toBe(
      200,
    );
    expect((await request(rules, { method: 'DELETE', headers: bearer(B.admin) })).status).toBe(404);
    expect(
      (await post(`${api}/api/analytics-monitoring/alerts/rules/preview`, B.read, { name: rule.name, from: new Date(Date.now() - 600_000), to: new Date() }))
        .status,
    ).toBe(404);
    const sil = `${api}/api/analytics-monitoring/alerts/silences/${silenceId}`;
    expect((await get(sil, B.admin)).status).toBe(404);
    expect((await post(`${sil}/expire`, B.admin, {})).status).toBe(404);
    expect((await request(sil, { method: 'DELETE', headers: bearer(B.admin) })).status).toBe(404);
    expect((await request(`${api}/api/v1/keys/${aReadKeyId}`, { method: 'DELETE', headers: bearer(B.admin) })).status).toBe(404);
    // A's rule, silence and key are untouched.
    const kept = await get(rules, A.admin);
    expect(kept.status).toBe(200);
    expect(kept.text).toContain(MARK_A.log);
    expect((JSON.parse((await get(sil, A.admin)).text) as { state: string }).state).toBe('active');
    expect((JSON.parse((await get(`${api}/api/v1/keys`, A.admin)).text) as { items: { id: string }[] }).items.map((k) => k.id)).toContain(aReadKeyId);
    expect((await get(`${api}/api/v1/logs/search`, A.read)).status).toBe(200);
  });
});

/** SQL a read key might try; each must be refused or return nothing of A. */
const ESCAPES: [string, string][] = [
  ['other project by filter', `SELECT message FROM logs_raw_v1 WHERE project_id != 'secb'`],
  ['OR 1', `SELECT message FROM logs_raw_v1 WHERE project_id = 'secb' OR 1`],
  ['no filter at all', `SELECT name, distinct_id FROM events_raw_v1`],
  ['rollup', `SELECT name FROM events_1m_v1`],
  ['metrics names', `SELECT name, labels FROM metrics_raw_v1`],
  ['subquery', `SELECT * FROM (SELECT message FROM logs_raw_v1)`],
  ['IN subquery', `SELECT 1 AS one, (SELECT groupArray(message) FROM logs_raw_v1) AS m`],
  ['join', `SELECT l.message FROM logs_raw_v1 AS l JOIN events_raw_v1 AS e ON 1 = 1`],
  ['union', `SELECT message FROM logs_raw_v1 WHERE project_id = 'secb' UNION ALL SELECT message FROM logs_raw_v1`],
  ['cte', `WITH x AS (SELECT message FROM logs_raw_v1) SELECT * FROM x`],
  ['system table', `SELECT query FROM system.query_log`],
  ['system in IN', `SELECT 0 IN system.one`],
  ['system columns', `SELECT name FROM system.columns`],
  ['other database', `SELECT * FROM default.x`],
  ['qualified tenant table', `SELECT message FROM tidemark.logs_raw_v1`],
  ['merge()', `SELECT * FROM merge('tidemark', 'logs')`],
  ['file()', `SELECT * FROM file('/etc/passwd', 'LineAsString')`],
  ['url()', `SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')`],
  ['remote()', `SELECT * FROM remote('127.0.0.1', 'tidemark', 'logs_raw_v1')`],
  ['dictGet', `SELECT dictGet('x', 'y', 1)`],
  ['SETTINGS', `SELECT message FROM logs_raw_v1 SETTINGS additional_table_filters = {}`],
  ['placeholder in a comment', `SELECT message FROM logs_raw_v1 /* {project_id:String} */`],
];

describe('every SQL surface x escapes', () => {
  const window = (): { from: Date; to: Date } => ({ from: new Date(Date.now() - 3_600_000), to: new Date() });

  test.each(ESCAPES)('console: %s', async (_, text) => {
    const r = await sql(B.read, text);
    expect(r.status).toBeLessThan(500);
    expectNoneOfA(r, `console ${text}`);
  });

  test.each(ESCAPES)('rule validate and preview: %s', async (_, text) => {
    const rule = { name: `Esc_${tag}`, interval: '1m', sql: text };
    for (const [route, body] of [
      ['validate', rule],
      ['preview', { rule, ...window(), step_ms: 600_000 }],
    ] as const) {
      const r = await post(`${api}/api/analytics-monitoring/alerts/rules/${route}`, B.read, body);
      expect(r.status).toBeLessThan(500);
      expectNoneOfA(r, `rules/${route} ${text}`);
    }
  });

  test('an admin-stored rule of B fires nothing carrying A rows', async () => {
    const rule = { name: `Steal_${tag}`, interval: '1s', sql: `SELECT message, toFloat64(count()) AS value FROM logs_raw_v1 GROUP BY message` };
    const stored = await post(`${api}/api/analytics-monitoring/alerts/rules`, B.admin, rule);
    // Without {project_id:String}: the placeholder is a convenience, the engine keeps the project.
    if (stored.status !== 201) throw new Error(`storing the rule: ${stored.status} ${stored.text}`);
    let active: Answer | undefined;
    for (let i = 0; i < 50; i++) {
      active = await get(`${api}/api/analytics-monitoring/alerts/active`, B.read);
      if (active.text.includes(MARK_B.log)) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    // The rule ran (it sees B's own log line) and saw nothing of A.
    expect(active!.text).toContain(MARK_B.log);
    expectNoneOfA(active!, 'alerts/active');
    expectNoneOfA(await get(`${api}/api/analytics-monitoring/alerts/history`, B.read), 'alerts/history');
  });

  test('INTO OUTFILE writes no file, through the console, validate and preview', async () => {
    const target = path.join(os.tmpdir(), `tm-outfile-${tag}`);
    const text = `SELECT 1 INTO OUTFILE '${target}' TRUNCATE`;
    const answers = [
      await sql(B.read, text),
      await post(`${api}/api/analytics-monitoring/alerts/rules/validate`, B.read, { name: `Out_${tag}`, sql: text }),
      await post(`${api}/api/analytics-monitoring/alerts/rules/preview`, B.read, { rule: { name: `Out_${tag}`, sql: text }, ...window() }),
    ];
    for (const a of answers) expect(a.status).toBeGreaterThanOrEqual(400);
    for (const a of answers) expect(a.status).toBeLessThan(500);
    expect(fs.existsSync(target)).toBe(false);
  });

  test("B's own data is readable: the guard is not a wall", async () => {
    const r = await sql(B.read, `SELECT message FROM logs_raw_v1 WHERE message LIKE 'secb_log_%'`);
    expect(r.status).toBe(200);
    expect(r.text).toContain(MARK_B.log);
    const own = await sql(B.read, `SELECT message FROM logs_raw_v1`);
    expect(own.text).toContain(MARK_B.log);
    expectNoneOfA(own, 'unfiltered own read');
  });

  test('console answers do not report how many rows other projects hold', async () => {
    const r = await sql(B.read, 'SELECT count() AS n FROM logs_raw_v1');
    expect(firstNumber(r)).toBe(1);
    const body = JSON.parse(r.text) as { statistics?: { rows_read?: number } };
    if (body.statistics?.rows_read !== undefined) expect(body.statistics.rows_read).toBeLessThanOrEqual(1);
  });

  test('the result limit counts bytes actually produced (constant columns too)', async () => {
    const r = await sql(B.read, `SELECT repeat('x', 100000) AS s FROM numbers(2000)`);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.text.length).toBeLessThan(1024 * 1024);
    expect(r.text).toMatch(/limit|too large|exceed/i);
  });
});

describe('the embedded ports are closed by default', () => {
  test('ClickHouse HTTP refuses anonymous and wrong-password requests', async () => {
    for (const headers of [
      {},
      { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': '' },
      { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': 'wrong' },
      { 'X-ClickHouse-User': 'tidemark_readonly' },
    ] as Record<string, string>[]) {
      const r = await request(`${clickhouse}/?query=${encodeURIComponent('SELECT count() FROM tidemark.logs_raw_v1')}`, { headers });
      expect(r.status).not.toBe(200);
      expect(r.text).toMatch(/Authentication failed/);
    }
    const drop = await request(`${clickhouse}/`, { method: 'POST', body: 'DROP TABLE tidemark.logs_raw_v1' });
    expect(drop.status).not.toBe(200);
    expect(firstNumber(await sql(A.read, `SELECT count() AS n FROM logs_raw_v1 WHERE message = '${MARK_A.log}'`))).toBe(1);
  });

  test('secrets files are 0600 and every user of the ClickHouse front is kept off the host', async () => {
    for (const f of ['bootstrap-keys.json', 'clickhouse-secrets.json', 'postgres-secrets.json']) {
      expect((fs.statSync(path.join(p.dataDir, f)).mode & 0o777).toString(8)).toBe('600');
    }
    const secrets = JSON.parse(fs.readFileSync(path.join(p.dataDir, 'clickhouse-secrets.json'), 'utf8')) as { password: string; readonlyPassword: string };
    const users: [string, string][] = [
      ['default', secrets.password],
      ['tidemark_readonly', secrets.readonlyPassword],
    ];
    const outfile = path.join(os.tmpdir(), `tm-front-outfile-${tag}`);
    const probes = [
      `SELECT * FROM file('/etc/passwd', 'LineAsString')`,
      `SELECT * FROM file('${path.join(p.dataDir, 'bootstrap-keys.json')}', 'RawBLOB')`,
      `SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')`,
      `SELECT * FROM remote('127.0.0.1', 'system', 'one')`,
      `SELECT * FROM executable('id', 'LineAsString', 'x String')`,
      `SELECT 1 INTO OUTFILE '${outfile}'`,
      `INSERT INTO FUNCTION file('${outfile}', 'CSV', 'x UInt8') VALUES (1)`,
      `CREATE TABLE default.sec_${tag} (x String) ENGINE = File(LineAsString, '/etc/passwd')`,
    ];
    // The owner's credentials authenticate (so a refusal below is the guard, not the login).
    for (const [user, password] of users) {
      const ok = await request(`${clickhouse}/?query=SELECT%201`, { headers: { 'X-ClickHouse-User': user, 'X-ClickHouse-Key': password } });
      expect(ok.text).toBe('1\n');
      for (const q of probes) {
        const r = await request(`${clickhouse}/`, { method: 'POST', body: q, headers: { 'X-ClickHouse-User': user, 'X-ClickHouse-Key': password } });
        if (r.status === 200) throw new Error(`${user}: ${q} answered 200: ${r.text.slice(0, 200)}`);
        expect(r.text).not.toMatch(/root:|tm_admin_/);
      }
    }
    expect(fs.existsSync(outfile)).toBe(false);
  });

  test('embedded Postgres refuses any user or password but its own', async () => {
    const url = new URL(p.endpoint('Postgres'));
    for (const [user, password] of [
      ['postgres', 'wrong'],
      ['postgres', ''],
      ['attacker', 'x'],
    ]) {
      const c = new Client({ host: url.hostname, port: Number(url.port), user, password, database: 'postgres', connectionTimeoutMillis: 5000 });
      await expect(c.connect().then(() => c.query('SELECT 1'))).rejects.toThrow(/password|authentication/i);
      await c.end().catch(() => undefined);
    }
  });
});

describe('hostile ingest costs nobody else', () => {
  test("a lone surrogate from B every 50 ms loses none of A's rows", async () => {
    const name = `seca_batch_${tag}`;
    let hostile = true;
    const answers: number[] = [];
    const attacker = (async () => {
      while (hostile) {
        const bad = `{"name":"x\\ud800","distinct_id":"\\udfff","properties":{"k":"\\ud800"}}`;
        answers.push((await request(`${collector}/v1/events`, { method: 'POST', headers: bearer(B.ingest), body: `[${bad},${bad}]` })).status);
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    let sent = 0;
    for (let i = 0; i < 20; i++) {
      const r = await post(
        `${collector}/v1/events`,
        A.ingest,
        Array.from({ length: 50 }, (_, j) => ({ name, distinct_id: `u${i}_${j}` })),
      );
      expect(r.status).toBe(200);
      sent += 50;
    }
    hostile = false;
    await attacker;
    // The hostile requests were answered (stored with U+FFFD, or refused as 400), never 500.
    expect(answers.length).toBeGreaterThan(0);
    for (const s of answers) expect([200, 400]).toContain(s);
    expect(firstNumber(await sql(A.read, `SELECT count() AS n FROM events_raw_v1 WHERE name = '${name}'`))).toBe(sent);
  });
});

describe('keys and input ranges', () => {
  test('a revoked key stops working within 1 s', async () => {
    const made = JSON.parse((await post(`${api}/api/v1/keys`, B.admin, { role: 'read' })).text) as { id: string; key: string };
    expect((await get(`${api}/api/v1/logs/search`, made.key)).status).toBe(200);
    const at = Date.now();
    expect((await request(`${api}/api/v1/keys/${made.id}`, { method: 'DELETE', headers: bearer(B.admin) })).status).toBe(200);
    let status = 200;
    while (status === 200 && Date.now() - at < 5000) status = (await get(`${api}/api/v1/logs/search`, made.key)).status;
    expect(status).toBe(401);
    expect(Date.now() - at).toBeLessThan(1000);
  });

  test('out-of-range inputs answer 400, not 500', async () => {
    const cases: [string, Promise<Answer>][] = [
      [
        '9999w with compare',
        post(`${api}/api/v1/query/timeseries`, B.read, { measures: [{ type: 'count' }], range: { last: '9999w' }, interval: '1d', compare: 'previous_period' }),
      ],
      ['499 NOTs', get(`${api}/api/v1/logs/search?q=${encodeURIComponent(`${'NOT '.repeat(499)}level:ERROR`)}`, B.read)],
      [
        'negative preview window',
        post(`${api}/api/analytics-monitoring/alerts/rules/preview`, B.read, {
          rule: { name: 'Neg', sql: 'SELECT 1 AS value' },
          from: new Date(),
          to: new Date(Date.now() - 3_600_000),
        }),
      ],
      ['negative duration', post(`${api}/api/analytics-monitoring/alerts/rules/validate`, B.read, { name: 'Neg', sql: 'SELECT 1 AS value', for: '-5m' })],
      ['negative counter', post(`${collector}/v1/metrics`, B.ingest, [{ name: 'sec_counter', type: 'counter', value: -3 }])],
    ];
    for (const [what, answer] of cases) {
      const r = await answer;
      if (r.status !== 400) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
    }
  });
});
