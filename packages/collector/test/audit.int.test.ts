/**
 * The acknowledgement audit (issue 12): rows acknowledged per project and
 * minute against what landed, with the real embedded ClickHouse. It reads 0
 * lost when everything landed and the true difference when a sink
 * deliberately acknowledges a batch it never wrote. Every run is recorded in
 * ingest_audit_v1, and the built-in rule IngestAcknowledgedRowsLost,
 * evaluated the way the alerting engine does (backtest: the rule SQL through
 * the tenant read path as the read-only user, then decide/step), fires on
 * the loss for this project only.
 */
import crypto from 'node:crypto';
import { backtest, builtinRuleFile } from '@tidemark/alerting';
import { ClickHouse, createMetricsRegistry, MemoryStore } from '@tidemark/core';
import { ClickHouseSink, IngestAudit, type Sink } from '../src';
import { bearer, logger, post, startCollector, startStack, type RunningCollector, type Stack } from './harness';

let stack: Stack;
let collector: RunningCollector;
let real: ClickHouseSink;
let audit: IngestAudit;
const metrics = createMetricsRegistry();
/** Acknowledges events named "dropped" without writing them: the loss the audit must see. */
const lying: Sink = {
  kind: 'clickhouse',
  write: (signal, rows, lines, warnings) =>
    (rows as { name?: string }[])[0]?.name === 'dropped' ? Promise.resolve() : real.write(signal, rows, lines, warnings),
  close: () => real.close(),
};

beforeAll(async () => {
  stack = await startStack();
  real = new ClickHouseSink(stack.ch, logger, { maxRows: 50_000, maxDelayMs: 10, maxPendingRows: 500_000, maxConcurrentFlushes: 2 });
  const kv = new MemoryStore();
  audit = new IngestAudit(kv, stack.ch, { graceMs: 0, horizonMs: 10 * 60_000, projects: async () => [stack.project], logger, metrics });
  collector = await startCollector(stack, lying, {}, kv, undefined, { audit });
}, 120_000);

afterAll(async () => {
  await collector?.close();
  await real?.close();
  await stack?.close();
});

test('everything acknowledged landed: 0 lost on every signal; a batch acknowledged but never written: exactly its rows are lost, in its minute', async () => {
  // Timestamps in a finished minute, so a grace of 0 compares it.
  const minuteStart = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60_000;
  const at = minuteStart + 30_000;
  const events = Array.from({ length: 250 }, (_, i) => ({ event_id: crypto.randomUUID(), name: 'audited', distinct_id: `u${i}`, timestamp: at }));
  const h = bearer(stack.keys.ingest);
  expect((await post(`${collector.url}/v1/events`, JSON.stringify(events), h)).status).toBe(200);
  expect(
    (await post(`${collector.url}/v1/metrics`, JSON.stringify(Array.from({ length: 12 }, (_, i) => ({ name: 'audited_gauge', value: i, timestamp: at }))), h))
      .status,
  ).toBe(200);
  expect(
    (await post(`${collector.url}/v1/logs`, JSON.stringify(Array.from({ length: 7 }, () => ({ level: 'INFO', service: 's', message: 'm', timestamp: at }))), h))
      .status,
  ).toBe(200);

  const cleanAt = Date.now();
  const [clean] = await audit.run(cleanAt);
  expect(clean!.signals.events).toMatchObject({ acknowledged: 250, landed: 250, lost: 0, unacknowledged: 0 });
  expect(clean!.signals.metrics).toMatchObject({ acknowledged: 12, landed: 12, lost: 0 });
  expect(clean!.signals.logs).toMatchObject({ acknowledged: 7, landed: 7, lost: 0 });
  expect(await metrics.getSingleMetricAsString('tidemark_ingest_audit_lost_rows')).toMatch(new RegExp(`project="${stack.project}",signal="events"} 0`));

  const dropped = Array.from({ length: 37 }, () => ({ event_id: crypto.randomUUID(), name: 'dropped', timestamp: at }));
  expect((await post(`${collector.url}/v1/events`, JSON.stringify(dropped), h)).status).toBe(200);
  const lossyAt = Math.max(Date.now(), cleanAt + 1);
  const [lossy] = await audit.run(lossyAt);
  const minute = new Date(minuteStart).toISOString().slice(0, 16).replace('T', ' ');
  expect(lossy!.signals.events).toMatchObject({ acknowledged: 287, landed: 250, lost: 37, minutes: [{ minute, acknowledged: 287, landed: 250 }] });
  expect(await metrics.getSingleMetricAsString('tidemark_ingest_audit_lost_rows')).toMatch(new RegExp(`project="${stack.project}",signal="events"} 37`));
  // The status any key can read carries the same figures.
  const status = await fetch(`${collector.url}/v1/status`, { headers: h }).then(
    (r) => r.json() as Promise<{ audit: { signals: { events: { lost: number } } } }>,
  );
  expect(status.audit.signals.events.lost).toBe(37);

  // Each run wrote one row per signal into ClickHouse: the alert rules' input.
  const recorded = await stack.rows<Record<string, unknown>>(
    `SELECT signal, toUnixTimestamp64Milli(checked_at) AS at, acknowledged, landed, lost, unacknowledged, differing_minutes, grace_seconds
       FROM ingest_audit_v1 WHERE project_id = {p:String} ORDER BY at, signal`,
    { p: stack.project },
  );
  expect(recorded.map((r) => [r.signal, Number(r.at), Number(r.acknowledged), Number(r.landed), Number(r.lost), Number(r.differing_minutes)])).toEqual([
    ['events', cleanAt, 250, 250, 0, 0],
    ['logs', cleanAt, 7, 7, 0, 0],
    ['metrics', cleanAt, 12, 12, 0, 0],
    ['events', lossyAt, 287, 250, 37, 1],
    ['logs', lossyAt, 7, 7, 0, 0],
    ['metrics', lossyAt, 12, 12, 0, 0],
  ]);

  // The built-in rule: clear at the clean run, CRITICAL on events at the lossy one; another project sees nothing.
  const ro = new ClickHouse({ url: stack.server.url, ...stack.server.auth(true), database: stack.database });
  try {
    const evaluate = async (project: string) => {
      const spec = builtinRuleFile('IngestAcknowledgedRowsLost', project).rules[0]!.spec;
      return backtest(ro, spec, project, { from: cleanAt, to: lossyAt, stepMs: lossyAt - cleanAt, queryTimeoutCapMs: 10_000, maxRows: 100 });
    };
    const mine = await evaluate(stack.project);
    expect(mine.errors).toEqual([]);
    expect(mine.episodes.map((e) => [e.labels.signal, e.firedAt, e.peakSeverity])).toEqual([['events', new Date(lossyAt).toISOString(), 'CRITICAL']]);
    expect(mine.transitions.filter((t) => t.to === 'firing').map((t) => t.value)).toEqual([37]);
    expect((await evaluate('someone-else')).episodes).toEqual([]);
  } finally {
    await ro.close();
  }
}, 60_000);
