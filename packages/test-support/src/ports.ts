/**
 * Loopback ports for tests that hand a fixed port to a child process or a
 * private broker. Imports only node builtins, so core's own tests (which
 * cannot depend on this package: it depends on core) import this file
 * directly.
 *
 * Every port here lies below the kernel's ephemeral range. A port taken from
 * that range (bind to port 0, read the number, close) can be taken again by
 * any process's port 0 listener or outgoing connection before the child
 * binds it; in CI it was, twice (a private Kafka's controller port, the cli
 * shutdown test's collector port: EADDRINUSE). Below the range only these
 * helpers hand ports out, and the two ranges below keep them apart:
 *   [10000, 20000)            freePorts / freePort / closedPort, at random
 *   [20000, ephemeral start)  privateKafkaPorts, blocks of 10 spread by pid
 */
import fs from 'node:fs';
import net from 'node:net';

const SINGLE_LOW = 10_000;
const KAFKA_LOW = 20_000;

/** The first port the kernel hands out for port 0 and outgoing connections (Linux; 32768, the IANA-ish default, elsewhere). */
function ephemeralStart(): number {
  try {
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(start) && start > KAFKA_LOW) return start;
  } catch {
    // not Linux
  }
  return 32_768;
}

/** Whether a listener could bind the port on 127.0.0.1 now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `n` distinct loopback ports that are free now, for a child process told to listen on a fixed port. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < n; tries++) {
    if (tries > 1_000) throw new Error(`no ${n} free ports between ${SINGLE_LOW} and ${KAFKA_LOW}`);
    const port = SINGLE_LOW + Math.floor(Math.random() * (KAFKA_LOW - SINGLE_LOW));
    if (!ports.has(port) && (await portFree(port))) ports.add(port);
  }
  return [...ports];
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** A loopback port nothing listens on, for a refused-connection target (a parallel suite's port 0 listener never lands on it). */
export const closedPort = freePort;

/**
 * Ports for a private Kafka cluster (scripts/services with
 * TIDEMARK_SERVICES_DIR): `nodes` broker ports from brokerBase and as many
 * controller ports from controllerBase, all free now. The first block tried
 * depends on the pid, so concurrent test files probe different blocks.
 */
export async function privateKafkaPorts(nodes: number): Promise<{ brokerBase: number; controllerBase: number }> {
  const end = Math.min(ephemeralStart(), 32_768);
  const blocks = Math.floor((end - KAFKA_LOW) / 10);
  if (blocks < 1) throw new Error(`no room for private Kafka ports below the ephemeral range (starts at ${end})`);
  const first = process.pid % blocks;
  for (let i = 0; i < blocks; i++) {
    const brokerBase = KAFKA_LOW + ((first + i) % blocks) * 10;
    const ports = Array.from({ length: nodes }, (_, n) => [brokerBase + n, brokerBase + 5 + n]).flat();
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return { brokerBase, controllerBase: brokerBase + 5 };
  }
  throw new Error(`no free block of ports for a ${nodes}-node private Kafka between ${KAFKA_LOW} and ${end}`);
}
