import fs from 'node:fs';
import path from 'node:path';
import { SDK_VERSION, TidemarkClient, type QueueEntry, type SendOutcome, type Transport, type TidemarkSdkError } from '../src';

/** Keeps what the client hands to its transport. */
class Capture implements Transport {
  readonly name = 'capture';
  readonly keyed = true;
  readonly sent: { signal: string; entries: QueueEntry[] }[] = [];
  async send(signal: 'events' | 'metrics' | 'logs', batch: readonly QueueEntry[]): Promise<SendOutcome> {
    this.sent.push({ signal, entries: [...batch] });
    return { kind: 'ok', rejected: [] };
  }
  async close(): Promise<void> {}
}

test('SDK_VERSION is the package version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  expect(SDK_VERSION).toBe(pkg.version);
});

test('items are serialised when tracked, with the Kafka partition key of the contract for keyed transports', async () => {
  const t = new Capture();
  const c = new TidemarkClient({ transport: t, flushOnExit: false, metricsIntervalMs: 0, service: 'svc', context: { product: 'p' } });
  const props: Record<string, unknown> = { n: 1 };
  const id = c.track('e1', props, { distinctId: 'u1', timestamp: 1_700_000_000_000 });
  props.n = 2; // later mutation must not change what is sent
  c.track('e2', undefined, { sessionId: 's9' });
  c.gauge('g').set({ a: 'x' }, 3);
  c.logLine('{"level":30,"msg":"hi"}');
  c.logLine('{}');
  expect(await c.flush({ timeoutMs: 1_000 })).toBe(true);
  const events = t.sent.filter((s) => s.signal === 'events').flatMap((s) => s.entries);
  expect(JSON.parse(events[0]!.json)).toEqual({
    event_id: id,
    name: 'e1',
    timestamp: 1_700_000_000_000,
    distinct_id: 'u1',
    properties: { n: 1 },
    context: { product: 'p' },
  });
  expect(events.map((e) => e.key)).toEqual(['u1', 's9']);
  const metrics = t.sent.filter((s) => s.signal === 'metrics').flatMap((s) => s.entries);
  expect(metrics.map((m) => m.key)).toEqual(['g:a="x"']);
  const logs = t.sent.filter((s) => s.signal === 'logs').flatMap((s) => s.entries);
  expect(logs.map((l) => JSON.parse(l.json))).toEqual([{ service: 'svc', level: 30, msg: 'hi' }, { service: 'svc' }]);
  expect(logs.map((l) => l.key)).toEqual(['svc', 'svc']);
  await c.shutdown(100);
});

test('invalid options turn the client off with a reason instead of throwing', async () => {
  for (const opts of [
    {},
    { endpoint: 'http://x' },
    { endpoint: 'not a url', apiKey: 'k' },
    { endpoint: 'http://x', apiKey: 'k', maxQueueSize: 0 },
    { kafka: { projectId: 'Bad Id', brokers: 'b:1' } },
  ]) {
    const errors: TidemarkSdkError[] = [];
    let c: TidemarkClient | undefined;
    expect(() => {
      c = new TidemarkClient({ ...opts, onError: (e) => errors.push(e), flushOnExit: false });
    }).not.toThrow();
    expect(c!.stats().disabled).toBeTruthy();
    expect(c!.track('x')).toBeUndefined();
    expect(errors.map((e) => e.code)).toEqual(['INVALID_OPTIONS']);
    await c!.shutdown(10);
  }
});

test('flushOnExit listens for beforeExit until shutdown', async () => {
  const before = process.listenerCount('beforeExit');
  const c = new TidemarkClient({ transport: new Capture(), metricsIntervalMs: 0 });
  expect(process.listenerCount('beforeExit')).toBe(before + 1);
  await c.shutdown(100);
  expect(process.listenerCount('beforeExit')).toBe(before);
});

test('metric series keys are only computed for keyed transports (Kafka)', async () => {
  const t = new Capture();
  const unkeyed: Transport = { name: 'plain', send: (s, b) => t.send(s, b), close: async () => undefined };
  const c = new TidemarkClient({ transport: unkeyed, flushOnExit: false, metricsIntervalMs: 0 });
  c.histogram('h_ms').observe({ route: '/x' }, 3);
  expect(await c.flush({ timeoutMs: 1_000 })).toBe(true);
  expect(t.sent.flatMap((s) => s.entries).map((e) => e.key)).toEqual(['']);
  await c.shutdown(100);
});
