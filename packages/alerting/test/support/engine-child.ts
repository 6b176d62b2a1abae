/**
 * A real alert engine process for crash and HA tests: the production path
 * (core Scheduler → backgroundTick, system clock) on the test's Postgres
 * schema and ClickHouse. Configured by the environment; prints "ready".
 */
import { Pool } from 'pg';
import { createLogger, parseConfig } from '@tidemark/core';
import { AlertEngine, readonlyClickHouse, startScheduler, alertingRoleConfigSchema } from '../../src';

async function main(): Promise<void> {
  const config = parseConfig(alertingRoleConfigSchema, process.env);
  const logger = createLogger({ level: process.env.CHILD_LOG_LEVEL ?? 'warn', name: 'engine-child' });
  const meta = new Pool({ connectionString: process.env.TEST_PG_URL, options: process.env.TEST_PG_OPTIONS, max: 6 });
  const readonly = readonlyClickHouse(config, config.CLICKHOUSE_URL ?? '');
  const engine = new AlertEngine({ config, meta, readonly, logger, retryInitialMs: 50 });
  await engine.start();
  const scheduler = await startScheduler({ tickMs: config.ALERTING_TICK_MS, logger, onTick: () => engine.backgroundTick() });
  process.stdout.write(`ready ${engine.owner}\n`);
  const stop = async (): Promise<void> => {
    await scheduler.stop();
    await engine.stop();
    await meta.end();
    await readonly.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`engine-child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
