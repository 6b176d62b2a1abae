import os from 'node:os';
import type { Probe } from '../schedule/runner';
import type { MetricSink } from '../sink';
import { cpuPercent, cpuTimes, disks, load, memory, network, processes, type Reading } from './collect';

/**
 * Samples this machine every intervalMs: system_cpu_percent (busy share
 * since the previous sample), memory, disks per mount, network bytes per
 * interface, load averages and process counts. Every sample carries
 * host=<hostname>, the label the alert rules group by. On Linux everything
 * comes from /proc; elsewhere what Node's os module offers.
 */
export class SystemProbe implements Probe {
  readonly name = 'system';
  private prevCpu = cpuTimes();
  private readonly host: string;

  constructor(
    private readonly sink: MetricSink,
    readonly intervalMs: number,
    opts: { host?: string; mounts?: readonly string[] } = {},
  ) {
    this.host = opts.host ?? os.hostname();
    this.mounts = opts.mounts;
  }

  private readonly mounts: readonly string[] | undefined;

  /** Everything one sample holds (exposed for tests). */
  async collect(): Promise<Reading[]> {
    const now = cpuTimes();
    const cpu = cpuPercent(this.prevCpu, now);
    this.prevCpu = now;
    return [
      ...(cpu !== undefined ? [{ name: 'system_cpu_percent', value: cpu, type: 'gauge' as const }] : []),
      { name: 'system_cpu_count', value: os.cpus().length, type: 'gauge' },
      { name: 'system_uptime_seconds', value: os.uptime(), type: 'gauge' },
      ...memory(),
      ...(await disks(this.mounts)),
      ...network(),
      ...load(),
      ...processes(),
    ];
  }

  async run(): Promise<void> {
    const timestamp = Date.now();
    for (const r of await this.collect()) this.sink.metric(r.name, r.value, { type: r.type, labels: { host: this.host, ...r.labels }, timestamp });
  }
}
