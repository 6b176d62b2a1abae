#!/usr/bin/env node
// Serves the embedded metadata Postgres alone:
//   tidemark-postgres [--port N] [--host H] [--data-dir D]
// Defaults come from the same config as every role (EMBEDDED_POSTGRES_PORT,
// TIDEMARK_HOST, TIDEMARK_DATA_DIR); the data lives in <data dir>/postgres, the
// user and its password (generated on first start) in <data dir>/postgres-secrets.json (0600).
import path from 'node:path';
import { createLogger, loadConfig, Lifecycle } from '@tidemark/core';
import { resolvePostgresCredentials } from './secrets';
import { startEmbeddedPostgres } from './server';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const config = loadConfig(process.env, {
    EMBEDDED_POSTGRES_PORT: flag('port'),
    TIDEMARK_HOST: flag('host'),
    TIDEMARK_DATA_DIR: flag('data-dir'),
  });
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'tidemark-postgres' });
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  const resolved = resolvePostgresCredentials(config.TIDEMARK_DATA_DIR);
  const pg = await startEmbeddedPostgres({
    dataDir: path.resolve(config.TIDEMARK_DATA_DIR, 'postgres'),
    auth: resolved.credentials,
    host: config.TIDEMARK_HOST,
    port: config.EMBEDDED_POSTGRES_PORT,
    logger: logger.child({ component: 'embedded-postgres' }),
  });
  lifecycle.onStop('embedded-postgres', () => pg.close());
  lifecycle.installSignalHandlers();
  if (resolved.created) {
    // Shown once, to the owner at the terminal; never logged.
    process.stdout.write(`First start: generated the Postgres password (shown once; saved in ${resolved.file}, mode 0600):\n  ${pg.url}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tidemark-postgres: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
