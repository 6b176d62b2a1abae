import type { Logger, Role, RoleContext } from '@tidemark/core';
import type { AlertingRoleConfig } from './settings';
import { ClickHouse, componentLogger, counter } from '@tidemark/core';
import type { Pool } from 'pg';
import { AlertingService } from './api/service';
import { systemClock, type Clock } from './clock';
import { AlertEngine } from './engine/engine';
import { startScheduler } from './engine/scheduler';
import { builtinRuleFile } from './rules/builtin';
import { readRuleDir, ruleDirStamp, syncRuleFiles, type SyncReport } from './rules/load';

/** How often the rules folder is checked for edits (ms). */
const RULES_RELOAD_CHECK_MS = 15_000;

/** The read-only ClickHouse client rule SQL runs through (CLICKHOUSE_READONLY_USER). */
export function readonlyClickHouse(config: AlertingRoleConfig, url: string): ClickHouse {
  return new ClickHouse({
    url,
    username: config.CLICKHOUSE_READONLY_USER,
    password: config.CLICKHOUSE_READONLY_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
    requestTimeoutMs: config.ALERTING_QUERY_TIMEOUT_MS + 10_000,
    application: 'tidemark-alerting',
  });
}

/** Loads the built-in rules (as configured) and the rules folder into Postgres; reports every problem. */
export async function loadRuleSources(deps: {
  meta: Pool;
  readonly: ClickHouse;
  config: AlertingRoleConfig;
  logger: Logger;
  clock?: Clock;
}): Promise<{ builtin: SyncReport; files: SyncReport }> {
  const c = deps.config;
  const base = { meta: deps.meta, readonly: deps.readonly, config: c, logger: deps.logger, now: (deps.clock ?? systemClock).now() };
  const builtin = await syncRuleFiles(
    base,
    'builtin',
    c.ALERTING_BUILTIN_RULES.trim() ? [builtinRuleFile(c.ALERTING_BUILTIN_RULES, c.ALERTING_BUILTIN_PROJECT)] : [],
  );
  const files = await syncRuleFiles(base, 'file', c.ALERTING_RULES_DIR ? readRuleDir(c.ALERTING_RULES_DIR) : []);
  return { builtin, files };
}

/**
 * The alerting role: loads rules (built-in, files), then runs the engine on
 * the scheduler's tick until the lifecycle stops it. It serves no port: the query
 * API mounts AlertingService.
 */
export const alertingRole: Role<'alerting', AlertingRoleConfig> = {
  name: 'alerting',
  description: 'Evaluates SQL alert rules on a schedule and delivers notifications (email, WeCom, WhatsApp, Slack, webhook, SMS, log)',
  async start(ctx: RoleContext<AlertingRoleConfig>) {
    const { config } = ctx;
    const logger = componentLogger(ctx.logger, 'alerting');
    const readonly = readonlyClickHouse(config, ctx.clickhouse.options.url);
    ctx.lifecycle.onStop('alerting-readonly-clickhouse', () => readonly.close());
    const engine = new AlertEngine({ config, meta: ctx.meta, readonly, logger, metrics: ctx.metrics });
    await engine.start();
    const loaded = await loadRuleSources({ meta: ctx.meta, readonly, config, logger });
    logger.info(
      { builtin: { ...loaded.builtin, problems: loaded.builtin.problems.length }, files: { ...loaded.files, problems: loaded.files.problems.length } },
      'alert rules loaded',
    );
    const ticks = counter(ctx.metrics, 'tidemark_alerting_ticks_total', 'Alert engine scheduler ticks');
    let stamp = config.ALERTING_RULES_DIR ? ruleDirStamp(config.ALERTING_RULES_DIR) : '';
    let lastCheck = Date.now();
    let reloading = false;
    const scheduler = await startScheduler({
      tickMs: config.ALERTING_TICK_MS,
      logger,
      onTick: () => {
        ticks.inc();
        engine.backgroundTick();
        const dir = config.ALERTING_RULES_DIR;
        if (dir && !reloading && Date.now() - lastCheck >= RULES_RELOAD_CHECK_MS) {
          lastCheck = Date.now();
          const next = ruleDirStamp(dir);
          if (next !== stamp) {
            reloading = true;
            syncRuleFiles({ meta: ctx.meta, readonly, config, logger, now: Date.now() }, 'file', readRuleDir(dir))
              .then((r) => {
                stamp = next;
                logger.info({ ...r, problems: r.problems.length }, 'alert rule files reloaded');
              })
              .catch((err: unknown) => logger.error({ err }, 'reloading alert rule files failed'))
              .finally(() => {
                reloading = false;
              });
          }
        }
      },
    });
    // Reverse order on stop: the scheduler stops ticking, then the engine finishes its sends.
    ctx.lifecycle.onStop('alerting-engine', () => engine.stop());
    ctx.lifecycle.onStop('alerting-scheduler', () => scheduler.stop());
    return [];
  },
};

export { AlertingService };
