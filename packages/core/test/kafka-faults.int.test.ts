/**
 * Issue 12: the Kafka error classification against a real broker that is
 * killed, stopped, slow and restarted. The broker is a private one-node
 * cluster (scripts/services with TIDEMARK_SERVICES_DIR and ports of its own),
 * so killing it disturbs no other test using the shared broker.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { classifyError, type TidemarkError } from '../src';
import { privateKafkaPorts, uniqueName } from './services';

const SCRIPTS = path.join(__dirname, '..', '..', '..', 'scripts', 'services');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-kafka-faults-'));
// Set in beforeAll once free ports are found; never the shared cluster's environment
// (down.sh --purge in afterAll must not reach the shared broker).
let env: NodeJS.ProcessEnv | undefined;
let broker = '';
const sh = (script: string, ...args: string[]): string => {
  if (!env) throw new Error('the private cluster has no ports yet');
  return execFileSync('bash', [path.join(SCRIPTS, script), ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
};
const brokerPid = (): number => Number(fs.readFileSync(path.join(dir, 'kafka', '1-node', 'node-1', 'kafka.pid'), 'utf8').trim());

let kafka: Kafka;
const topic = uniqueName('tm-faults');
const producers: Producer[] = [];

async function producer(): Promise<Producer> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } });
  producers.push(p);
  await p.connect();
  return p;
}

async function failure(op: () => Promise<unknown>): Promise<TidemarkError> {
  try {
    await op();
  } catch (err) {
    return classifyError(err, 'kafka');
  }
  throw new Error('expected the operation to fail');
}

const send = (p: Producer) => p.send({ topic, acks: -1, messages: [{ value: 'x' }] });
const unavailable = { statusCode: 503, retriable: true, code: 'DEPENDENCY_UNAVAILABLE', retryAfterMs: 2_000 };

beforeAll(async () => {
  const { brokerBase, controllerBase } = await privateKafkaPorts(1);
  env = { ...process.env, TIDEMARK_SERVICES_DIR: dir, KAFKA_BASE_PORT: String(brokerBase), KAFKA_CONTROLLER_BASE_PORT: String(controllerBase) };
  broker = `127.0.0.1:${brokerBase}`;
  // Short timeouts and few retries: each failure surfaces in seconds.
  kafka = new Kafka({
    clientId: uniqueName('tm-faults'),
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    requestTimeout: 3_000,
    connectionTimeout: 1_000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
  });
  sh('up.sh');
  execFileSync('bash', [path.join(SCRIPTS, 'kafka-tool.sh'), 'topics', '--bootstrap-server', broker, '--create', '--topic', topic, '--partitions', '3'], {
    env,
    stdio: 'ignore',
  });
}, 180_000);

afterAll(async () => {
  await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
  try {
    process.kill(brokerPid(), 'SIGCONT');
  } catch {
    // not stopped
  }
  if (env) sh('down.sh', '--purge');
  fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

test('killed (SIGKILL): sends and new connections fail as 503 retriable with Retry-After, also when kafkajs wraps the refusal as non-retriable; after a start they succeed', async () => {
  const p = await producer();
  await send(p);
  sh('kafka-node.sh', 'kill', '1');
  expect(await failure(() => send(p))).toMatchObject(unavailable);
  const fresh = await failure(() => producer());
  expect(fresh).toMatchObject(unavailable);
  // The shape issue 12 saw answered 500 retriable:false: KafkaJSNonRetriableError around ECONNREFUSED.
  expect((fresh.cause as Error).name).toMatch(/KafkaJS(NonRetriableError|NumberOfRetriesExceeded|ConnectionError)/);
  sh('kafka-node.sh', 'start', '1');
  await expect(send(await producer())).resolves.toBeDefined();
}, 180_000);

test('slow (the broker process paused): the request timeout is 503 retriable; once it resumes sends succeed', async () => {
  const p = await producer();
  await send(p);
  process.kill(brokerPid(), 'SIGSTOP');
  try {
    expect(await failure(() => send(p))).toMatchObject(unavailable);
  } finally {
    process.kill(brokerPid(), 'SIGCONT');
  }
  await expect(send(await producer())).resolves.toBeDefined();
}, 120_000);

test('gracefully stopped, then restarted: 503 retriable while it is away, sends succeed after', async () => {
  const p = await producer();
  await send(p);
  sh('kafka-node.sh', 'stop', '1');
  expect(await failure(() => send(p))).toMatchObject(unavailable);
  expect(await failure(() => producer())).toMatchObject(unavailable);
  sh('kafka-node.sh', 'start', '1');
  await expect(send(await producer())).resolves.toBeDefined();
}, 180_000);
