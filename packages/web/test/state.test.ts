/**
 * The dashboard's URL state and formatting: what a shared link means must
 * not drift, and a hand-edited link must never turn into a bad request.
 */
import { captureKeyFromHash } from '../src/auth';
import { durationMs, previewSeries } from '../src/alerts-model';
import { explorerRequest, explorerState, filterParam, parseFilter, toApiFilter } from '../src/explorer';
import { changePct, fmtCompact, fmtInt, fmtMs, fmtPct } from '../src/format';
import { hrefOf, parseHash, toParams, withParams } from '../src/router';
import fs from 'node:fs';
import path from 'node:path';
import { STAT_DEFINITIONS } from '../src/definitions';

describe('routes', () => {
  test('pages and their parameters come from the fragment', () => {
    const r = parseHash('#/events?measure=p95&field=response_time&f=channel:is:web&f=name:is:a:b');
    expect(r.page).toBe('events');
    expect(r.params.getAll('f')).toEqual(['channel:is:web', 'name:is:a:b']);
    expect(parseHash('').page).toBe('overview');
    expect(parseHash('#/').page).toBe('overview');
    expect(parseHash('#/nope')).toMatchObject({ page: 'not-found', path: 'nope' });
  });

  test('links are built from values; empty and false values are left out', () => {
    expect(hrefOf('events', { f: ['name:is:x'], compare: true, by: '', range: null })).toBe('#/events?f=name%3Ais%3Ax&compare=1');
    expect(toParams({ a: 1, b: false }).toString()).toBe('a=1');
    const next = withParams(new URLSearchParams('by=name&range=7d'), { by: null, f: ['a:is:1', 'b:is:2'] });
    expect(next.toString()).toBe('range=7d&f=a%3Ais%3A1&f=b%3Ais%3A2');
  });

  test('the key is taken out of the fragment, whatever else it holds', () => {
    expect(captureKeyFromHash('#key=tm_read_abc')).toEqual({ key: 'tm_read_abc', hash: '#/overview' });
    expect(captureKeyFromHash('#key=tm_read_abc&page=alerts')).toEqual({ key: 'tm_read_abc', hash: '#/alerts' });
    expect(captureKeyFromHash('#/alerts?tab=rules&key=tm_read_abc')).toEqual({ key: 'tm_read_abc', hash: '#/alerts?tab=rules' });
    expect(captureKeyFromHash('#/alerts?tab=rules')).toEqual({ key: null, hash: '#/alerts?tab=rules' });
  });
});

describe('events explorer state', () => {
  test('filters keep colons in values and refuse unknown fields and operators', () => {
    expect(parseFilter('name:is:a:b')).toEqual({ field: 'name', op: 'is', value: 'a:b' });
    expect(parseFilter('properties.plan:in:pro,free')).toEqual({ field: 'properties.plan', op: 'in', value: 'pro,free' });
    expect(parseFilter('evil;drop:is:x')).toBeNull();
    expect(parseFilter('name:like:x')).toBeNull();
    expect(parseFilter('name')).toBeNull();
    expect(filterParam({ field: 'os', op: 'is_not', value: 'iOS' })).toBe('os:is_not:iOS');
  });

  test('filters become the API filter: numbers for comparisons, lists for in, and-ed', () => {
    expect(toApiFilter([])).toBeUndefined();
    expect(toApiFilter([{ field: 'properties.amount', op: 'gte', value: '10.5' }])).toEqual({ field: 'properties.amount', op: 'gte', value: 10.5 });
    expect(
      toApiFilter([
        { field: 'name', op: 'is', value: 'a' },
        { field: 'channel', op: 'in', value: 'web, ios' },
      ]),
    ).toEqual({
      and: [
        { field: 'name', op: 'is', value: 'a' },
        { field: 'channel', op: 'in', value: ['web', 'ios'] },
      ],
    });
  });

  test('a hand-edited URL falls back to defaults instead of making a bad request', () => {
    const s = explorerState(new URLSearchParams('measure=drop&range=99y&interval=2s&by=nope()&f=bad&compare=yes'));
    expect(s).toEqual({ measure: 'count', field: '', by: '', filters: [], range: '24h', interval: 'auto', compare: false });
  });

  test('the request carries the measure, breakdown, filters, range and comparison', () => {
    const s = explorerState(new URLSearchParams('measure=p95&field=response_time&by=channel&f=name:is:message.ai&range=7d&interval=1h&compare=1'));
    expect(explorerRequest(s)).toEqual({
      measures: [{ type: 'p95', field: 'response_time', alias: 'value' }],
      dimensions: ['channel'],
      filter: { field: 'name', op: 'is', value: 'message.ai' },
      range: { last: '7d' },
      interval: '1h',
      timezone: expect.any(String),
      compare: 'previous_period',
      limit: 20,
    });
    // A measure over a property without the property: nothing to ask (the page explains).
    expect(explorerRequest(explorerState(new URLSearchParams('measure=avg')))).toBeNull();
  });
});

describe('alert rule preview', () => {
  test('rule durations as stored', () => {
    expect(durationMs('15s')).toBe(15_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs(60_000)).toBe(60_000);
    expect(durationMs('soon')).toBeNull();
  });

  test('transitions become a state per evaluation and instance', () => {
    // Typed as the API's answer (generated from /openapi.json), so the fixture cannot drift from it.
    const r: Parameters<typeof previewSeries>[0] = {
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-01-01T00:04:00.000Z',
      stepMs: 60_000,
      evaluations: 5,
      transitions: [
        {
          at: '2026-01-01T00:01:00.000Z',
          fingerprint: 'a',
          kind: 'alert',
          labels: { alertname: 'R', severity: 'CRITICAL', team: 'x', service: 'pay' },
          from: 'inactive',
          to: 'pending',
          value: 7,
          severity: 'CRITICAL',
        },
        {
          at: '2026-01-01T00:02:00.000Z',
          fingerprint: 'a',
          kind: 'alert',
          labels: { alertname: 'R', severity: 'CRITICAL', team: 'x', service: 'pay' },
          from: 'pending',
          to: 'firing',
          value: 8,
          severity: 'CRITICAL',
        },
        {
          at: '2026-01-01T00:04:00.000Z',
          fingerprint: 'a',
          kind: 'alert',
          labels: { alertname: 'R', severity: 'CRITICAL', team: 'x', service: 'pay' },
          from: 'firing',
          to: 'resolved',
          value: 1,
          severity: 'CRITICAL',
        },
      ],
      episodes: [],
      errors: [],
      warnings: [],
    };
    const { xs, series } = previewSeries(r, { team: 'x' });
    expect(xs).toHaveLength(5);
    expect(series).toEqual([{ label: 'service=pay', values: [0, 1, 2, 2, 0] }]);
  });
});

describe('formatting', () => {
  test('figures as the page shows them', () => {
    expect(fmtInt(1234567.4)).toBe('1,234,567');
    expect(fmtInt(null)).toBe('—');
    expect(fmtPct(12.345)).toBe('12.3%');
    expect(fmtMs(812)).toBe('812 ms');
    expect(fmtMs(1240)).toBe('1.24 s');
    expect(fmtCompact(11_766_123.45)).toBe('11.77M');
    expect(changePct(110, 100)).toBeCloseTo(10);
    expect(changePct(5, 0)).toBeNull();
  });
});

test('every figure on every page has a one-line definition (shown on hover)', () => {
  const dir = path.join(__dirname, '../src/pages');
  const ids = new Set<string>();
  for (const f of fs.readdirSync(dir)) for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/\bstat\(\s*'([a-z0-9_.]+)'/g)) ids.add(m[1]!);
  expect(ids.size).toBeGreaterThan(20);
  expect([...ids].filter((id) => !STAT_DEFINITIONS[id])).toEqual([]);
});
