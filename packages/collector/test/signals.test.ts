import { chTime, labelsKey, normalizeBatch, normalizeEvent, normalizeLog, normalizeMetric, parseBatch, type NormalizeContext } from '../src';

const NOW = Date.parse('2026-11-22T10:00:00.000Z');
const ctx: NormalizeContext = { projectId: 'p1', receivedAt: NOW, futureToleranceMs: 300_000, retentionMs: 90 * 86_400_000 };

describe('events', () => {
  test('normalises a full event', () => {
    const n = normalizeEvent(
      {
        event_id: '0b0e9f6c-9a4c-4d0e-9d36-1f2b8b4c0a11',
        name: 'message.ai',
        timestamp: '2026-11-22T09:59:00.000Z',
        session_id: 's1',
        user_id: 'u1',
        properties: { response_time: 812.5, tokens: 120, model: 'gpt', nested: { a: 1 } },
        context: { product: 'chatbot', channel: 'web', os: 'linux', app_version: '1.2.3', user_agent: 'ua' },
      },
      ctx,
    );
    expect(n).toEqual({
      ok: true,
      warnings: [],
      row: {
        project_id: 'p1',
        event_id: '0b0e9f6c-9a4c-4d0e-9d36-1f2b8b4c0a11',
        name: 'message.ai',
        timestamp: '2026-11-22 09:59:00.000',
        received_at: '2026-11-22 10:00:00.000',
        distinct_id: 'u1',
        session_id: 's1',
        properties: '{"response_time":812.5,"tokens":120,"model":"gpt","nested":{"a":1}}',
        measures: { response_time: 812.5, tokens: 120 },
        product: 'chatbot',
        channel: 'web',
        os: 'linux',
        app_version: '1.2.3',
        user_agent: 'ua',
      },
    });
  });

  test('corrects client clock skew with sent_at', () => {
    // Client clock is 1 hour behind: it stamped 08:59 and sent at 09:00 while the server says 10:00.
    const n = normalizeEvent({ name: 'x', timestamp: '2026-11-22T08:59:00Z', sent_at: '2026-11-22T09:00:00Z' }, ctx);
    expect(n.ok && n.row.timestamp).toBe('2026-11-22 09:59:00.000');
    expect(n.ok && n.warnings.map((w) => w.kind)).toEqual(['clock_skew_corrected']);
  });

  test('leaves an offset within transport latency uncorrected, corrects one just past it', () => {
    const sentAt = NOW - 1_500; // 1.5 s in flight on a loaded host: not a clock error
    const n = normalizeEvent({ name: 'x', timestamp: sentAt - 10, sent_at: sentAt }, ctx);
    expect(n.ok && n.row.timestamp).toBe('2026-11-22 09:59:58.490');
    const m = normalizeEvent({ name: 'x', timestamp: NOW - 2_510, sent_at: NOW - 2_500 }, ctx);
    expect(m.ok && m.row.timestamp).toBe('2026-11-22 09:59:59.990');
  });

  test('chTime formats like toISOString, across seconds, days and fractional milliseconds', () => {
    const iso = (ms: number) => new Date(Math.floor(ms)).toISOString().replace('T', ' ').slice(0, 23);
    const times = [
      NOW,
      NOW + 1,
      NOW + 999,
      NOW + 1000,
      NOW - 1,
      Date.parse('2026-12-31T23:59:59.999Z'),
      Date.parse('2027-01-01T00:00:00.000Z'),
      NOW + 0.7,
      1,
      999,
    ];
    for (let i = 0; i < 2000; i++) times.push(NOW + i * 7919.3);
    for (const t of times) expect(chTime(t)).toBe(iso(t));
  });

  test('clamps a far-future timestamp and records a warning', () => {
    const n = normalizeEvent({ name: 'x', timestamp: NOW + 86_400_000 }, ctx);
    expect(n.ok && n.row.timestamp).toBe('2026-11-22 10:00:00.000');
    expect(n.ok && n.warnings[0]?.kind).toBe('timestamp_in_future');
  });

  test('refuses events older than retention, bad ids, bad timestamps and deep nesting', () => {
    expect(normalizeEvent({ name: 'x', timestamp: '2020-01-01T00:00:00Z' }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/retention/) });
    expect(normalizeEvent({ name: 'x', event_id: 'nope' }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/^event_id/) });
    expect(normalizeEvent({ name: 'x', timestamp: 'yesterday-ish' }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/not an ISO 8601/) });
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 30; i++) deep = { d: deep };
    expect(normalizeEvent({ name: 'x', properties: deep }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/nested deeper/) });
    // 1e400 parses to Infinity, which JSON.stringify would store as null: refused, naming where.
    expect(normalizeEvent(JSON.parse('{"name":"x","properties":{"a":{"b":[0,1e400]}}}'), ctx)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^properties\.a\.b\[1\]: number out of range/),
    });
    expect(normalizeEvent(JSON.parse('{"name":"x","properties":{"a":1.7976931348623157e308}}'), ctx)).toMatchObject({ ok: true });
    expect(normalizeEvent({ name: 42 }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/^name: /) });
    expect(normalizeEvent(null, ctx)).toMatchObject({ ok: false });
  });

  test('a missing event_id is generated', () => {
    const n = normalizeEvent({ name: 'x' }, ctx);
    expect(n.ok && n.row.event_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('metrics', () => {
  test('normalises labels into a canonical series key', () => {
    const n = normalizeMetric({ name: 'http_requests_total', value: 3, type: 'counter', labels: { status: 500, route: '/a' } }, ctx);
    expect(n).toMatchObject({ ok: true, row: { labels: { status: '500', route: '/a' }, labels_key: 'route="/a",status="500"', type: 'counter' } });
    expect(labelsKey({ b: '1', a: '2' })).toBe(labelsKey({ a: '2', b: '1' }));
  });
  test('refuses bad names and values', () => {
    expect(normalizeMetric({ name: 'cpu percent', value: 1 }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/^name/) });
    expect(normalizeMetric({ name: 'cpu', value: 'high' }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/^value/) });
    expect(normalizeMetric({ name: 'cpu', value: 1, type: 'summary' }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/^type/) });
  });
});

describe('logs', () => {
  test('accepts pino lines as they are', () => {
    const n = normalizeLog(
      {
        level: 50,
        time: NOW - 1000,
        msg: 'payment failed',
        name: 'payments',
        pid: 1,
        hostname: 'h',
        path: '/api/v1/payments/1',
        status_code: 500,
        req: { id: 7 },
      },
      ctx,
    );
    expect(n).toMatchObject({
      ok: true,
      row: { level: 'ERROR', service: 'payments', message: 'payment failed', attributes: { path: '/api/v1/payments/1', status_code: '500', req: '{"id":7}' } },
    });
  });
  test('accepts ELK-style lines and refuses unknown levels', () => {
    expect(normalizeLog({ level: 'warning', message: 'slow', service: 'api', attributes: { process_time: 2.5 } }, ctx)).toMatchObject({
      ok: true,
      row: { level: 'WARN', attributes: { process_time: '2.5' } },
    });
    expect(normalizeLog({ level: 'LOUD', message: 'x' }, ctx)).toMatchObject({ ok: false, reason: expect.stringMatching(/^level/) });
  });
});

describe('parseBatch and normalizeBatch', () => {
  test('JSON array, envelope with sent_at, single object', () => {
    expect(parseBatch('[{"name":"a"},{"name":"b"}]', 'application/json', 'events').items).toHaveLength(2);
    const env = parseBatch('{"sent_at":"2026-11-22T09:00:00Z","batch":[{"name":"a"}]}', 'application/json', 'events');
    expect(env.sentAt).toBe(Date.parse('2026-11-22T09:00:00Z'));
    expect(parseBatch('{"events":[{"name":"a"}]}', 'application/json', 'events').items).toEqual([{ name: 'a' }]);
    expect(parseBatch('{"name":"a"}', 'application/json', 'events').items).toEqual([{ name: 'a' }]);
  });
  test('NDJSON: a broken line is refused alone', () => {
    const p = parseBatch('{"name":"a"}\n{broken\n\n{"name":"c"}\n', 'application/x-ndjson', 'events');
    const b = normalizeBatch('events', p, ctx);
    expect(b.rows.map((r) => r.name)).toEqual(['a', 'c']);
    expect(b.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/not valid JSON/) }]);
  });
  test('whole-body problems are errors naming what is wrong', () => {
    expect(() => parseBatch('{"name": ', 'application/json', 'events')).toThrow(/not valid JSON/);
    expect(() => parseBatch('42', 'application/json', 'events')).toThrow(/must be a JSON array, an object, or NDJSON; got number/);
    expect(() => parseBatch('{"batch": 3}', 'application/json', 'events')).toThrow(/"batch" must be an array/);
    expect(() => parseBatch('{"sent_at": true, "batch": []}', 'application/json', 'events')).toThrow(/sent_at/);
    expect(() => parseBatch('['.repeat(200_000), 'application/json', 'events')).toThrow(/not valid JSON/);
  });
  test('row-level errors carry index and reason; valid rows are kept', () => {
    const b = normalizeBatch('events', parseBatch('[{"name":"ok"},{"nom":"x"},{"name":"ok2","timestamp":"bad"}]', 'application/json', 'events'), ctx);
    expect(b.rows).toHaveLength(1);
    expect(b.rejected.map((r) => r.index)).toEqual([1, 2]);
  });
});

describe('strings ClickHouse cannot store (issue 11 item 5)', () => {
  const parse = (items: unknown[]) => ({ items, errors: [] });

  test('lone surrogates in values and keys of every signal are replaced with U+FFFD, with a warning naming the fields', () => {
    const ev = normalizeBatch(
      'events',
      parse([{ name: 'a\ud800', distinct_id: '\udc00', properties: { ['k\ud800']: 'v\udfff', n: 1, ok: '😀' }, context: { os: '\ud800' } }]),
      ctx,
    );
    expect(ev.rejected).toEqual([]);
    const row = ev.rows[0]!;
    expect(row.name).toBe('a\ufffd');
    expect(row.distinct_id).toBe('\ufffd');
    expect(row.os).toBe('\ufffd');
    expect(JSON.parse(row.properties)).toEqual({ 'k\ufffd': 'v\ufffd', n: 1, ok: '😀' });
    expect(ev.lines[0]).not.toMatch(/\\ud[89a-f]/);
    expect(ev.warnings).toEqual([
      expect.objectContaining({ kind: 'invalid_unicode_replaced', detail: expect.stringContaining('name, distinct_id, properties.k\ufffd (key)') }),
    ]);

    const me = normalizeBatch('metrics', parse([{ name: 'm', value: 1, labels: { host: 'h\ud800' } }]), ctx);
    expect(me.rows[0]!.labels).toEqual({ host: 'h\ufffd' });
    expect(me.rows[0]!.labels_key).toBe('host="h\ufffd"');
    expect(me.lines[0]).not.toMatch(/\\ud[89a-f]/);

    const lo = normalizeBatch('logs', parse([{ message: 'x\ud800', service: 's', extra: { deep: '\udc01' } }]), ctx);
    expect(lo.rows[0]!.message).toBe('x\ufffd');
    expect(lo.rows[0]!.attributes).toEqual({ extra: '{"deep":"\ufffd"}' });
    expect(lo.lines[0]).not.toMatch(/\\ud[89a-f]/);
  });

  test('well-formed text (pairs, NUL, a literal backslash-u-d) is stored unchanged and without a warning', () => {
    const b = normalizeBatch('events', parse([{ name: '😀', distinct_id: 'a\u0000b', properties: { path: 'C:\\udata' } }]), ctx);
    expect(b.rows[0]!.name).toBe('😀');
    expect(b.rows[0]!.distinct_id).toBe('a\u0000b');
    expect(JSON.parse(b.rows[0]!.properties)).toEqual({ path: 'C:\\udata' });
    expect(b.warnings).toEqual([]);
  });
});

describe('negative counters and durations (issue 11 item 10)', () => {
  test('a negative counter, a negative duration metric, and a negative duration property are refused naming the field', () => {
    expect(normalizeMetric({ name: 'http_requests_total', type: 'counter', value: -1 }, ctx)).toEqual({
      ok: false,
      reason: expect.stringContaining('value: a counter cannot be negative'),
    });
    expect(normalizeMetric({ name: 'http_request_duration_ms', type: 'histogram', value: -5 }, ctx)).toEqual({
      ok: false,
      reason: expect.stringContaining('is a duration'),
    });
    expect(normalizeMetric({ name: 'db_query_seconds', type: 'histogram', value: -0.1 }, ctx)).toMatchObject({ ok: false });
    expect(normalizeMetric({ name: 'probe_latency_ms', value: -3 }, ctx)).toMatchObject({ ok: false });
    expect(normalizeEvent({ name: 'session.end', properties: { duration_ms: -10 } }, ctx)).toEqual({
      ok: false,
      reason: 'properties.duration_ms: a duration cannot be negative (got -10)',
    });
    expect(normalizeEvent({ name: 'message.ai', properties: { response_time: -1 } }, ctx)).toMatchObject({ ok: false });
  });

  test('values that may be negative stay accepted', () => {
    expect(normalizeMetric({ name: 'temperature_celsius', value: -3 }, ctx)).toMatchObject({ ok: true });
    expect(normalizeMetric({ name: 'node_timex_offset_seconds', value: -0.002 }, ctx)).toMatchObject({ ok: true }); // a gauge: offsets can be negative
    expect(normalizeMetric({ name: 'balance_delta', type: 'histogram', value: -7 }, ctx)).toMatchObject({ ok: true });
    expect(normalizeMetric({ name: 'http_requests_total', type: 'counter', value: 0 }, ctx)).toMatchObject({ ok: true });
    expect(normalizeEvent({ name: 'refund', properties: { amount: -10, duration_ms: 0 } }, ctx)).toMatchObject({ ok: true });
  });
});
