/**
 * The Kafka path refuses what HTTP refuses, case by case (docs/ingestion.md,
 * "What is refused"): each row is sent once over HTTP and once straight into
 * Kafka. HTTP answers with the row's status and reason; the Kafka copy goes
 * to the DLQ with the reason text, byte for byte as it was produced; nothing
 * of a refused row lands. For an item, the reason in HTTP's
 * error.context.rejected and the DLQ's tidemark-reason are the same text.
 * The rows that are not refused (a lone surrogate, a property too large for a
 * double) land the same way on both paths.
 */
import { createApiKey, ensureProject } from '@tidemark/core';
import type { Producer } from 'kafkajs';
import type { SignalName } from '../src';
import { bearer, post } from './harness';
import { startKafkaPath, type KafkaPath } from './kafka-contract.kit';

const MAX_ITEM_BYTES = 64 * 1024;

let k: KafkaPath;
let producer: Producer;
let goneProject: string;
let goneKey: string;

beforeAll(async () => {
  k = await startKafkaPath({ name: 'tmref', maxItemBytes: MAX_ITEM_BYTES });
  producer = k.kafka.producer({ idempotent: true });
  await producer.connect();
  // A project with a key, then deleted: HTTP refuses its key, Kafka its project_id.
  goneProject = `${k.stack.project}-gone`;
  await ensureProject(k.stack.meta, goneProject);
  goneKey = (await createApiKey(k.stack.meta, { projectId: goneProject, role: 'ingest' })).key;
  await k.stack.meta.query('DELETE FROM projects WHERE id = $1', [goneProject]);
}, 120_000);

afterAll(async () => {
  await producer?.disconnect();
  await k?.close();
});

const deep = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = { d: v };
  return v;
};
const parserMessage = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${text} is JSON`);
};

interface Refusal {
  case: string;
  signal: SignalName;
  /**
   * An item as JSON text (HTTP gets `[item]`; Kafka gets the item with
   * `project_id` first), or with `raw` the exact bytes both paths get.
   */
  item?: string;
  raw?: Buffer;
  /** Who sends it: over HTTP the key, over Kafka the project_id (default: the test's project and its key). */
  as?: 'nobody' | 'gone';
  http: { status: number; message: string | RegExp };
  /** The DLQ's tidemark-reason; for items also HTTP's error.context.rejected[0].reason. */
  reason: string | RegExp;
}

const noUtf8 = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
const notJson = '[{"name": "a",';
const tooDeep = `${'['.repeat(70)}${']'.repeat(70)}`;

const refusals: Refusal[] = [
  {
    case: 'not valid UTF-8',
    signal: 'events',
    raw: noUtf8,
    http: { status: 400, message: 'request body is not valid UTF-8' },
    reason: 'message value is not valid UTF-8',
  },
  {
    case: 'not JSON',
    signal: 'events',
    raw: Buffer.from(notJson),
    http: { status: 400, message: `request body is not valid JSON: ${parserMessage(notJson)}` },
    reason: `value is not JSON: ${parserMessage(notJson)}`,
  },
  {
    case: 'nested more than 64 levels',
    signal: 'logs',
    raw: Buffer.from(tooDeep),
    http: { status: 400, message: 'JSON is nested too deeply (more than 64 levels)' },
    reason: 'JSON is nested too deeply (more than 64 levels)',
  },
  {
    case: 'no project',
    signal: 'events',
    item: '{"name":"x"}',
    as: 'nobody',
    http: { status: 401, message: /^missing API key/ },
    reason: 'project_id: missing or not a project id',
  },
  {
    case: 'a project that does not exist',
    signal: 'events',
    item: '{"name":"x"}',
    as: 'gone',
    http: { status: 401, message: 'invalid or revoked API key' },
    reason: /^project_id: no project "p_.*-gone" exists$/,
  },
  {
    case: 'stored row over the item limit',
    signal: 'events',
    item: JSON.stringify({ name: 'big', properties: { s: 'x'.repeat(MAX_ITEM_BYTES) } }),
    http: { status: 413, message: /^1 item\(s\) exceed the limit of 65536 bytes per item as stored \(first: index 0, \d+ bytes\); nothing was stored$/ },
    reason: /^item exceeds the limit of 65536 bytes per item as stored \(\d+ bytes\)$/,
  },
  {
    case: 'a required field missing',
    signal: 'events',
    item: '{"properties":{}}',
    http: { status: 400, message: /item 0: name: / },
    reason: 'name: Invalid input: expected string, received undefined',
  },
  {
    case: 'a field of the wrong type',
    signal: 'logs',
    item: '{"message":["not","text"]}',
    http: { status: 400, message: /item 0: message: / },
    reason: /^message: Invalid input/,
  },
  {
    case: 'event_id not a UUID',
    signal: 'events',
    item: '{"name":"x","event_id":"42"}',
    http: { status: 400, message: /item 0: event_id: / },
    reason: 'event_id: Invalid UUID',
  },
  {
    case: 'a number too large to store',
    signal: 'metrics',
    item: '{"name":"cpu","value":1e400}',
    http: { status: 400, message: /item 0: value: / },
    reason: 'value: Invalid input: expected number, received Infinity',
  },
  {
    case: 'not a metric name',
    signal: 'metrics',
    item: '{"name":"cpu load","value":1}',
    http: { status: 400, message: /item 0: name: / },
    reason: 'name: must be a metric name: letters, digits, _ : . (Prometheus style)',
  },
  {
    case: 'more than 32 labels',
    signal: 'metrics',
    item: JSON.stringify({ name: 'cpu', value: 1, labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, i])) }),
    http: { status: 400, message: /item 0: labels: / },
    reason: 'labels: at most 32 labels',
  },
  {
    case: 'an unknown log level',
    signal: 'logs',
    item: '{"level":"LOUD","message":"x"}',
    http: { status: 400, message: /item 0: level: / },
    reason: 'level: "LOUD" is not one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL (or a pino level number)',
  },
  {
    case: 'properties deeper than 16 levels',
    signal: 'events',
    item: JSON.stringify({ name: 'x', properties: deep(17) }),
    http: { status: 400, message: /item 0: properties: / },
    reason: 'properties: nested deeper than 16 levels',
  },
  {
    case: 'a log attribute deeper than 8 levels',
    signal: 'logs',
    item: JSON.stringify({ message: 'x', attributes: { a: deep(9) } }),
    http: { status: 400, message: /item 0: attributes\.a: / },
    reason: 'attributes.a: nested deeper than 8 levels',
  },
  {
    case: 'a negative counter',
    signal: 'metrics',
    item: '{"name":"jobs_total","type":"counter","value":-2}',
    http: { status: 400, message: /item 0: value: / },
    reason: 'value: a counter cannot be negative (got -2); send a gauge for values that can fall',
  },
  {
    case: 'a negative duration metric',
    signal: 'metrics',
    item: '{"name":"http_request_duration_seconds","type":"histogram","value":-0.25}',
    http: { status: 400, message: /item 0: value: / },
    reason: 'value: http_request_duration_seconds is a duration and cannot be negative (got -0.25)',
  },
  {
    case: 'a negative duration property',
    signal: 'events',
    item: '{"name":"x","properties":{"duration_ms":-5}}',
    http: { status: 400, message: /item 0: properties\.duration_ms: / },
    reason: 'properties.duration_ms: a duration cannot be negative (got -5)',
  },
  {
    case: 'a property number out of the double range',
    signal: 'events',
    item: '{"name":"x","properties":{"cart":{"items":[1, 1e400]}}}',
    http: { status: 400, message: /item 0: properties\.cart\.items\[1\]: number out of range/ },
    reason: 'properties.cart.items[1]: number out of range (larger than a 64-bit float can hold, e.g. 1e400); send it as a string',
  },
  {
    case: 'a log attribute number out of the double range',
    signal: 'logs',
    item: '{"message":"x","attributes":{"big":-1e999}}',
    http: { status: 400, message: /item 0: attributes\.big: number out of range/ },
    reason: 'attributes.big: number out of range (larger than a 64-bit float can hold, e.g. 1e400); send it as a string',
  },
  {
    case: 'a timestamp that is not a date',
    signal: 'events',
    item: '{"name":"x","timestamp":"yesterday-ish"}',
    http: { status: 400, message: /item 0: timestamp / },
    reason: 'timestamp "yesterday-ish" is not an ISO 8601 date or epoch milliseconds',
  },
  {
    case: 'a timestamp out of range',
    signal: 'logs',
    item: '{"message":"x","timestamp":1e20}',
    http: { status: 400, message: /item 0: timestamp / },
    reason: 'timestamp 100000000000000000000 is not an ISO 8601 date or epoch milliseconds',
  },
  {
    case: 'a timestamp older than retention',
    signal: 'metrics',
    item: '{"name":"cpu","value":1,"timestamp":"2001-01-01T00:00:00Z"}',
    http: { status: 400, message: /item 0: timestamp / },
    reason: 'timestamp 2001-01-01T00:00:00.000Z is older than the raw retention window',
  },
];

/** The Kafka copy of a row: raw bytes as they are, an item with project_id first (as the SDK writes it). */
function kafkaValue(r: Refusal): Buffer {
  if (r.raw) return r.raw;
  if (r.as === 'nobody') return Buffer.from(r.item!);
  const project = r.as === 'gone' ? goneProject : k.stack.project;
  return Buffer.from(`{"project_id":${JSON.stringify(project)},${r.item!.slice(1)}`);
}

async function produce(signal: SignalName, value: Buffer, key: string): Promise<string> {
  const [meta] = await producer.send({ topic: k.topics[signal], acks: -1, messages: [{ key, value }] });
  return `${k.topics[signal]}:${meta!.partition}:${meta!.baseOffset}`;
}

describe('each refusal over HTTP and straight into Kafka', () => {
  test.each(refusals)('$case', async (r) => {
    const auth = r.as === 'nobody' ? {} : bearer(r.as === 'gone' ? goneKey : k.stack.keys.ingest);
    const reply = await post(`${k.collector.url}/v1/${r.signal}`, r.raw ?? `[${r.item!}]`, auth);
    const error = reply.json.error as { message: string; context: { rejected?: { index: number; reason: string }[] } };
    expect({ status: reply.status, message: error.message }).toEqual({
      status: r.http.status,
      message: typeof r.http.message === 'string' ? r.http.message : expect.stringMatching(r.http.message),
    });

    const value = kafkaValue(r);
    const dlqKey = await produce(r.signal, value, `refusal:${r.case}`);
    const [letter] = await k.waitForDead((d) => d.key === dlqKey, 1);
    expect(letter!.reason).toEqual(typeof r.reason === 'string' ? r.reason : expect.stringMatching(r.reason));
    // Kept as the producer wrote it.
    expect(letter!.value.equals(value)).toBe(true);
    // An item refused over HTTP with a 400 carries the very same reason text.
    if (r.item !== undefined && r.http.status === 400) expect(error.context.rejected).toEqual([{ index: 0, reason: letter!.reason }]);
  });
});

interface Accepted {
  case: string;
  item: string;
  /** The stored properties of both copies. */
  properties: string;
  warning?: string;
}

const accepted: Accepted[] = [
  {
    case: 'a lone surrogate is replaced with U+FFFD and the item lands with a warning',
    item: '{"name":"lone","properties":{"s":"a\\ud800b"}}',
    properties: '{"s":"a\ufffdb"}',
    warning: 'invalid_unicode_replaced',
  },
];

describe('not refused, the same way on both paths', () => {
  test.each(accepted)('$case', async (a) => {
    const name = (JSON.parse(a.item) as { name: string }).name;
    const reply = await post(`${k.collector.url}/v1/events`, `[${a.item}]`, bearer(k.stack.keys.ingest));
    expect(reply.json).toMatchObject({ accepted: 1, rejected: [], warnings: a.warning ? 1 : 0 });
    await produce('events', Buffer.from(`{"project_id":${JSON.stringify(k.stack.project)},${a.item.slice(1)}`), `accepted:${a.case}`);
    await k.drained();
    const rows = await k.stack.rows<{ properties: string; measures: Record<string, number> }>(
      'SELECT properties, measures FROM events_raw_v1 WHERE name = {name:String}',
      { name },
    );
    expect(rows.map((x) => x.properties)).toEqual([a.properties, a.properties]);
    const warnings = await k.stack.rows<{ kind: string }>("SELECT kind FROM ingest_warnings_v1 WHERE signal = 'events' AND detail LIKE '%properties.s%'");
    if (a.warning) expect(warnings.map((w) => w.kind)).toEqual([a.warning, a.warning]);
  });
});

test('nothing of a refused row landed on either path', async () => {
  await k.drained();
  expect(
    k.dead.map((d) => d.reason).filter((reason) => !refusals.some((r) => (typeof r.reason === 'string' ? r.reason === reason : r.reason.test(reason)))),
  ).toEqual([]);
  expect(k.dead).toHaveLength(refusals.length);
  // Only the two copies of each accepted row are stored.
  expect(await k.stack.rows('SELECT name, count() AS c FROM events_raw_v1 GROUP BY name ORDER BY name')).toEqual([{ name: 'lone', c: '2' }]);
  expect(await k.stack.rows('SELECT count() AS c FROM metrics_raw_v1')).toEqual([{ c: '0' }]);
  expect(await k.stack.rows('SELECT count() AS c FROM logs_raw_v1')).toEqual([{ c: '0' }]);
});
