import type { Target } from '../config/targets';
import { TargetProbe } from '../schedule/target-probe';
import { checkHttp, checkTcp, type CheckResult } from './checks';

export interface HealthTarget extends Target {
  kind: 'http' | 'tcp';
}

/** Availability is reported over the last hour of checks (or since the monitor started, if less). */
const AVAILABILITY_WINDOW_MS = 3_600_000;

/**
 * Checks every configured HTTP and TCP endpoint each interval, all at once.
 * Samples: healthcheck_up{target,kind} (1/0), healthcheck_latency_ms{target}
 * (only when up: a refused connection's time means nothing),
 * healthcheck_status_code{target} (HTTP; 0 = no answer) and
 * healthcheck_availability_percent{target} over the last hour. A change of
 * state is also logged (WARN down, INFO up again), to the monitor's logger
 * and as a log line in Tidemark.
 */
export class HealthProbe extends TargetProbe<HealthTarget> {
  readonly name = 'health';
  private readonly history = new Map<string, { t: number; up: boolean }[]>();
  private readonly last = new Map<string, boolean>();

  /** Share of up checks of a target in the window, in percent (exposed for tests). */
  availability(target: string, now = Date.now()): number | undefined {
    const h = (this.history.get(target) ?? []).filter((c) => c.t > now - AVAILABILITY_WINDOW_MS);
    this.history.set(target, h);
    return h.length === 0 ? undefined : (h.filter((c) => c.up).length / h.length) * 100;
  }

  async check(t: HealthTarget): Promise<CheckResult> {
    return t.kind === 'http' ? checkHttp(t.url, this.timeoutMs) : checkTcp(t.url, this.timeoutMs);
  }

  async run(): Promise<void> {
    await Promise.all(
      this.targets.map(async (t) => {
        const timestamp = Date.now();
        const r = await this.check(t);
        const list = this.history.get(t.name) ?? [];
        list.push({ t: timestamp, up: r.up });
        this.history.set(t.name, list);
        const labels = { target: t.name, kind: t.kind };
        this.sink.metric('healthcheck_up', r.up ? 1 : 0, { labels, timestamp });
        if (r.up) this.sink.metric('healthcheck_latency_ms', r.latencyMs, { labels: { target: t.name }, timestamp });
        if (t.kind === 'http') this.sink.metric('healthcheck_status_code', r.status ?? 0, { labels: { target: t.name }, timestamp });
        const availability = this.availability(t.name, timestamp);
        if (availability !== undefined) this.sink.metric('healthcheck_availability_percent', availability, { labels: { target: t.name }, timestamp });
        const before = this.last.get(t.name);
        this.last.set(t.name, r.up);
        if (before !== r.up && (before !== undefined || !r.up)) {
          const attrs = {
            target: t.name,
            kind: t.kind,
            latency_ms: Math.round(r.latencyMs),
            ...(r.status !== undefined ? { status: r.status } : {}),
            ...(r.error ? { error: r.error } : {}),
          };
          if (r.up) {
            this.logger.info(attrs, 'health check target is up again');
            this.sink.log('info', `health check ${t.name} is up again`, attrs, { service: 'tidemark-monitor', timestamp });
          } else {
            this.logger.warn(attrs, 'health check target is down');
            this.sink.log('warn', `health check ${t.name} is down: ${r.error ?? 'unknown'}`, attrs, { service: 'tidemark-monitor', timestamp });
          }
        }
      }),
    );
  }
}
