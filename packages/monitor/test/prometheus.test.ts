import { parsePrometheusText, tidemarkType } from '../src';

const PAGE = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE go_goroutines gauge
go_goroutines 42
metric_without_timestamp_and_labels 12.47
odd_spacing { a = "1" , b="x,}y" }  7
nan_value NaN
broken{a="1" 3
# EOF
`;

test('the exposition format example and its corner cases', () => {
  const { samples, errors } = parsePrometheusText(PAGE);
  const byName = (n: string) => samples.filter((s) => s.name === n);
  expect(byName('http_requests_total')).toEqual([
    {
      name: 'http_requests_total',
      family: 'http_requests_total',
      type: 'counter',
      labels: { method: 'post', code: '200' },
      value: 1027,
      timestamp: 1395066363000,
    },
    {
      name: 'http_requests_total',
      family: 'http_requests_total',
      type: 'counter',
      labels: { method: 'post', code: '400' },
      value: 3,
      timestamp: 1395066363000,
    },
  ]);
  expect(byName('msdos_file_access_time_seconds')[0]!.labels).toEqual({ path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
  expect(byName('something_weird')[0]).toMatchObject({ value: Number.POSITIVE_INFINITY, timestamp: -3982045, type: 'untyped' });
  expect(byName('http_request_duration_seconds_bucket').map((s) => [s.family, s.type, s.labels.le, s.value])).toEqual([
    ['http_request_duration_seconds', 'histogram', '0.05', 24054],
    ['http_request_duration_seconds', 'histogram', '+Inf', 144320],
  ]);
  expect(byName('rpc_duration_seconds_sum')[0]).toMatchObject({ family: 'rpc_duration_seconds', type: 'summary', value: 1.7560473e7 });
  expect(byName('go_goroutines')[0]).toMatchObject({ type: 'gauge', value: 42, labels: {} });
  expect(byName('odd_spacing')[0]).toMatchObject({ labels: { a: '1', b: 'x,}y' }, value: 7 });
  expect(Number.isNaN(byName('nan_value')[0]!.value)).toBe(true);
  expect(errors).toEqual([{ line: PAGE.split('\n').findIndex((l) => l.startsWith('broken')) + 1, reason: expect.stringContaining("',' or '}' expected") }]);
});

test('types map onto Tidemark: running totals are counters, the rest gauges', () => {
  const { samples } = parsePrometheusText(PAGE);
  const type = (n: string) => tidemarkType(samples.find((s) => s.name === n)!);
  expect(type('http_requests_total')).toBe('counter');
  expect(type('http_request_duration_seconds_bucket')).toBe('counter');
  expect(type('http_request_duration_seconds_sum')).toBe('counter');
  expect(type('rpc_duration_seconds')).toBe('gauge');
  expect(type('rpc_duration_seconds_count')).toBe('counter');
  expect(type('go_goroutines')).toBe('gauge');
  expect(type('metric_without_timestamp_and_labels')).toBe('gauge');
});
