/**
 * The `tidemark` command as a newcomer uses it: `start` on the embedded
 * defaults with nothing else installed, data kept across a clean Ctrl-C,
 * `--help`, and bad configuration failing with every bad key named.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const BIN = path.join(__dirname, '..', 'dist', 'bin.js');
const EMBEDDED_ENV = {
  EMBEDDED_CLICKHOUSE_PORT: '0',
  EMBEDDED_POSTGRES_PORT: '0',
  COLLECTOR_PORT: '0',
  OPS_PORT: '0',
  API_PORT: '0',
  CLICKHOUSE_URL: '',
  META_DATABASE_URL: '',
  KAFKA_BROKERS: '',
  REDIS_URL: '',
  LOG_LEVEL: 'warn',
};

interface Started {
  child: ChildProcess;
  endpoints: Record<string, string>;
  output: string[];
}

function start(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir], { env: { ...process.env, ...EMBEDDED_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const endpoints: Record<string, string> = {};
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 90 s: ${stderr}\n${output.join('\n')}`)), 90_000);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const m = /^\s+(.+?)\s{2,}(\S+)$/.exec(line);
      if (m) endpoints[m[1]!] = m[2]!;
      if (line.startsWith('Press Ctrl-C')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, endpoints, output });
      }
    });
  });
}

function stop(s: Started, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.once('exit', (code) => resolve(code));
    s.child.kill(signal);
  });
}

function request(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const endpoint = (s: Started, prefix: string): string => {
  const e = Object.entries(s.endpoints).find(([k]) => k.startsWith(prefix));
  if (!e) throw new Error(`no ${prefix} endpoint in ${JSON.stringify(s.endpoints)}`);
  return e[1];
};

test('start on the embedded default: ClickHouse answers SELECT 1, events flow to the API, alerts fire and are served, Ctrl-C keeps the data', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-cli-'));
  let s = await start(dataDir);
  try {
    const ch = endpoint(s, 'ClickHouse');
    // Closed by default: anonymous refused, the generated read-only password (0600 file, printed once) works.
    expect((await request(`${ch}/?query=SELECT%201`)).status).toBe(401);
    const chSecrets = JSON.parse(fs.readFileSync(path.join(dataDir, 'clickhouse-secrets.json'), 'utf8')) as { password: string; readonlyPassword: string };
    const basic = (user: string, password: string): Record<string, string> => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    const ro = basic('tidemark_readonly', chSecrets.readonlyPassword);
    expect((await request(`${ch}/?query=SELECT%201`, { headers: ro })).text).toBe('1\n');
    for (const f of ['clickhouse-secrets.json', 'postgres-secrets.json']) expect((fs.statSync(path.join(dataDir, f)).mode & 0o777).toString(8)).toBe('600');
    const printed = s.output.join('\n');
    expect(printed).toMatch(/First start: created project "default"/);
    expect(printed).toContain(chSecrets.readonlyPassword);
    expect(printed).toContain(chSecrets.password);
    // The embedded Postgres refuses a password-less client.
    const { Client } = await import('pg');
    const pgUrl = new URL(endpoint(s, 'Postgres'));
    expect(pgUrl.password).toBe('');
    const guessed = new URL(pgUrl.toString());
    guessed.password = 'guess';
    const anon = new Client({ connectionString: guessed.toString() });
    anon.on('error', () => undefined);
    await expect(anon.connect()).rejects.toMatchObject({ code: '28P01' });
    // `tidemark keys create` against the running platform authenticates with the saved password.
    const created = spawnSync(process.execPath, [BIN, 'keys', 'create', '--project', 'shop', '--key-role', 'read', '--data-dir', dataDir], {
      encoding: 'utf8',
      env: { ...process.env, ...EMBEDDED_ENV, EMBEDDED_POSTGRES_PORT: pgUrl.port },
    });
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/project shop, role read/);
    const keys = JSON.parse(fs.readFileSync(path.join(dataDir, 'bootstrap-keys.json'), 'utf8')) as { keys: { role: string; key: string }[] };
    expect((fs.statSync(path.join(dataDir, 'bootstrap-keys.json')).mode & 0o777).toString(8)).toBe('600');
    const key = (role: string): string => keys.keys.find((k) => k.role === role)!.key;
    const ingest = await request(`${endpoint(s, 'Collector')}/v1/events`, {
      method: 'POST',
      body: JSON.stringify([
        { name: 'cli.e2e', distinct_id: 'u1' },
        { name: 'cli.e2e', distinct_id: 'u2' },
      ]),
      headers: { authorization: `Bearer ${key('ingest')}`, 'content-type': 'application/json' },
    });
    expect(JSON.parse(ingest.text)).toMatchObject({ accepted: 2 });
    const q = await request(`${endpoint(s, 'Query API')}/api/v1/query/timeseries?cache=false`, {
      method: 'POST',
      body: JSON.stringify({ measures: [{ type: 'count' }], range: { last: '1h' }, interval: '1h', filter: { field: 'name', op: 'is', value: 'cli.e2e' } }),
      headers: { authorization: `Bearer ${key('read')}`, 'content-type': 'application/json' },
    });
    const series = JSON.parse(q.text) as { series: { points: { count: number }[] }[] };
    expect(series.series[0]!.points.reduce((n, p) => n + p.count, 0)).toBe(2);
    // Alerts through the API, evaluated by the alerting role of the same platform.
    const api = endpoint(s, 'Query API');
    const rule = await request(`${api}/api/analytics-monitoring/alerts/rules`, {
      method: 'POST',
      body: JSON.stringify({
        name: 'CliEvents',
        interval: '1s',
        sql: "SELECT name, toFloat64(count()) AS value FROM events_raw_v1 WHERE project_id = {project_id:String} AND name = 'cli.e2e' GROUP BY name",
        condition: { op: '>', threshold: 1 },
      }),
      headers: { authorization: `Bearer ${key('admin')}`, 'content-type': 'application/json' },
    });
    expect({ status: rule.status, text: rule.status === 201 ? '' : rule.text }).toEqual({ status: 201, text: '' });
    let active: { rule: string; state: string; value: number }[] = [];
    for (let i = 0; i < 100 && active.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      active = (
        JSON.parse(
          (await request(`${api}/api/analytics-monitoring/alerts/active?state=firing`, { headers: { authorization: `Bearer ${key('read')}` } })).text,
        ) as { items: typeof active }
      ).items;
    }
    expect(active.map((a) => [a.rule, a.state, a.value])).toEqual([['CliEvents', 'firing', 2]]);
    expect((await request(`${api}/api/analytics-monitoring/etl/status`, { headers: { authorization: `Bearer ${key('read')}` } })).status).toBe(200);
    expect(await stop(s)).toBe(0);

    s = await start(dataDir);
    expect(s.output.join('\n')).not.toMatch(/First start/);
    expect(s.output.join('\n')).not.toContain(chSecrets.password);
    const kept = await request(
      `${endpoint(s, 'ClickHouse')}/?query=${encodeURIComponent("SELECT count() FROM tidemark.events_raw_v1 WHERE name = 'cli.e2e'")}`,
      { headers: ro },
    );
    expect(kept.text).toBe('2\n');
    expect(await stop(s, 'SIGTERM')).toBe(0);
  } finally {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 240_000);

test('--help describes the commands', () => {
  const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/tidemark start/);
  expect(r.stdout).toMatch(/tidemark migrate/);
  expect(r.stdout).toMatch(/tidemark keys create/);
});

test('bad configuration fails at start with every bad key named, and no secret shown', () => {
  const r = spawnSync(process.execPath, [BIN, 'start'], {
    encoding: 'utf8',
    env: { ...process.env, API_PORT: 'eighty', CLICKHOUSE_URL: 'not a url', LOG_LEVEL: 'loud', CLICKHOUSE_PASSWORD: 'hunter2', KAFKA_BROKERS: 'a b' },
  });
  expect(r.status).toBe(78);
  expect(r.stderr).toMatch(/invalid configuration \(4 problems\)/);
  for (const key of ['API_PORT', 'CLICKHOUSE_URL', 'LOG_LEVEL', 'KAFKA_BROKERS']) expect(r.stderr).toContain(`${key}:`);
  expect(r.stderr).not.toContain('hunter2');
});

test('an unknown command or role is a clear error', () => {
  expect(spawnSync(process.execPath, [BIN, 'launch'], { encoding: 'utf8' }).stderr).toMatch(/unknown command "launch"/);
  const r = spawnSync(process.execPath, [BIN, 'start', '--role', 'nope'], { encoding: 'utf8', env: { ...process.env, ...EMBEDDED_ENV } });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/unknown role nope; roles: consumer, collector, monitor, etl, alerting, api/);
});
