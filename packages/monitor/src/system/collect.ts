import fs from 'node:fs';
import os from 'node:os';

/** One measured value, before labels common to the probe are added. */
export interface Reading {
  name: string;
  value: number;
  type: 'counter' | 'gauge';
  labels?: Record<string, string>;
}

/** Pseudo and in-memory file systems: not disks. ("overlay" stays: it is a container's root.) */
const NOT_DISKS = new Set([
  'proc',
  'sysfs',
  'devtmpfs',
  'devpts',
  'tmpfs',
  'ramfs',
  'cgroup',
  'cgroup2',
  'mqueue',
  'debugfs',
  'tracefs',
  'securityfs',
  'pstore',
  'bpf',
  'autofs',
  'configfs',
  'fusectl',
  'hugetlbfs',
  'nsfs',
  'binfmt_misc',
  'rpc_pipefs',
  'nfsd',
  'efivarfs',
  'selinuxfs',
  'squashfs',
  'iso9660',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
  'devfs',
]);

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** CPU time counters summed over all cores (ms), from os.cpus(): works on every platform. */
export function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

/** Busy share of CPU time between two readings, in percent. */
export function cpuPercent(prev: { idle: number; total: number }, now: { idle: number; total: number }): number | undefined {
  const total = now.total - prev.total;
  if (total <= 0) return undefined;
  return Math.min(100, Math.max(0, (1 - (now.idle - prev.idle) / total) * 100));
}

/** Memory from /proc/meminfo (MemAvailable counts reclaimable cache as free, as `free` does), else os.freemem(). */
export function memory(meminfo = readText('/proc/meminfo')): Reading[] {
  let total = os.totalmem();
  let available = os.freemem();
  if (meminfo) {
    const kb = (k: string): number | undefined => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(meminfo);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    total = kb('MemTotal') ?? total;
    available = kb('MemAvailable') ?? kb('MemFree') ?? available;
  }
  const used = Math.max(0, total - available);
  return [
    { name: 'system_memory_percent', value: total > 0 ? (used / total) * 100 : 0, type: 'gauge' },
    { name: 'system_memory_used_bytes', value: used, type: 'gauge' },
    { name: 'system_memory_total_bytes', value: total, type: 'gauge' },
  ];
}

/** Mount points of real file systems, from /proc/self/mounts (the process's mount namespace); "/" elsewhere. */
export function diskMounts(mounts = readText('/proc/self/mounts'), only?: readonly string[]): { mount: string; device: string; fstype: string }[] {
  if (!mounts) return [{ mount: '/', device: '', fstype: '' }];
  const seen = new Set<string>();
  const out: { mount: string; device: string; fstype: string }[] = [];
  for (const line of mounts.split('\n')) {
    const [device, rawMount, fstype] = line.split(' ');
    if (!device || !rawMount || !fstype || NOT_DISKS.has(fstype)) continue;
    // Octal escapes: a space in a mount point is "\040".
    const mount = rawMount.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (seen.has(mount) || (only && !only.includes(mount))) continue;
    seen.add(mount);
    out.push({ mount, device, fstype });
  }
  return out;
}

/** Used space per mount, as `df` computes it (used / (used + available to users)). Files bind-mounted into containers are skipped. */
export async function disks(only?: readonly string[]): Promise<Reading[]> {
  const out: Reading[] = [];
  for (const m of diskMounts(undefined, only)) {
    try {
      if (!(await fs.promises.stat(m.mount)).isDirectory()) continue;
      const s = await fs.promises.statfs(m.mount);
      if (s.blocks === 0) continue;
      const total = s.blocks * s.bsize;
      const used = (s.blocks - s.bfree) * s.bsize;
      const avail = s.bavail * s.bsize;
      const labels = { mount: m.mount, device: m.device, fstype: m.fstype };
      out.push(
        { name: 'system_disk_used_percent', value: used + avail > 0 ? (used / (used + avail)) * 100 : 0, type: 'gauge', labels },
        { name: 'system_disk_used_bytes', value: used, type: 'gauge', labels },
        { name: 'system_disk_total_bytes', value: total, type: 'gauge', labels },
      );
    } catch {
      // Unreadable mount (permissions, stale network mount): left out of this sample.
    }
  }
  return out;
}

/** Bytes received and sent per interface since boot (counters), from /proc/net/dev. */
export function network(dev = readText('/proc/net/dev')): Reading[] {
  if (!dev) return [];
  const out: Reading[] = [];
  for (const line of dev.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const cols = m[2]!.trim().split(/\s+/).map(Number);
    if (cols.length < 9) continue;
    const labels = { iface: m[1]! };
    out.push(
      { name: 'system_network_rx_bytes_total', value: cols[0]!, type: 'counter', labels },
      { name: 'system_network_tx_bytes_total', value: cols[8]!, type: 'counter', labels },
    );
  }
  return out;
}

/** Processes: all of them (/proc), running and blocked (/proc/stat). */
export function processes(stat = readText('/proc/stat')): Reading[] {
  const out: Reading[] = [];
  try {
    const n = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
    out.push({ name: 'system_processes', value: n, type: 'gauge' });
  } catch {
    // No /proc (not Linux): no process count.
  }
  if (stat) {
    const running = /^procs_running (\d+)/m.exec(stat);
    const blocked = /^procs_blocked (\d+)/m.exec(stat);
    if (running) out.push({ name: 'system_processes_running', value: Number(running[1]), type: 'gauge' });
    if (blocked) out.push({ name: 'system_processes_blocked', value: Number(blocked[1]), type: 'gauge' });
  }
  return out;
}

export function load(): Reading[] {
  const [l1, l5, l15] = os.loadavg();
  return [
    { name: 'system_load1', value: l1 ?? 0, type: 'gauge' },
    { name: 'system_load5', value: l5 ?? 0, type: 'gauge' },
    { name: 'system_load15', value: l15 ?? 0, type: 'gauge' },
  ];
}
