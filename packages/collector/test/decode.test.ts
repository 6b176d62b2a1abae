import type { ConsumedRecord } from '@tidemark/core';
import { decodeMessages } from '../src/kafka/decode';

const msg = (value: Buffer | string, offset = '0'): ConsumedRecord =>
  ({
    offset,
    value: Buffer.isBuffer(value) ? value : Buffer.from(value),
    key: null,
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {},
  }) as ConsumedRecord;

describe("direct producers get the HTTP path's validation (one validation for every path)", () => {
  test('lone surrogates are replaced with U+FFFD and a warning is landed with the row', () => {
    const d = decodeMessages('events', [msg(JSON.stringify([{ project_id: 'p1', name: 'a\ud800', distinct_id: '\udc00' }]))], 300_000, 86_400_000);
    expect(d.dead).toEqual([]);
    const rows = d.groups.find((g) => g.table === 'events_raw_v1')!.pieces[0]!.data.toString();
    expect(rows).toContain('"a\ufffd"');
    expect(rows).not.toMatch(/\\ud[89a-f]/);
    const warnings = d.groups.find((g) => g.table === 'ingest_warnings_v1')!.pieces[0]!.data.toString();
    expect(warnings).toContain('invalid_unicode_replaced');
  });

  test('invalid UTF-8 and over-deep JSON are dead-lettered with a reason, not stored with replacement characters', () => {
    const bad = Buffer.concat([Buffer.from('[{"project_id":"p1","name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]')]);
    const deep = `${'['.repeat(70)}${']'.repeat(70)}`;
    const d = decodeMessages('events', [msg(bad, '1'), msg(deep, '2')], 300_000, 86_400_000);
    expect(d.groups).toEqual([]);
    expect(d.dead.map((x) => [x.offset, x.reason])).toEqual([
      ['1', 'message value is not valid UTF-8'],
      ['2', 'JSON is nested too deeply (more than 64 levels)'],
    ]);
  });

  test('negative counters are dead-lettered with the same reason as HTTP gives', () => {
    const d = decodeMessages('metrics', [msg(JSON.stringify({ project_id: 'p1', name: 'x_total', type: 'counter', value: -2 }))], 300_000, 86_400_000);
    expect(d.dead[0]!.reason).toMatch(/^value: a counter cannot be negative/);
  });
});
