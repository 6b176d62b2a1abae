import { serialize } from 'pg-protocol';
import { EngineLock, type EngineHolder } from '../src/engine';
import { backend, FrameReader, frontend, MSG, parseStartup, ProtocolViolation, scanOutput, spliceMessage, statementNameRange } from '../src/protocol';

describe('FrameReader', () => {
  test('reassembles typed messages split across chunks and keeps several per chunk apart', () => {
    const bytes = Buffer.concat([
      serialize.parse({ name: 's1', text: 'SELECT $1::int' }),
      serialize.bind({ statement: 's1', values: ['1'] }),
      serialize.sync(),
    ]);
    const r = new FrameReader(1024);
    const got: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 3) {
      r.push(bytes.subarray(i, i + 3));
      let m: Buffer | undefined;
      while ((m = r.nextTyped()) !== undefined) got.push(Buffer.from(m));
    }
    expect(got.map((m) => String.fromCharCode(m[0] as number))).toEqual(['P', 'B', 'S']);
    expect(Buffer.concat(got).equals(bytes)).toBe(true);
    expect(r.buffered).toBe(0);
  });

  test('rejects lengths that cannot be valid', () => {
    const r = new FrameReader(100);
    r.push(Buffer.from([0x51, 0, 0, 1, 0]));
    expect(() => r.nextTyped()).toThrow(ProtocolViolation);
    const s = new FrameReader(100);
    s.push(Buffer.from([0, 0, 0, 2, 0, 0, 0, 0]));
    expect(() => s.nextUntyped()).toThrow(ProtocolViolation);
  });

  test('reads a startup packet and its parameters', () => {
    const r = new FrameReader(100);
    r.push(frontend.startup({ user: 'postgres', database: 'postgres', application_name: 'x' }));
    const packet = r.nextUntyped();
    expect(packet).toBeDefined();
    expect(parseStartup(packet as Buffer)).toEqual({ major: 3, minor: 0, params: { user: 'postgres', database: 'postgres', application_name: 'x' } });
  });
});

describe('statement names', () => {
  const nameOf = (m: Buffer): string | undefined => {
    const range = statementNameRange(m);
    return range && m.toString('utf8', range[0], range[1]);
  };

  test('are found in Parse, Bind, Describe S and Close S, not in portal messages', () => {
    expect(nameOf(serialize.parse({ name: 'q1', text: 'SELECT 1' }))).toBe('q1');
    expect(nameOf(serialize.parse({ text: 'SELECT 1' }))).toBe('');
    expect(nameOf(serialize.bind({ portal: 'p', statement: 'q1', values: [] }))).toBe('q1');
    expect(nameOf(serialize.describe({ type: 'S', name: 'q1' }))).toBe('q1');
    expect(nameOf(serialize.close({ type: 'S', name: 'q1' }))).toBe('q1');
    expect(nameOf(serialize.describe({ type: 'P', name: 'p' }))).toBeUndefined();
    expect(nameOf(serialize.execute({ portal: 'p' }))).toBeUndefined();
    expect(nameOf(serialize.query('SELECT 1'))).toBeUndefined();
  });

  test('are replaced with the length field fixed', () => {
    const m = serialize.bind({ portal: '', statement: 'q1', values: ['abc'] });
    const range = statementNameRange(m) as [number, number];
    const out = spliceMessage(m, range[0], range[1], Buffer.from('tm7_q1'));
    expect(out.readInt32BE(1)).toBe(out.length - 1);
    expect(nameOf(out)).toBe('tm7_q1');
    expect(out.subarray(range[1] + 4).equals(m.subarray(range[1]))).toBe(true);
  });
});

describe('scanOutput', () => {
  test('ReadyForQuery, possibly followed by asynchronous messages, is a boundary', () => {
    const out = Buffer.concat([backend.readyForQuery('T'), backend.parameterStatus('TimeZone', 'UTC')]);
    expect(scanOutput(out)).toEqual({ atBoundary: true, txStatus: 'T', lastType: MSG.ReadyForQuery });
  });

  test('output that stops mid-batch is not a boundary', () => {
    const parseComplete = Buffer.from([0x31, 0, 0, 0, 4]);
    expect(scanOutput(Buffer.concat([backend.readyForQuery('I'), parseComplete]))).toMatchObject({ atBoundary: false, txStatus: 'I' });
    expect(scanOutput(backend.error('ERROR', '42601', 'syntax error'))).toMatchObject({ atBoundary: false, txStatus: undefined });
  });

  test('empty output changes nothing', () => {
    expect(scanOutput(Buffer.alloc(0))).toEqual({ atBoundary: undefined, txStatus: undefined, lastType: 0 });
  });
});

describe('EngineLock', () => {
  const holder = (): EngineHolder & { contended: number } => {
    const h = { contended: 0, onContention: () => void h.contended++ };
    return h;
  };

  test('grants in arrival order and tells the holder when others wait', async () => {
    const lock = new EngineLock();
    const [a, b, c] = [holder(), holder(), holder()];
    const order: string[] = [];
    await lock.acquire(a);
    const pb = lock.acquire(b).then(() => order.push('b'));
    const pc = lock.acquire(c).then(() => order.push('c'));
    expect(a.contended).toBe(2);
    expect(lock.waiting).toBe(2);
    lock.release(a);
    await pb;
    expect(lock.heldBy).toBe(b);
    expect(b.contended).toBe(1); // c is already waiting behind b
    lock.release(b);
    await pc;
    lock.release(c);
    expect(order).toEqual(['b', 'c']);
    expect(lock.heldBy).toBeUndefined();
  });

  test('refuses a release by a non-holder', async () => {
    const lock = new EngineLock();
    await lock.acquire(holder());
    expect(() => lock.release(holder())).toThrow(/does not hold/);
  });
});
