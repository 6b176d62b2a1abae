import { decide } from '../src/engine/decide';
import { ERROR_FINGERPRINT, NODATA_FINGERPRINT, type RuleRow } from '../src/engine/evaluate';
import { evaluationPhase, nextSlot } from '../src/engine/schedule';
import { retire, step } from '../src/engine/state-machine';
import { ruleSchema, type RuleInput } from '../src/rules/schema';
import type { Instance, Observation } from '../src/state/types';
import { InternalError } from '@tidemark/core';

const obs = (active: boolean, severity: 'INFO' | 'WARNING' | 'CRITICAL' = 'WARNING', value = 1): Observation => ({
  fingerprint: 'f',
  kind: 'alert',
  labels: { host: 'a' },
  annotations: { s: String(value) },
  active,
  severity,
  value,
});

/** Runs observations at the given seconds; returns the states and notifications seen. */
function run(seq: [number, Observation | undefined][], timing = { forMs: 0, keepFiringForMs: 0 }): string[] {
  let inst: Instance | undefined;
  const out: string[] = [];
  for (const [s, o] of seq) {
    const r = step(inst, o, timing, s * 1000);
    if (!r) continue;
    inst = r.next;
    out.push(`${s}:${r.next.state}${r.notify ? `!${r.notify.stateKey}` : ''}`);
  }
  return out;
}

describe('state machine', () => {
  test('for: pending until the period has passed, cancelled by a false evaluation', () => {
    expect(
      run(
        [
          [0, obs(true)],
          [10, obs(true)],
          [20, obs(false)],
          [30, obs(true)],
          [60, obs(true)],
        ],
        { forMs: 30_000, keepFiringForMs: 0 },
      ),
    ).toEqual(['0:pending', '10:pending', '20:inactive', '30:pending', '60:firing!firing:WARNING']);
  });

  test('a vanished row counts as false; resolve notifies once', () => {
    expect(
      run([
        [0, obs(true)],
        [10, undefined],
        [20, undefined],
      ]),
    ).toEqual(['0:firing!firing:WARNING', '10:resolved!resolved']);
  });

  test('keep_firing_for counts from the first false evaluation', () => {
    const t = { forMs: 0, keepFiringForMs: 30_000 };
    expect(
      run(
        [
          [0, obs(true)],
          [10, obs(false)],
          [20, obs(true)],
          [30, obs(false)],
          [50, obs(false)],
          [60, obs(false)],
        ],
        t,
      ),
    ).toEqual(['0:firing!firing:WARNING', '10:recovering', '20:firing', '30:recovering', '50:recovering', '60:resolved!resolved']);
  });

  test('severity: every change while firing notifies (escalation, de-escalation) with a distinct key; a new episode starts over', () => {
    expect(
      run([
        [0, obs(true, 'WARNING')],
        [10, obs(true, 'CRITICAL')],
        [15, obs(true, 'CRITICAL')],
        [20, obs(true, 'WARNING')],
        [30, obs(true, 'CRITICAL')],
        [40, obs(false)],
        [50, obs(true, 'CRITICAL')],
      ]),
    ).toEqual([
      '0:firing!firing:WARNING',
      '10:firing!firing:CRITICAL',
      '15:firing',
      '20:firing!firing:WARNING@20000',
      '30:firing!firing:CRITICAL@30000',
      '40:resolved!resolved',
      '50:firing!firing:CRITICAL',
    ]);
  });

  test('episodes count up and acknowledgements end with the episode', () => {
    let i = step(undefined, obs(true), { forMs: 0, keepFiringForMs: 0 }, 0)?.next as Instance;
    expect(i.episode).toBe(1);
    i = { ...i, acknowledgedAt: 5, acknowledgedBy: 'me', ackComment: 'x' };
    const stillFiring = step(i, obs(true), { forMs: 0, keepFiringForMs: 0 }, 10)?.next as Instance;
    expect(stillFiring.acknowledgedBy).toBe('me');
    const resolved = step(stillFiring, obs(false), { forMs: 0, keepFiringForMs: 0 }, 20)?.next as Instance;
    expect([resolved.state, resolved.acknowledgedAt, resolved.resolvedAt]).toEqual(['resolved', null, 20]);
    const again = step(resolved, obs(true), { forMs: 0, keepFiringForMs: 0 }, 30)?.next as Instance;
    expect([again.episode, again.activeSince, again.resolvedAt]).toEqual([2, 30, null]);
  });

  test('retire: firing resolves with a notification, pending goes inactive silently', () => {
    const firing = step(undefined, obs(true), { forMs: 0, keepFiringForMs: 0 }, 0)?.next as Instance;
    expect(retire(firing, 5)?.notify?.status).toBe('resolved');
    const pending = step(undefined, obs(true), { forMs: 10_000, keepFiringForMs: 0 }, 0)?.next as Instance;
    expect([retire(pending, 5)?.next.state, retire(pending, 5)?.notify]).toEqual(['inactive', undefined]);
  });
});

describe('decide: NoData and Error', () => {
  const rule = (extra: Partial<RuleInput> = {}) => ruleSchema.parse({ name: 'R', sql: 'SELECT 1 AS value', condition: { op: '>', threshold: 0 }, ...extra });
  const row = (host: string, value: number): RuleRow => ({ fingerprint: host, labels: { host }, value, columns: {} });

  test('an error fires the Error instance after error.for and leaves the alert instances alone', () => {
    const r = rule({ error: { for: '20s' } });
    const prev = new Map<string, Instance>();
    for (const res of decide(r, prev, { ok: true, rows: [row('a', 5)] }, 0)) prev.set(res.next.fingerprint, res.next);
    const err = { ok: false as const, error: new InternalError('boom') };
    const states = (t: number): string[] => {
      const out = decide(r, prev, err, t);
      for (const res of out) prev.set(res.next.fingerprint, res.next);
      return [...prev.values()].map((i) => `${i.kind}:${i.state}`).sort();
    };
    expect(states(10_000)).toEqual(['alert:firing', 'error:pending']);
    expect(states(30_000)).toEqual(['alert:firing', 'error:firing']);
    expect(prev.get(ERROR_FINGERPRINT)?.annotations.error).toBe('boom');
    const back = decide(r, prev, { ok: true, rows: [row('a', 5)] }, 40_000);
    expect(back.find((x) => x.next.kind === 'error')?.notify?.status).toBe('resolved');
  });

  test('no_data: nodata fires NoData (instances kept), ok resolves, keep_last changes nothing', () => {
    const prevWith = (r: ReturnType<typeof rule>) => {
      const m = new Map<string, Instance>();
      for (const res of decide(r, m, { ok: true, rows: [row('a', 5)] }, 0)) m.set(res.next.fingerprint, res.next);
      return m;
    };
    const nodata = rule();
    const a = decide(nodata, prevWith(nodata), { ok: true, rows: [] }, 10_000);
    expect(a.map((x) => `${x.next.fingerprint === NODATA_FINGERPRINT ? 'nodata' : x.next.fingerprint}:${x.next.state}`)).toEqual(['nodata:firing']);
    const ok = rule({ no_data: { state: 'ok' } });
    expect(decide(ok, prevWith(ok), { ok: true, rows: [] }, 10_000).map((x) => `${x.next.fingerprint}:${x.next.state}`)).toEqual(['a:resolved']);
    const keep = rule({ no_data: { state: 'keep_last' } });
    expect(decide(keep, prevWith(keep), { ok: true, rows: [] }, 10_000)).toEqual([]);
  });
});

describe('schedule', () => {
  test('slots keep a fixed cadence; phases spread rules over the interval', () => {
    expect(nextSlot(10_000, 10_000, 0, true)).toBe(10_000);
    expect(nextSlot(10_000, 10_000, 0, false)).toBe(20_000);
    expect(nextSlot(13_500, 10_000, 2_000, false)).toBe(22_000);
    expect(nextSlot(12_000, 10_000, 2_000, true)).toBe(12_000);
    expect(evaluationPhase('p', 'R', 60_000, false)).toBe(0);
    const phases = Array.from({ length: 200 }, (_, i) => evaluationPhase('p', `Rule${i}`, 60_000, true));
    expect(phases.every((x) => x >= 0 && x < 60_000)).toBe(true);
    // Spread: no one-second slot holds more than a small share of the rules.
    const perSecond = new Map<number, number>();
    for (const x of phases) perSecond.set(Math.floor(x / 1000), (perSecond.get(Math.floor(x / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThan(15);
  });
});
