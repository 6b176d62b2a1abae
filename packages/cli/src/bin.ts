#!/usr/bin/env node
// The tidemark command. Set before anything schedules work on the libuv pool:
// the embedded chDB engine runs each statement on a pool thread.
process.env.UV_THREADPOOL_SIZE ??= '16';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { API_KEY_ROLES, ApiKeyVerifier, ConfigError, createApiKey, createLogger, ensureProject, Lifecycle, type ApiKeyRole } from '@tidemark/core';
import { loadPlatformConfig, type PlatformConfig } from './config';
import { connectMeta } from './meta';
import { startPlatform } from './platform';
import { ROLES, type RoleName } from './roles';

const HELP = `tidemark: observability and analytics on ClickHouse

Usage:
  tidemark start [--role <name>]... [--data-dir <dir>] [--demo]
      Runs the platform. With no --role, every role runs in this process on
      the embedded defaults: chDB served on the ClickHouse HTTP interface
      (port ${8123}) and PGlite on the Postgres wire protocol (port 5433),
      data under ./data. Set CLICKHOUSE_URL, META_DATABASE_URL, KAFKA_BROKERS
      and REDIS_URL to use real servers instead. Ctrl-C stops cleanly and
      keeps the data. It prints the dashboard's address (signed in with the
      first start's read key).
      --demo (or TIDEMARK_DEMO=true) adds live demo data: the demo business
      tables, a steady flow of product events, service metrics and logs into
      the project "default" (two days of history on the first demo start),
      and two alert rules that fire on it.
  tidemark migrate [--data-dir <dir>]
      Applies the ClickHouse migrations (clickhouse/*.sql) and the metadata
      Postgres migrations, then exits. \`start\` does this too.
  tidemark keys create --project <id> [--key-role ingest|read|admin]
      Creates the project if needed and an API key for it; prints the key once.
      Works against a running embedded platform or META_DATABASE_URL.
  tidemark config
      Prints the effective configuration, secrets redacted.
  tidemark --help

Roles: ${Object.keys(ROLES).length > 0 ? Object.keys(ROLES).join(', ') : '(none yet besides the embedded stores)'}

Configuration comes from the environment (and the YAML/JSON file named by
TIDEMARK_CONFIG); see the README for every variable.
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`tidemark: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      role: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      project: { type: 'string' },
      'key-role': { type: 'string' },
      description: { type: 'string' },
      demo: { type: 'boolean' },
    },
  });
  const command = positionals[0];
  if (values.help || !command || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  let config: PlatformConfig;
  try {
    config = loadPlatformConfig(process.env, { TIDEMARK_DATA_DIR: values['data-dir'], ...(values.demo ? { TIDEMARK_DEMO: true } : {}) });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 78);
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'tidemark' });

  switch (command) {
    case 'start': {
      const roles = (values.role ?? []) as string[];
      const unknown = roles.filter((r) => !(r in ROLES));
      if (unknown.length > 0) fail(`unknown role ${unknown.join(', ')}; roles: ${Object.keys(ROLES).join(', ') || '(none)'}`);
      // Signals are handled from the first moment, so Ctrl-C during start-up also stops cleanly.
      const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
      lifecycle.installSignalHandlers();
      const platform = await startPlatform({ config, logger, lifecycle, roles: roles.length > 0 ? (roles as RoleName[]) : 'all' });
      const api = platform.endpoints.find((e) => e.name.startsWith('Query API'));
      const dashboard = api ? await dashboardLink(api.url, platform, config) : null;
      const lines = [
        '',
        `Tidemark is running${platform.embedded.clickhouse || platform.embedded.postgres ? ' (embedded mode)' : ''}${platform.demo ? ' with demo data' : ''}.`,
        ...platform.endpoints.map((e) => `  ${e.name.padEnd(44)} ${e.url}`),
        `  ${'data directory'.padEnd(44)} ${path.resolve(config.TIDEMARK_DATA_DIR)}`,
        '',
        ...(dashboard
          ? [
              dashboard.signedIn
                ? 'Dashboard (the link signs in with the read key of the project "default"; the key stays in the fragment, never sent to the server):'
                : 'Dashboard (sign in with a read key: tidemark keys create --project <id> --key-role read):',
              `  ${dashboard.url}`,
              '',
            ]
          : []),
        ...(platform.demo
          ? [
              `Demo: business tables from the ETL demo source, live events, metrics and logs into project "${platform.demo.project}",`,
              `alert rules ${platform.demo.rules.join(', ')}. Acknowledging alerts needs the admin key.`,
              '',
            ]
          : []),
        ...(platform.bootstrap
          ? [
              'First start: created project "default" with these API keys (shown once; saved in',
              `${platform.bootstrap.file}):`,
              ...platform.bootstrap.keys.map((k) => `  ${k.role.padEnd(8)} ${k.key}`),
              '',
            ]
          : []),
        ...firstStartSecrets(platform),
        ...(platform.secrets.clickhouse
          ? [
              `Try: curl -u ${platform.secrets.clickhouse.credentials.readonlyUser}:<password> '${platform.endpoints.find((e) => e.name.startsWith('ClickHouse'))?.url}/?query=SELECT%201'`,
              `     (passwords in ${platform.secrets.clickhouse.file})`,
            ]
          : []),
        'Press Ctrl-C to stop; the data is kept.',
        '',
      ];
      process.stdout.write(lines.join('\n'));
      return;
    }
    case 'migrate': {
      // Starts the stores only (embedded ones on the data directory), which migrates them.
      const platform = await startPlatform({ config, logger, roles: [] });
      const { clickhouse, postgres } = platform.migrations;
      await platform.lifecycle.stop('migrate done');
      process.stdout.write(
        `ClickHouse (${config.CLICKHOUSE_DATABASE}): ${clickhouse.applied.length} applied, ${clickhouse.alreadyApplied} already applied\n` +
          `Postgres (metadata): ${postgres.applied.length} applied, ${postgres.alreadyApplied} already applied\n`,
      );
      return;
    }
    case 'keys': {
      const sub = positionals[1];
      if (sub !== 'create') fail('usage: tidemark keys create --project <id> [--key-role ingest|read|admin] [--description text]');
      const projectId = values.project ?? fail('--project <id> is required');
      const role = (values['key-role'] ?? 'ingest') as ApiKeyRole;
      if (!API_KEY_ROLES.includes(role)) fail(`--key-role must be one of ${API_KEY_ROLES.join(', ')}`);
      const meta = await connectMeta(config, logger);
      try {
        await ensureProject(meta.pool, projectId);
        const { id, key } = await createApiKey(meta.pool, { projectId, role, description: values.description ?? '' });
        process.stdout.write(`project ${projectId}, role ${role}, key id ${id}\n${key}\n(shown once; only its hash is stored)\n`);
      } finally {
        await meta.close();
      }
      return;
    }
    case 'config': {
      const { redactConfig } = await import('@tidemark/core');
      process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
      return;
    }
    default:
      fail(`unknown command "${command}"; see tidemark --help`);
  }
}

/**
 * The embedded engines' generated passwords, shown once: on the start that
 * generated them (like the first start's API keys). Later starts only name
 * the file they are in.
 */
function firstStartSecrets(platform: Awaited<ReturnType<typeof startPlatform>>): string[] {
  const ch = platform.secrets.clickhouse;
  const pg = platform.secrets.postgres;
  const lines: string[] = [];
  if (ch?.created && (ch.generated.password || ch.generated.readonlyPassword)) {
    lines.push(`First start: generated ClickHouse passwords (shown once; saved in ${ch.file}, mode 0600):`);
    if (ch.generated.password) lines.push(`  ${ch.credentials.user.padEnd(20)} ${ch.credentials.password}   (the platform's read-write user)`);
    if (ch.generated.readonlyPassword)
      lines.push(`  ${ch.credentials.readonlyUser.padEnd(20)} ${ch.credentials.readonlyPassword}   (read-only: SQL tools, Grafana)`);
    lines.push('');
  }
  if (pg?.created) {
    lines.push(`First start: generated the metadata Postgres password (shown once; saved in ${pg.file}, mode 0600):`);
    lines.push(`  ${pg.credentials.user.padEnd(20)} ${pg.credentials.password}`);
    lines.push('');
  }
  return lines;
}

/**
 * The dashboard's address; with the read key of the first start's project
 * in the fragment (#key=...) when the data directory still has it and it is
 * still valid, so the printed link opens the dashboard signed in. The
 * fragment is not sent to the server: the key stays out of its logs.
 */
async function dashboardLink(
  apiUrl: string,
  platform: Awaited<ReturnType<typeof startPlatform>>,
  config: PlatformConfig,
): Promise<{ url: string; signedIn: boolean }> {
  const base = `${apiUrl.replace('://0.0.0.0:', '://127.0.0.1:').replace(/\/$/, '')}/`;
  let key = platform.bootstrap?.keys.find((k) => k.role === 'read')?.key;
  if (!key) {
    try {
      const saved = JSON.parse(fs.readFileSync(path.resolve(config.TIDEMARK_DATA_DIR, 'bootstrap-keys.json'), 'utf8')) as {
        keys?: { role: string; key: string }[];
      };
      key = saved.keys?.find((k) => k.role === 'read')?.key;
    } catch {
      // No saved keys (servers configured, or the file was removed): the dashboard asks for a key.
    }
  }
  if (key) {
    try {
      await new ApiKeyVerifier(platform.meta).require(key, 'read');
    } catch {
      key = undefined; // revoked since
    }
  }
  return key ? { url: `${base}#key=${encodeURIComponent(key)}`, signedIn: true } : { url: base, signedIn: false };
}

main().catch((err: unknown) => {
  fail(err instanceof Error ? err.message : String(err), 1);
});
