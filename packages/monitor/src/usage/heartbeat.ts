import os from 'node:os';
import type { Logger } from '@tidemark/core';
import { TidemarkClient, type TidemarkSdkError } from '@tidemark/sdk';

/** Event name of usage heartbeats; the query API's usage statistics (packages/api, usage routes) count it. */
export const HEARTBEAT_EVENT = 'tidemark.install.heartbeat';
/** One heartbeat a day: daily and weekly actives need no more. */
export const HEARTBEAT_INTERVAL_MS = 86_400_000;

/**
 * Everything a heartbeat says, and nothing else: the random install id,
 * the OS family and CPU architecture, the Tidemark and Node.js versions,
 * and whether it runs embedded or against servers. No host name, user
 * name, IP address (the collector does not store the sender's address),
 * paths, configuration or data.
 */
export interface Heartbeat {
  name: typeof HEARTBEAT_EVENT;
  distinct_id: string;
  properties: { os: string; arch: string; tidemark_version: string; node_version: string; deployment: 'embedded' | 'cluster' };
  context: { os: string; app_version: string };
}

export function buildHeartbeat(installId: string, version: string, deployment: 'embedded' | 'cluster'): Heartbeat {
  const platform = os.platform();
  return {
    name: HEARTBEAT_EVENT,
    distinct_id: installId,
    properties: { os: platform, arch: os.arch(), tidemark_version: version, node_version: process.versions.node, deployment },
    context: { os: platform, app_version: version },
  };
}

export interface UsageReporterOptions {
  enabled: boolean;
  /** Collector receiving heartbeats (TIDEMARK_USAGE_STATS_URL). */
  url: string | undefined;
  /** Ingest key of the stats project there (TIDEMARK_USAGE_STATS_KEY). */
  apiKey: string;
  installId: string;
  version: string;
  deployment: 'embedded' | 'cluster';
  logger: Logger;
  intervalMs?: number;
}

/**
 * Opt-in usage reporting (TIDEMARK_USAGE_STATS, off by default): a
 * heartbeat at start and then daily, through the SDK (its own client: the
 * stats endpoint is not the platform's collector). Failures are logged at
 * debug and never affect the platform.
 */
export class UsageReporter {
  private client: TidemarkClient | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: UsageReporterOptions) {}

  /** Whether heartbeats are sent; logs why not when switched on without a destination. */
  start(): boolean {
    const { enabled, url, apiKey, logger } = this.opts;
    if (!enabled) return false;
    if (!url || !apiKey) {
      logger.warn('TIDEMARK_USAGE_STATS is on but TIDEMARK_USAGE_STATS_URL or TIDEMARK_USAGE_STATS_KEY is not set: no usage statistics are sent');
      return false;
    }
    this.client = new TidemarkClient({
      endpoint: url,
      apiKey,
      flushIntervalMs: 1_000,
      metricsIntervalMs: 0,
      flushOnExit: false,
      onError: (e: TidemarkSdkError) => logger.debug({ code: e.code, error: e.message }, 'usage heartbeat not delivered yet'),
    });
    this.beat();
    this.timer = setInterval(() => this.beat(), this.opts.intervalMs ?? HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
    logger.info(
      { installId: this.opts.installId, url },
      'anonymous usage statistics on: heartbeat sent daily (OS, architecture, versions; see docs/monitoring.md)',
    );
    return true;
  }

  private beat(): void {
    const hb = buildHeartbeat(this.opts.installId, this.opts.version, this.opts.deployment);
    this.client?.track(hb.name, hb.properties, { distinctId: hb.distinct_id, context: hb.context });
  }

  async stop(timeoutMs = 2_000): Promise<void> {
    clearInterval(this.timer);
    await this.client?.shutdown(timeoutMs);
  }
}
