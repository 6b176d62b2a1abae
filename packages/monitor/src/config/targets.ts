import { ConfigError } from '@tidemark/core';

/** One entry of a MONITOR_* target list: a name (the label the samples carry) and where it is. */
export interface Target {
  name: string;
  url: string;
}

/** Names become label values: printable, no separators of the list syntax. */
const NAME = /^[A-Za-z0-9_.:/-]{1,128}$/;

/** The entry as it may appear in an error message: credentials in URLs replaced. */
function shown(entry: string): string {
  return JSON.stringify(entry.replace(/\/\/[^/@\s]*@/g, '//<redacted>@'));
}

/** A readable default name: host:port plus the path or database, without credentials. */
export function defaultTargetName(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname && u.pathname !== '/' ? u.pathname : '';
    return `${u.host}${path}`.slice(0, 128);
  } catch {
    return url.slice(0, 128);
  }
}

/**
 * Parses a comma-separated list of `[name=]URL` entries. Every entry must be
 * a URL with one of `protocols`; names must be unique. A bad entry fails the
 * monitor's start with the config key named (a typo must not silently mean
 * "nothing monitored").
 */
export function parseTargetList(key: string, value: string, protocols: readonly string[]): Target[] {
  const out: Target[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    // "name=" only counts before the URL's scheme: URLs may contain '=' in their query.
    const scheme = entry.indexOf('://');
    const named = eq > 0 && (scheme === -1 || eq < scheme);
    const name = named ? entry.slice(0, eq).trim() : undefined;
    const url = named ? entry.slice(eq + 1).trim() : entry;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`${key}: ${shown(entry)} is not [name=]URL`, { context: { keys: [key] } });
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new ConfigError(`${key}: ${shown(entry)} must use ${protocols.map((p) => `${p}://`).join(' or ')}`, { context: { keys: [key] } });
    }
    const finalName = name ?? defaultTargetName(url);
    if (!NAME.test(finalName))
      throw new ConfigError(`${key}: name ${JSON.stringify(finalName)} must be 1-128 of A-Z a-z 0-9 _ . : / -`, { context: { keys: [key] } });
    if (out.some((t) => t.name === finalName)) throw new ConfigError(`${key}: name ${JSON.stringify(finalName)} is used twice`, { context: { keys: [key] } });
    out.push({ name: finalName, url });
  }
  return out;
}

/** MONITOR_KAFKA_BROKERS: one cluster, `[name=]host:port[,host:port...]`. */
export function parseKafkaTarget(key: string, value: string): { name: string; brokers: string } | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const eq = v.indexOf('=');
  const name = eq > 0 ? v.slice(0, eq).trim() : 'kafka';
  const brokers = (eq > 0 ? v.slice(eq + 1) : v).trim();
  if (!/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/.test(brokers))
    throw new ConfigError(`${key}: ${JSON.stringify(v)} must be [name=]host:port[,host:port...]`, { context: { keys: [key] } });
  if (!NAME.test(name)) throw new ConfigError(`${key}: name ${JSON.stringify(name)} must be 1-128 of A-Z a-z 0-9 _ . : / -`, { context: { keys: [key] } });
  return { name, brokers };
}
