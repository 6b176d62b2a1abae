/**
 * The etl role: loads ETL_CONFIG (and, with ETL_DEMO, the demo business
 * source), then runs the engine — snapshots, cursor runs, CDC streams,
 * reconciliation, status — until the lifecycle stops it.
 */
import { ConfigError, type Endpoint, type Role, type RoleContext } from '@tidemark/core';
import type { EtlRoleConfig } from './settings';
import { loadEtlConfigFile } from './config/load';
import type { EtlConfig } from './config/schema';
import { runDemoSource, type DemoSource } from './demo/run';
import { EtlEngine } from './engine';

function merge(a: EtlConfig, b: EtlConfig): EtlConfig {
  const names = new Set(a.sources.map((s) => s.name));
  const clash = b.sources.find((s) => names.has(s.name));
  if (clash)
    throw new ConfigError(`ETL source name ${clash.name} is used by both ETL_CONFIG and the demo source`, { context: { keys: ['ETL_CONFIG', 'ETL_DEMO'] } });
  return { sources: [...a.sources, ...b.sources] };
}

export interface EtlRoleHandle {
  engine: EtlEngine;
  demo: DemoSource | null;
}

/** Starts the ETL for a role context; exposed for the CLI and tests (the role calls it). */
export async function startEtl(ctx: RoleContext<EtlRoleConfig>): Promise<EtlRoleHandle | null> {
  let config: EtlConfig = { sources: [] };
  if (ctx.config.ETL_CONFIG) config = loadEtlConfigFile(ctx.config.ETL_CONFIG);
  let demo: DemoSource | null = null;
  if (ctx.config.ETL_DEMO) {
    demo = await runDemoSource(ctx);
    config = merge(config, demo.config);
  }
  if (config.sources.length === 0) {
    ctx.logger.info('no ETL sources configured (set ETL_CONFIG, or ETL_DEMO=true for the demo source)');
    return null;
  }
  const engine = new EtlEngine({
    config,
    clickhouse: ctx.clickhouse,
    meta: ctx.meta,
    logger: ctx.logger,
    metrics: ctx.metrics,
    ...(ctx.config.CLICKHOUSE_CLUSTER ? { cluster: ctx.config.CLICKHOUSE_CLUSTER } : {}),
    ...(demo ? { sourcePools: demo.sourcePools } : {}),
  });
  // Registered before start: lifecycle hooks run last-registered first, so the engine stops before the generator's pools close.
  if (demo) {
    const d = demo;
    ctx.lifecycle.onStop('etl-demo-source', () => d.stop());
  }
  ctx.lifecycle.onStop('etl', () => engine.stop());
  await engine.start();
  return { engine, demo };
}

export const etlRole: Role<'etl', EtlRoleConfig> = {
  name: 'etl',
  description: 'Keeps Postgres business tables in sync in ClickHouse (snapshot, incremental cursor, CDC) with reconciliation and status',
  async start(ctx: RoleContext<EtlRoleConfig>): Promise<Endpoint[]> {
    await startEtl(ctx);
    return [];
  },
};
