#!/usr/bin/env node
// Serves the embedded ClickHouse alone: `tidemark-clickhouse [--port N] [--host H] [--data-dir D]`.
// Users, passwords and the data directory come from the same config as every role;
// passwords not configured are generated on first start into D/clickhouse-secrets.json (0600).
process.env.UV_THREADPOOL_SIZE ??= '16'; // chDB runs each statement on the libuv pool
import path from 'node:path';
import { createLogger, loadConfig, Lifecycle } from '@tidemark/core';
import { resolveClickHouseCredentials } from './secrets';
import { startEmbeddedClickHouse } from './server';
import { embeddedUsers } from './users';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  const config = loadConfig(process.env, {
    EMBEDDED_CLICKHOUSE_PORT: flag('port'),
    TIDEMARK_HOST: flag('host'),
    TIDEMARK_DATA_DIR: flag('data-dir'),
  });
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'tidemark-clickhouse' });
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_TIMEOUT_MS);
  const resolved = resolveClickHouseCredentials(config, config.TIDEMARK_DATA_DIR);
  const ch = await startEmbeddedClickHouse({
    dataDir: path.resolve(config.TIDEMARK_DATA_DIR, 'clickhouse'),
    host: config.TIDEMARK_HOST,
    port: config.EMBEDDED_CLICKHOUSE_PORT,
    users: embeddedUsers(resolved.credentials),
    logger: logger.child({ component: 'embedded-clickhouse' }),
  });
  lifecycle.onStop('embedded-clickhouse', () => ch.close());
  lifecycle.installSignalHandlers();
  if (resolved.created) {
    // Shown once, to the owner at the terminal; never logged.
    const c = resolved.credentials;
    process.stdout.write(
      `First start: generated ClickHouse passwords (shown once; saved in ${resolved.file}, mode 0600):\n` +
        (resolved.generated.password ? `  ${c.user.padEnd(20)} ${c.password}\n` : '') +
        (resolved.generated.readonlyPassword ? `  ${c.readonlyUser.padEnd(20)} ${c.readonlyPassword}\n` : ''),
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`tidemark-clickhouse: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
