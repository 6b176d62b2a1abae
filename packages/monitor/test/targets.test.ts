import { ConfigError } from '@tidemark/core';
import { parseKafkaTarget, parseTargetList } from '../src';

test('target lists: names, default names, several entries, URLs with = in their query', () => {
  expect(parseTargetList('K', ' api=http://127.0.0.1:8080/health , tcp://db.internal:5432,https://x.example/ping?a=b ', ['http', 'https', 'tcp'])).toEqual([
    { name: 'api', url: 'http://127.0.0.1:8080/health' },
    { name: 'db.internal:5432', url: 'tcp://db.internal:5432' },
    { name: 'x.example/ping', url: 'https://x.example/ping?a=b' },
  ]);
  expect(parseTargetList('K', '', ['http'])).toEqual([]);
  // Credentials never end up in the default name (it becomes a label).
  expect(parseTargetList('K', 'postgres://u:secret@pg:5432/app', ['postgres'])[0]!.name).toBe('pg:5432/app');
});

test('bad entries fail start with the key named', () => {
  const bad: [string, RegExp][] = [
    ['not a url', /K: "not a url" is not \[name=\]URL/],
    ['ftp://x', /must use http:\/\//],
    ['a=http://x,a=http://y', /used twice/],
    ['bad name=http://x', /must be 1-128/],
  ];
  for (const [value, message] of bad) {
    expect(() => parseTargetList('K', value, ['http'])).toThrow(ConfigError);
    expect(() => parseTargetList('K', value, ['http'])).toThrow(message);
  }
});

test('the Kafka target is one cluster with its broker list', () => {
  expect(parseKafkaTarget('K', 'prod=k1:9092,k2:9092')).toEqual({ name: 'prod', brokers: 'k1:9092,k2:9092' });
  expect(parseKafkaTarget('K', '127.0.0.1:19092')).toEqual({ name: 'kafka', brokers: '127.0.0.1:19092' });
  expect(parseKafkaTarget('K', ' ')).toBeUndefined();
  expect(() => parseKafkaTarget('K', 'k1')).toThrow(/host:port/);
});

test('credentials never appear in the error', () => {
  expect(() => parseTargetList('K', 'db=mysql://admin:hunter2@db:3306/x', ['postgres'])).toThrow(/mysql:\/\/<redacted>@db:3306/);
  try {
    parseTargetList('K', 'db=mysql://admin:hunter2@db:3306/x', ['postgres']);
  } catch (e) {
    expect((e as Error).message).not.toContain('hunter2');
  }
});
