#!/usr/bin/env node
// Health check of a Tidemark container: the image's HEALTHCHECK, compose
// health checks and Kubernetes exec probes all run this script.
//
//   node healthcheck.cjs            liveness: exit 0 when the roles are alive
//   node healthcheck.cjs --ready    readiness: exit 0 when the roles can serve
//   node healthcheck.cjs --cmdline <file>   read the command line from <file>
//                                           instead of /proc/1/cmdline (tests)
//
// Which roles run is read from PID 1's command line (tini -- node bin.js
// start --role collector ...); no --role means every role. Each role with an
// HTTP port is asked for GET /health (liveness) or GET /ready (readiness) on
// 127.0.0.1. Roles without one (consumer, monitor, etl, alerting) are asked on
// the ops server (OPS_PORT, default 9464), which every `start` process serves.
// Should nothing listen there (an image older than the ops server), liveness
// only says that the container's process runs, and readiness checks that
// ClickHouse (CLICKHOUSE_URL) and the first Kafka broker (KAFKA_BROKERS) accept
// TCP connections. `migrate` is a one-shot command and always passes.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');

const TIMEOUT_MS = 4000;

/** HTTP port of each role that has one, from the same env keys the roles read. */
const HTTP_ROLES = {
  collector: () => Number(process.env.COLLECTOR_PORT || 4318),
  api: () => Number(process.env.API_PORT || 4000),
};

function parseArgs(argv) {
  const out = { ready: false, cmdline: '/proc/1/cmdline' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--ready') out.ready = true;
    else if (argv[i] === '--cmdline') out.cmdline = argv[++i];
  }
  return out;
}

/** The command (start, migrate, ...) and the roles named with --role. */
function commandOf(cmdlineFile) {
  const args = fs.readFileSync(cmdlineFile, 'utf8').split('\0').filter(Boolean);
  const bin = args.findIndex((a) => /(^|\/)bin\.js$/.test(a));
  const rest = bin >= 0 ? args.slice(bin + 1) : args;
  const command = rest.find((a) => !a.startsWith('-')) || 'start';
  const roles = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--role' && rest[i + 1]) roles.push(rest[++i]);
    else if (rest[i].startsWith('--role=')) roles.push(rest[i].slice('--role='.length));
  }
  return { command, roles };
}

/** null when GET answers 200, else the problem; `refused` is set when nothing listens. */
function httpCheck(port, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? { problem: null } : { problem: `GET :${port}${path} answered ${res.statusCode}` });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ problem: `GET :${port}${path} failed: ${err.message}`, refused: err.code === 'ECONNREFUSED' }));
  });
}

const httpOk = async (port, path) => (await httpCheck(port, path)).problem;

function tcpOk(host, port, what) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`${what} ${host}:${port}: connect timed out`);
    });
    socket.once('error', (err) => resolve(`${what} ${host}:${port}: ${err.message}`));
  });
}

/** Readiness of a role without HTTP: its stores accept connections. */
function dependencyChecks() {
  const checks = [];
  if (process.env.CLICKHOUSE_URL) {
    const u = new URL(process.env.CLICKHOUSE_URL);
    checks.push(tcpOk(u.hostname, Number(u.port || (u.protocol === 'https:' ? 8443 : 8123)), 'ClickHouse'));
  }
  if (process.env.KAFKA_BROKERS) {
    const first = process.env.KAFKA_BROKERS.split(',')[0];
    const at = first.lastIndexOf(':');
    checks.push(tcpOk(first.slice(0, at), Number(first.slice(at + 1)), 'Kafka'));
  }
  return checks;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { command, roles } = commandOf(opts.cmdline);
  if (command !== 'start') return [];
  const all = roles.length === 0;
  const checks = [];
  let portless = false;
  for (const role of all ? Object.keys(HTTP_ROLES) : roles) {
    const port = HTTP_ROLES[role];
    if (port) checks.push(httpOk(port(), opts.ready ? '/ready' : '/health'));
    else portless = true;
  }
  if (portless) {
    const ops = await httpCheck(Number(process.env.OPS_PORT || 9464), opts.ready ? '/ready' : '/health');
    if (!ops.refused) checks.push(Promise.resolve(ops.problem));
    else if (opts.ready) checks.push(...dependencyChecks());
  }
  return (await Promise.all(checks)).filter(Boolean);
}

main().then(
  (problems) => {
    if (problems.length > 0) {
      process.stderr.write(`unhealthy: ${problems.join('; ')}\n`);
      process.exit(1);
    }
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`health check failed: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
