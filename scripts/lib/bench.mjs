// Helpers the scripts/bench-* benchmarks share: starting the real
// `tidemark start` process and reading what a process costs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = path.join(root, 'packages', 'cli', 'dist', 'bin.js');

/** Exits with a hint when a built file a benchmark needs is missing (benchmarks build nothing). */
export function requireBuilt(name, files) {
  for (const f of files) {
    if (!fs.existsSync(f)) {
      process.stderr.write(`${name}: ${path.relative(root, f)} is missing; run \`npm run build\` first\n`);
      process.exit(2);
    }
  }
}

/** Settings that make `tidemark start` self-contained: embedded stores, any free port, quiet logs. */
export const EMBEDDED_ENV = {
  EMBEDDED_CLICKHOUSE_PORT: '0',
  EMBEDDED_POSTGRES_PORT: '0',
  COLLECTOR_PORT: '0',
  OPS_PORT: '0',
  API_PORT: '0',
  LOG_LEVEL: 'warn',
  REDIS_URL: '',
  CLICKHOUSE_URL: '',
  META_DATABASE_URL: '',
  KAFKA_BROKERS: '',
};

/**
 * Runs `tidemark start [args]` with `env` (on top of this process's
 * environment) and resolves once it printed its endpoints. `endpoint(prefix)`
 * finds a URL by the start of its name; `key(role)` reads a bootstrap key.
 */
export async function startTidemark({ dataDir, env = {}, args = [], nodeArgs = [], timeoutMs = 120_000 }) {
  const child = spawn(process.execPath, [...nodeArgs, cli, 'start', ...args], {
    env: { ...process.env, TIDEMARK_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const endpoints = {};
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tidemark start ${args.join(' ')} did not start in ${timeoutMs / 1000} s: ${err}`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`tidemark start ${args.join(' ')} exited with ${code}: ${err}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^\s+(.+?)\s{2,}(\S+)$/.exec(line);
      if (m) endpoints[m[1]] = m[2];
      if (line.startsWith('Press Ctrl-C')) {
        clearTimeout(t);
        child.removeAllListeners('exit');
        resolve();
      }
    });
  });
  const keysFile = path.join(dataDir, 'bootstrap-keys.json');
  const keys = fs.existsSync(keysFile) ? JSON.parse(fs.readFileSync(keysFile, 'utf8')).keys : [];
  return {
    child,
    pid: child.pid,
    endpoint(prefix) {
      const e = Object.entries(endpoints).find(([k]) => k.startsWith(prefix));
      if (!e) throw new Error(`tidemark start printed no endpoint "${prefix}…" (got ${Object.keys(endpoints).join(', ')})`);
      return e[1];
    },
    key(role) {
      const k = keys.find((x) => x.role === role);
      if (!k) throw new Error(`no bootstrap ${role} key in ${keysFile}`);
      return k.key;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** One keep-alive HTTP request; resolves with status, headers and body text. */
export function httpRequest(agent, url, { method = 'POST', body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** Peak resident memory (VmHWM) of a process, in MiB. */
export function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * The benchmarks' command line: `--name N` / `--name=N` for the positive
 * integers in `ints` (kept under their flag name, `_` allowed as a digit
 * separator), `--flag` for `bools` and `--name VALUE` for `strings` (both
 * camelCased: --skip-cdc -> skipCdc). `--help` calls usage(0); an unknown
 * flag or a bad number prints why and calls usage(2).
 */
export function parseFlags(argv, { defaults = {}, ints = [], bools = [], strings = [], usage }) {
  const camel = (name) => name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') usage(0);
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(a);
    const name = m?.[1];
    if (name && bools.includes(name) && m[2] === undefined) {
      o[camel(name)] = true;
      continue;
    }
    if (!name || (!ints.includes(name) && !strings.includes(name))) {
      process.stderr.write(`unknown argument: ${a}\n`);
      usage(2);
    }
    const raw = m[2] ?? argv[++i];
    if (strings.includes(name)) {
      o[camel(name)] = raw ?? '';
      continue;
    }
    const n = Number(String(raw ?? '').replace(/_/g, ''));
    if (!Number.isInteger(n) || n <= 0) {
      process.stderr.write(`--${name} needs a positive integer (got ${raw})\n`);
      usage(2);
    }
    o[name] = n;
  }
  return o;
}
