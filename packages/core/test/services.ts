/**
 * Where the integration tests find the real services. `npm test` starts them
 * (scripts/services/up.sh) and exports these variables; the defaults match
 * what up.sh starts. Tests never skip: an unreachable service fails the suite
 * with the URL it tried.
 */
import fs from 'node:fs';
import net from 'node:net';

export const services = {
  postgresUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  kafkaBrokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
};

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Ports for a private Kafka cluster (scripts/services with
 * TIDEMARK_SERVICES_DIR) that are free now and lie below the kernel's
 * ephemeral range. Ports inside that range can be held by any outgoing
 * connection's local end, so a broker restarted on one can fail to bind
 * ("Address already in use"), which failed a crash test in CI.
 * The start is spread by pid so concurrent test files probe different blocks.
 */
export async function privateKafkaPorts(nodes: number): Promise<{ brokerBase: number; controllerBase: number }> {
  let ephemeralStart = 32_768;
  try {
    ephemeralStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralStart;
  } catch {
    // Not Linux: keep the IANA-ish default.
  }
  const low = 20_000;
  const blocks = Math.floor((Math.min(ephemeralStart, 32_768) - low) / 10);
  if (blocks < 1) throw new Error(`no room for private Kafka ports below the ephemeral range (starts at ${ephemeralStart})`);
  const first = process.pid % blocks;
  for (let i = 0; i < blocks; i++) {
    const brokerBase = low + ((first + i) % blocks) * 10;
    const ports = Array.from({ length: nodes }, (_, n) => [brokerBase + n, brokerBase + 5 + n]).flat();
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return { brokerBase, controllerBase: brokerBase + 5 };
  }
  throw new Error(`no free block of ports for a ${nodes}-node private Kafka between ${low} and ${ephemeralStart}`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
