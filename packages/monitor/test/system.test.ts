/** System metrics read from this machine for real (/proc on Linux). */
import os from 'node:os';
import { SystemProbe, system, type MetricSink } from '../src';

function capture(): { sink: MetricSink; samples: { name: string; value: number; labels: Record<string, string>; type: string }[] } {
  const samples: { name: string; value: number; labels: Record<string, string>; type: string }[] = [];
  const sink: MetricSink = {
    metric: (name, value, opts = {}) =>
      samples.push({ name, value, labels: Object.fromEntries(Object.entries(opts.labels ?? {}).map(([k, v]) => [k, String(v)])), type: opts.type ?? 'gauge' }),
    log: () => undefined,
  };
  return { sink, samples };
}

test('one sample of this machine: CPU, memory, disks, network, load, processes, all labelled with the host', async () => {
  const { sink, samples } = capture();
  const probe = new SystemProbe(sink, 1_000);
  // Some CPU work between the two readings, so the busy share is measurable.
  const until = Date.now() + 200;
  while (Date.now() < until) Math.sqrt(Math.random());
  await probe.run();
  const one = (n: string) => samples.filter((s) => s.name === n);
  expect(samples.every((s) => s.labels.host === os.hostname())).toBe(true);
  const cpu = one('system_cpu_percent')[0]!.value;
  expect(cpu).toBeGreaterThan(0);
  expect(cpu).toBeLessThanOrEqual(100);
  const mem = one('system_memory_percent')[0]!.value;
  expect(mem).toBeGreaterThan(0);
  expect(mem).toBeLessThan(100);
  expect(one('system_memory_total_bytes')[0]!.value).toBeGreaterThan(one('system_memory_used_bytes')[0]!.value);
  const root = one('system_disk_used_percent').find((s) => s.labels.mount === '/');
  expect(root?.value).toBeGreaterThan(0);
  expect(one('system_disk_used_percent').every((s) => !['proc', 'sysfs', 'tmpfs', 'cgroup', 'devpts'].includes(s.labels.fstype!))).toBe(true);
  const lo = one('system_network_rx_bytes_total').find((s) => s.labels.iface === 'lo');
  expect(lo).toMatchObject({ type: 'counter' });
  expect(lo!.value).toBeGreaterThan(0);
  expect(one('system_network_tx_bytes_total').length).toBe(one('system_network_rx_bytes_total').length);
  for (const n of ['system_load1', 'system_load5', 'system_load15']) expect(one(n)[0]!.value).toBeGreaterThanOrEqual(0);
  expect(one('system_processes')[0]!.value).toBeGreaterThan(1);
  expect(one('system_processes_running')[0]!.value).toBeGreaterThanOrEqual(1);
});

test('parsers of /proc text', () => {
  expect(system.memory('MemTotal:       1000 kB\nMemFree:  100 kB\nMemAvailable:  250 kB\n').map((r) => [r.name, r.value])).toEqual([
    ['system_memory_percent', 75],
    ['system_memory_used_bytes', 750 * 1024],
    ['system_memory_total_bytes', 1000 * 1024],
  ]);
  const mounts =
    'proc /proc proc rw 0 0\n/dev/vda / ext4 rw 0 0\n/dev/vdb /data\\040disk xfs rw 0 0\ntmpfs /run tmpfs rw 0 0\n/dev/vda / ext4 rw 0 0\noverlay /var/lib/x overlay rw 0 0\n';
  expect(system.diskMounts(mounts).map((m) => m.mount)).toEqual(['/', '/data disk', '/var/lib/x']);
  expect(system.diskMounts(mounts, ['/']).map((m) => m.mount)).toEqual(['/']);
  const dev = 'Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n  eth0: 100 2 0 0 0 0 0 0 200 3 0 0 0 0 0 0\n';
  expect(system.network(dev).map((r) => [r.name, r.labels, r.value])).toEqual([
    ['system_network_rx_bytes_total', { iface: 'eth0' }, 100],
    ['system_network_tx_bytes_total', { iface: 'eth0' }, 200],
  ]);
  expect(system.cpuPercent({ idle: 100, total: 200 }, { idle: 130, total: 300 })).toBe(70);
  expect(system.cpuPercent({ idle: 100, total: 200 }, { idle: 100, total: 200 })).toBeUndefined();
});
