/**
 * The Kafka transport through the SDK's own structural producer type: a
 * caller's producer (any client) is used as it is, never connected or
 * disconnected by the transport; and kafkajs's Kafka and Producer satisfy
 * the public types without the SDK naming kafkajs.
 */
import type { Kafka, Producer } from 'kafkajs';
import { KafkaTransport, type KafkaClientLike, type KafkaProduceRecord, type KafkaProducerLike } from '../src';

// Compile-time: a kafkajs client and producer can be handed to the transport as they are.
const asClient = (k: Kafka): KafkaClientLike => k;
const asProducer = (p: Producer): KafkaProducerLike => p;
void asClient;
void asProducer;

const entry = (json: string, key: string, seq: number) => ({ json, key, size: json.length, seq });

test('a caller-owned producer sends each key as one message, acks=all, gzip by default, and is not disconnected on close', async () => {
  const sent: KafkaProduceRecord[] = [];
  const producer = { send: async (r: KafkaProduceRecord) => void sent.push(r), disconnect: jest.fn() };
  const t = new KafkaTransport({ projectId: 'p1', producer, topicPrefix: 'tm.' });
  const out = await t.send('events', [entry('{"name":"a"}', 'u1', 1), entry('{"name":"b"}', 'u2', 2), entry('{}', 'u1', 3)], new AbortController().signal);
  expect(out).toEqual({ kind: 'ok', rejected: [] });
  expect(sent).toEqual([
    {
      topic: 'tm.events.v1',
      acks: -1,
      compression: 1,
      messages: [
        { key: 'p1:u1', value: '[{"project_id":"p1","name":"a"},{"project_id":"p1"}]' },
        { key: 'p1:u2', value: '[{"project_id":"p1","name":"b"}]' },
      ],
    },
  ]);
  await t.close();
  expect(producer.disconnect).not.toHaveBeenCalled();
});

test("a producer's errors map to the outcomes: a broker's permanent refusal fails, too large splits, anything else retries", async () => {
  const failing = (err: Error) => new KafkaTransport({ projectId: 'p1', producer: { send: () => Promise.reject(err) }, compression: 'none' });
  const abort = new AbortController().signal;
  const batch = [entry('{"name":"a"}', 'u1', 1)];
  const protocol = (type: string, retriable: boolean) => Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable });
  expect((await failing(protocol('TOPIC_AUTHORIZATION_FAILED', false)).send('events', batch, abort)).kind).toBe('fail');
  expect((await failing(protocol('MESSAGE_TOO_LARGE', false)).send('events', batch, abort)).kind).toBe('too_large');
  expect((await failing(new Error('Connection error: connect ECONNREFUSED')).send('events', batch, abort)).kind).toBe('retry');
});

test('one of a client (kafka), a producer or brokers is required', () => {
  expect(() => new KafkaTransport({ projectId: 'p1' })).toThrow(/give a client \(kafka\), a producer or brokers/);
});
