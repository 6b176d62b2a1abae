import { TidemarkSdkError, labelsKey } from '../src';
import { MetricRegistry, type Sample } from '../src/metrics/registry';

function registry(maxSeries = 100) {
  const samples: Sample[] = [];
  const errors: TidemarkSdkError[] = [];
  const keys: string[] = [];
  const r = new MetricRegistry(
    (json, name, key) => {
      samples.push(JSON.parse(json) as Sample);
      keys.push(`${name}:${key}`);
    },
    (e) => errors.push(e),
    { defaultLabels: { service: 'api' }, maxSeries },
  );
  return { r, samples, errors, keys };
}

test('counters keep running totals per label set and are sent as a snapshot', () => {
  const { r, samples, errors } = registry();
  const c = r.counter('orders_total');
  c.inc();
  c.inc(2);
  c.inc({ channel: 'web' });
  c.inc({ channel: 'web' }, 4);
  expect(samples).toEqual([]);
  r.snapshot(1000);
  expect(samples).toEqual([
    { name: 'orders_total', type: 'counter', value: 3, labels: { service: 'api' }, timestamp: 1000 },
    { name: 'orders_total', type: 'counter', value: 5, labels: { service: 'api', channel: 'web' }, timestamp: 1000 },
  ]);
  // The next snapshot sends the totals again (like a scrape), not the increments.
  c.inc({ channel: 'web' });
  samples.length = 0;
  r.snapshot(2000);
  expect(samples.map((s) => s.value)).toEqual([3, 6]);
  expect(errors).toEqual([]);
});

test('gauges keep their last value; histograms send every observation', () => {
  const { r, samples } = registry();
  const g = r.gauge('queue_depth');
  g.set(5);
  g.inc(2);
  g.dec({ q: 'b' }, 3);
  const h = r.histogram('latency_ms');
  h.observe(12.5);
  h.observe({ route: '/x' }, 40);
  const stop = h.startTimer({ route: '/y' });
  const ms = stop({ status: '200' });
  expect(ms).toBeGreaterThanOrEqual(0);
  expect(samples.map((s) => [s.name, s.type, s.value, s.labels])).toEqual([
    ['latency_ms', 'histogram', 12.5, { service: 'api' }],
    ['latency_ms', 'histogram', 40, { service: 'api', route: '/x' }],
    ['latency_ms', 'histogram', ms, { service: 'api', route: '/y', status: '200' }],
  ]);
  samples.length = 0;
  r.snapshot(1);
  expect(samples.map((s) => [s.name, s.value, s.labels])).toEqual([
    ['queue_depth', 7, { service: 'api' }],
    ['queue_depth', -3, { service: 'api', q: 'b' }],
  ]);
});

test('bad names, labels, values and type clashes are reported, never thrown', () => {
  const { r, samples, errors } = registry();
  expect(() => {
    r.counter('bad name').inc();
    r.counter('ok_total').inc(-1);
    r.counter('ok_total').inc(Number.NaN);
    r.counter('ok_total').inc({ 'bad label': 1 });
    r.counter('ok_total').inc({ obj: {} as unknown as string });
    r.gauge('ok_total').set(1);
    r.histogram('h').observe(Number.POSITIVE_INFINITY);
    r.sample('s', Number.NaN);
  }).not.toThrow();
  expect(errors.every((e) => e.code === 'INVALID_INPUT')).toBe(true);
  expect(errors.map((e) => e.message)).toEqual([
    expect.stringContaining('not Prometheus style'),
    expect.stringContaining('only go up'),
    expect.stringContaining('only go up'),
    expect.stringContaining('label name'),
    expect.stringContaining('must be a string, number or boolean'),
    expect.stringContaining('already a counter'),
    expect.stringContaining('not a finite number'),
    expect.stringContaining('not a finite number'),
  ]);
  expect(samples).toEqual([]);
});

test('the series limit protects memory from unbounded label values, reported once', () => {
  const { r, samples, errors } = registry(3);
  const c = r.counter('by_user_total');
  for (let i = 0; i < 10; i++) c.inc({ user: `u${i}` });
  r.snapshot(1);
  expect(samples).toHaveLength(3);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.message).toContain('series limit of 3');
});

test('label sets seen before skip validation but keep their identity, whatever the key order', () => {
  const { r, samples, keys } = registry();
  const c = r.counter('req_total');
  c.inc({ a: '1', b: 'x' });
  c.inc({ b: 'x', a: 1 });
  c.inc({ a: '1', b: 'x' });
  r.snapshot(5);
  expect(samples).toEqual([{ name: 'req_total', type: 'counter', value: 3, labels: { service: 'api', a: '1', b: 'x' }, timestamp: 5 }]);
  expect(keys).toEqual(['req_total:a="1",b="x",service="api"']);
  // Length-prefixed raw forms: values with separators in them cannot collide.
  const g = r.gauge('g');
  g.set({ a: 'x1:b' }, 1);
  g.set({ a: 'x', b: '' }, 2);
  samples.length = 0;
  r.snapshot(6);
  expect(samples.filter((s) => s.name === 'g').map((s) => [s.labels, s.value])).toEqual([
    [{ service: 'api', a: 'x1:b' }, 1],
    [{ service: 'api', a: 'x', b: '' }, 2],
  ]);
});

test("labelsKey is the collector's series identity", () => {
  expect(labelsKey({ b: '2', a: 'x"y' })).toBe('a="x\\"y",b="2"');
  expect(labelsKey({})).toBe('');
});
