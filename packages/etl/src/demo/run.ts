/**
 * The demo business source: the demo schema in a Postgres database (by
 * default the metadata database itself — embedded PGlite in `tidemark
 * start`), filled on first start, changed continuously by the generator, and
 * synced by the ETL into the biz_* tables in cursor mode.
 */
import { Pool } from 'pg';
import type { Logger } from '@tidemark/core';
import type { EtlRoleConfig } from '../settings';
import { parseEtlConfig } from '../config/load';
import type { EtlConfig } from '../config/schema';
import { createSourcePool } from '../source/session';
import { createDemoSchema, demoCounts, demoSizes, fillDemo, startChangeLoop, type ChangeLoop } from './generator';
import { DEMO_TABLES } from './schema';

export const DEMO_SOURCE = 'demo';
export const DEMO_SCHEMA = 'tidemark_demo';
/** Stands in for the URL when the demo source is the metadata pool (the engine is handed that pool). */
export const METADATA_POOL_URL = 'postgres://metadata-database/postgres';

/** The ETL config of the demo source: every demo table to biz_<table>_v1 / view biz_<table>. */
export function demoEtlConfig(opts: { url?: string; schema?: string; mode?: 'cursor' | 'cdc'; every?: string; slot?: string } = {}): EtlConfig {
  const mode = opts.mode ?? 'cursor';
  return parseEtlConfig(
    {
      sources: [
        {
          name: DEMO_SOURCE,
          url: opts.url ?? METADATA_POOL_URL,
          schema: opts.schema ?? DEMO_SCHEMA,
          targetPrefix: 'biz_',
          maxConcurrentTables: 2,
          ...(mode === 'cdc' && opts.slot ? { cdc: { slot: opts.slot, publication: opts.slot } } : {}),
          defaults: {
            mode,
            ...(mode === 'cursor' ? { cursor: { column: 'updated_at', overlap: '2s' } } : {}),
            schedule: { every: opts.every ?? '10s' },
            reconcile: { every: '10m' },
            // One reader per table: the embedded PGlite serves one transaction at a time anyway.
            parallelism: 1,
            stallAfter: '5m',
          },
          tables: DEMO_TABLES.map((name) => ({ name })),
        },
      ],
    },
    { file: '<demo source>' },
  );
}

export interface DemoSource {
  config: EtlConfig;
  /** Pools the engine reads the demo source with (sourcePools option). */
  sourcePools: Record<string, Pool>;
  generator: ChangeLoop | null;
  stop(): Promise<void>;
}

/**
 * Creates (and on first start fills) the demo schema and starts the change
 * generator. Source: ETL_DEMO_SOURCE_URL, else the metadata pool.
 */
export async function runDemoSource(
  ctx: { config: Pick<EtlRoleConfig, 'ETL_DEMO_SOURCE_URL' | 'ETL_DEMO_CUSTOMERS' | 'ETL_DEMO_CHANGES_PER_SECOND'>; meta: Pool; logger: Logger },
  opts: { schema?: string; every?: string } = {},
): Promise<DemoSource> {
  const schema = opts.schema ?? DEMO_SCHEMA;
  const log = ctx.logger.child({ demo: schema });
  const url = ctx.config.ETL_DEMO_SOURCE_URL;
  // The generator writes as an application would: its own sessions, not named like the ETL's
  // (the cursor horizon must see its open transactions).
  const writer = url ? new Pool({ connectionString: url, max: 2, application_name: 'tidemark-demo-generator' }) : ctx.meta;
  const reader = url ? createSourcePool({ url, source: DEMO_SOURCE, max: 4, logger: log }) : ctx.meta;
  await createDemoSchema(writer, schema);
  const counts = await demoCounts(writer, schema);
  if (counts.customers === 0) {
    const sizes = demoSizes(ctx.config.ETL_DEMO_CUSTOMERS);
    log.info({ sizes }, 'filling the demo business source');
    await fillDemo(writer, schema, sizes, { onProgress: (p) => log.debug({ ...p }, 'demo fill progress') });
  }
  const perSecond = ctx.config.ETL_DEMO_CHANGES_PER_SECOND;
  const generator = perSecond > 0 ? startChangeLoop(writer, schema, { perSecond, logger: log }) : null;
  log.info({ perSecond, source: url ? 'ETL_DEMO_SOURCE_URL' : 'metadata database' }, 'demo business source running');
  return {
    config: demoEtlConfig({ ...(url ? { url } : {}), schema, ...(opts.every ? { every: opts.every } : {}) }),
    sourcePools: { [DEMO_SOURCE]: reader },
    generator,
    async stop() {
      await generator?.stop();
      if (url) {
        await writer.end();
        await reader.end();
      }
    },
  };
}
