/**
 * The parts of the topic contract (docs/ingestion.md) that decodeMessages
 * decides alone: dead letters keep the producer's bytes, the per-item limit
 * and the project check of direct producers. The end-to-end contract, with
 * kcat and the real broker, is kafka-contract.int.test.ts.
 */
import type { ConsumedRecord } from '@tidemark/core';
import { arrayItemTexts, decodeMessages } from '../src/kafka/decode';

const msg = (value: Buffer | string, offset = '0'): ConsumedRecord =>
  ({
    offset,
    value: Buffer.isBuffer(value) ? value : Buffer.from(value),
    key: null,
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {},
  }) as ConsumedRecord;

describe('arrayItemTexts: each element of a JSON array as written', () => {
  test.each([
    ['[]', []],
    [' [ ] ', []],
    ['[1]', ['1']],
    ['[ {"a": [1, {"b": "],}\\"["}]} ,\n"x,y" , null,[[]] ]', ['{"a": [1, {"b": "],}\\"["}]}', '"x,y"', 'null', '[[]]']],
    ['["\\\\", "\\"", 1e400, 12345678901234567890]', ['"\\\\"', '"\\""', '1e400', '12345678901234567890']],
  ])('%s', (text, want) => {
    expect(arrayItemTexts(text)).toEqual(want);
    // The elements are the ones JSON.parse sees.
    expect(want.map((t) => JSON.parse(t) as unknown)).toEqual(JSON.parse(text));
  });
});

describe('dead letters keep the item as the producer wrote it', () => {
  test('an item of an array: its own bytes, with its index', () => {
    const value =
      '[{"project_id":"p1","name":"ok"},  {"project_id":"p1", "name":"m", "properties":{"big": 12345678901234567890, "inf": 1e400, "duration_ms": -1}} ]';
    const d = decodeMessages('events', [msg(value, '7')], 300_000, 86_400_000);
    expect(d.dead).toEqual([
      {
        offset: '7',
        index: 1,
        value: '{"project_id":"p1", "name":"m", "properties":{"big": 12345678901234567890, "inf": 1e400, "duration_ms": -1}}',
        reason: 'properties.duration_ms: a duration cannot be negative (got -1)',
      },
    ]);
    expect(d.rows).toBe(1);
  });

  test('a message holding one item: the whole value, no index', () => {
    const value = Buffer.from('{ "project_id": "p1", "name": "x_total", "type": "counter", "value": -1.50 }\n');
    const d = decodeMessages('metrics', [msg(value, '3')], 300_000, 86_400_000);
    expect(d.dead).toHaveLength(1);
    expect(d.dead[0]!.index).toBeUndefined();
    expect(Buffer.compare(Buffer.from(d.dead[0]!.value), value)).toBe(0);
  });
});

test('an item whose stored row is over maxItemBytes is refused with the limit named; its neighbours land', () => {
  const big = { project_id: 'p1', name: 'big', properties: { s: 'x'.repeat(2_000) } };
  const d = decodeMessages('events', [msg(JSON.stringify([{ project_id: 'p1', name: 'small' }, big]))], 300_000, 86_400_000, { maxItemBytes: 1_024 });
  expect(d.dead.map((x) => [x.index, x.reason])).toEqual([
    [1, expect.stringMatching(/^item exceeds the limit of 1024 bytes per item as stored \(\d+ bytes\)$/)],
  ]);
  expect(d.rows).toBe(1);
  // Without the option the collector's default (256 KiB) applies.
  expect(decodeMessages('events', [msg(JSON.stringify(big))], 300_000, 86_400_000).dead).toEqual([]);
});

test('items of unknown projects are refused; every named project is reported for the check', () => {
  const value = JSON.stringify([
    { project_id: 'known', name: 'a' },
    { project_id: 'gone', name: 'b' },
    { project_id: 'Not A Project', name: 'c' },
  ]);
  const first = decodeMessages('events', [msg(value)], 300_000, 86_400_000);
  expect([...first.projects].sort()).toEqual(['gone', 'known']);
  expect(first.rows).toBe(2);
  const second = decodeMessages('events', [msg(value)], 300_000, 86_400_000, { unknownProjects: new Set(['gone']) });
  expect(second.rows).toBe(1);
  expect(second.dead.map((x) => [x.index, x.reason])).toEqual([
    [1, 'project_id: no project "gone" exists'],
    [2, 'project_id: missing or not a project id'],
  ]);
});
