import net from 'node:net';
import type { Logger } from '@tidemark/core';

/** A host:port to wait for. */
export interface PortTarget {
  host: string;
  port: number;
}

const LOCAL = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0', '::', '']);

/**
 * The targets among `urls` that are this platform's own listeners: a port of
 * `ownPorts` on this machine (loopback, a wildcard or TIDEMARK_HOST). In one
 * process the monitor starts before the API or the collector listen, so its
 * first check of them would record a false "down".
 */
export function ownTargets(urls: string[], ownPorts: number[], platformHost: string): PortTarget[] {
  const out: PortTarget[] = [];
  for (const raw of urls) {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      continue;
    }
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : NaN;
    const host = u.hostname;
    if (!ownPorts.includes(port)) continue;
    if (!LOCAL.has(host) && host !== platformHost && `[${platformHost}]` !== host) continue;
    out.push({ host: host === '0.0.0.0' || host === '' ? '127.0.0.1' : host.replace(/^\[|\]$/g, ''), port });
  }
  return out;
}

function accepts(t: PortTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: t.host, port: t.port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Resolves once every target accepts TCP connections, or after `timeoutMs`
 * (then the checks start anyway and report what they find: a port that never
 * opens is a real "down"). Never rejects.
 */
export async function waitForPorts(
  targets: PortTarget[],
  opts: { timeoutMs: number; intervalMs?: number; logger: Logger; stopped?: () => boolean },
): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  let pending = [...targets];
  while (pending.length > 0) {
    if (opts.stopped?.()) return false;
    const results = await Promise.all(pending.map((t) => accepts(t, 1_000)));
    pending = pending.filter((_, i) => !results[i]);
    if (pending.length === 0) break;
    if (Date.now() >= deadline) {
      opts.logger.warn({ ports: pending }, 'platform ports still closed; probing them anyway');
      return false;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250).unref());
  }
  return true;
}
