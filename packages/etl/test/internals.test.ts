import { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { copyBlocks, prefetch } from '../src/source/copy';
import { compareLsn, decimalToLsn, lsnToDecimal } from '../src/source/lsn';
import { PgoutputDecoder, UNCHANGED_TOAST } from '../src/source/pgoutput';
import { SettingParams } from '../src/sql/bind';
import { chIdent, pgIdent, pgLiteral } from '../src/sql/quote';
import { compareDecimal, compareKeys, splitTsvLine, unescapeField } from '../src/sync/keys';
import { lockKey, LOCK_CLASS } from '../src/sync/lock';
import { microsToText } from '../src/sync/cdc';
import { dedupToken } from '../src/target/land';
import { Progress, progressPrinter, type ProgressEvent } from '../src/progress/progress';

describe('key ordering (both engines sort keys the same way; the merge relies on it)', () => {
  test('ints as integers, decimals by value, text by UTF-8 bytes', () => {
    expect(compareKeys(['int'], ['9'], ['10'])).toBe(-1);
    expect(compareKeys(['int'], ['-9223372036854775808'], ['9223372036854775807'])).toBe(-1);
    expect(compareKeys(['int', 'text'], ['1', 'b'], ['1', 'a'])).toBe(1);
    expect(compareKeys(['decimal'], ['12.50'], ['12.5'])).toBe(0);
    expect(compareKeys(['decimal'], ['-2'], ['-10'])).toBe(1);
    expect(compareKeys(['decimal'], ['0.000'], ['-0'])).toBe(0);
    expect(compareDecimal('100', '99.999')).toBe(1);
    expect(compareDecimal('-0.5', '0.25')).toBe(-1);
    // JS string order differs from byte order above the BMP; Postgres COLLATE "C" and ClickHouse use bytes.
    expect(compareKeys(['text'], ['\uffff'], ['\u{1F600}'])).toBe(-1);
    expect(compareKeys(['text'], ['Z'], ['a'])).toBe(-1);
  });

  test('COPY / TabSeparated fields decode', () => {
    expect(unescapeField('a\\tb\\nc\\\\d\\re')).toBe('a\tb\nc\\d\re');
    expect(splitTsvLine('1\tx\\ty\t\\\\')).toEqual(['1', 'x\ty', '\\']);
  });
});

function fakeCopy(chunks: Buffer[]): PoolClient {
  return { query: () => Readable.from(chunks) } as unknown as PoolClient;
}

async function collect(chunks: Buffer[], blockBytes: number, blockRows?: number) {
  const out = [];
  for await (const b of copyBlocks(fakeCopy(chunks), 'COPY', { blockBytes, ...(blockRows ? { blockRows } : {}) })) out.push(b);
  return out;
}

describe('COPY blocks', () => {
  const rows = Array.from({ length: 200 }, (_, i) => `${i}\t${'x'.repeat(i % 37)}\n`);
  rows[50] = `50\t${'y'.repeat(5000)}\n`;
  const all = Buffer.from(rows.join(''));

  test('block boundaries depend only on the rows, never on how the stream was cut', async () => {
    const whole = await collect([all], 1024);
    for (const size of [1, 7, 100, 333, 4096]) {
      const parts: Buffer[] = [];
      for (let i = 0; i < all.length; i += size) parts.push(all.subarray(i, i + size));
      const cut = await collect(parts, 1024);
      expect(cut.map((b) => b.data.toString())).toEqual(whole.map((b) => b.data.toString()));
    }
    expect(Buffer.concat(whole.map((b) => b.data)).equals(all)).toBe(true);
    expect(whole.reduce((n, b) => n + b.rows, 0)).toBe(200);
    // Every block holds whole rows within the budget, except a single oversized row alone.
    for (const b of whole) {
      expect(b.data[b.data.length - 1]).toBe(10);
      if (b.rows > 1) expect(b.data.length).toBeLessThanOrEqual(1024);
    }
    expect(whole.some((b) => b.rows === 1 && b.data.length > 5000)).toBe(true);
  });

  test('row limits, and a stream that ends inside a row is an error', async () => {
    const blocks = await collect([all], 1 << 20, 64);
    expect(blocks.map((b) => b.rows)).toEqual([64, 64, 64, 8]);
    await expect(collect([Buffer.from('1\tok\n2\tcut')], 1024)).rejects.toThrow(/ended inside a row/);
  });

  test('prefetch keeps order and propagates errors', async () => {
    async function* gen() {
      yield 1;
      yield 2;
      throw new Error('boom');
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of prefetch(gen(), 1)) seen.push(v);
      })(),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1, 2]);
  });

  test('dedup tokens are a function of identity and bytes', () => {
    const a = dedupToken('t:g0:chunk:1:block:0', Buffer.from('1\tx\n'));
    expect(a).toBe(dedupToken('t:g0:chunk:1:block:0', Buffer.from('1\tx\n')));
    expect(a).not.toBe(dedupToken('t:g0:chunk:1:block:0', Buffer.from('1\ty\n')));
    expect(a).not.toBe(dedupToken('t:g1:chunk:1:block:0', Buffer.from('1\tx\n')));
  });
});

/** Builds pgoutput protocol-1 messages byte by byte. */
class Msg {
  private parts: Buffer[] = [];
  u8(v: number) {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  ch(c: string) {
    return this.u8(c.charCodeAt(0));
  }
  i16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }
  str(s: string) {
    this.parts.push(Buffer.from(s + '\0'));
    return this;
  }
  text(s: string) {
    this.ch('t').i32(Buffer.byteLength(s));
    return this.raw(Buffer.from(s));
  }
  raw(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  build() {
    return Buffer.concat(this.parts);
  }
}

describe('pgoutput decoding keeps values as exact text', () => {
  test('begin, relation, insert/update/delete with NULL and unchanged TOAST, truncate, message, commit', () => {
    const d = new PgoutputDecoder();
    const begin = d.decode(new Msg().ch('B').u64(0x1_0000_00a0n).u64(1_000_000n).i32(77).build());
    expect(begin).toEqual({ tag: 'begin', finalLsn: '1/000000A0', commitTime: 946_684_801_000_000n, xid: 77 });
    const rel = d.decode(
      new Msg()
        .ch('R')
        .i32(16384)
        .str('shop')
        .str('orders')
        .ch('d')
        .i16(3)
        .u8(1)
        .str('id')
        .i32(20)
        .i32(-1)
        .u8(0)
        .str('ts')
        .i32(1184)
        .i32(-1)
        .u8(0)
        .str('body')
        .i32(25)
        .i32(-1)
        .build(),
    );
    expect(rel).toMatchObject({ tag: 'relation', schema: 'shop', name: 'orders', columns: [{ name: 'id', flags: 1 }, { name: 'ts' }, { name: 'body' }] });
    const ins = d.decode(new Msg().ch('I').i32(16384).ch('N').i16(3).text('42').text('2024-01-02 03:04:05.123456+00').ch('n').build());
    expect(ins).toMatchObject({ tag: 'insert', new: { id: '42', ts: '2024-01-02 03:04:05.123456+00', body: null } });
    const upd = d.decode(new Msg().ch('U').i32(16384).ch('K').i16(3).text('41').ch('n').ch('n').ch('N').i16(3).text('42').text('t').ch('u').build());
    expect(upd).toMatchObject({ tag: 'update', key: { id: '41' }, new: { id: '42', body: UNCHANGED_TOAST } });
    const del = d.decode(new Msg().ch('D').i32(16384).ch('K').i16(3).text('42').ch('n').ch('n').build());
    expect(del).toMatchObject({ tag: 'delete', key: { id: '42' }, old: null });
    const tr = d.decode(new Msg().ch('T').i32(1).u8(1).i32(16384).build());
    expect(tr).toMatchObject({ tag: 'truncate', cascade: true, relations: [{ name: 'orders' }] });
    const m = d.decode(new Msg().ch('M').u8(1).u64(0x2an).str('tidemark_etl_heartbeat').i32(2).raw(Buffer.from('hb')).build());
    expect(m).toMatchObject({ tag: 'message', transactional: true, lsn: '0/0000002A', prefix: 'tidemark_etl_heartbeat', content: Buffer.from('hb') });
    const commit = d.decode(new Msg().ch('C').u8(0).u64(0x1_0000_00a0n).u64(0x1_0000_00f8n).u64(2_000_000n).build());
    expect(commit).toEqual({ tag: 'commit', commitLsn: '1/000000A0', endLsn: '1/000000F8', commitTime: 946_684_802_000_000n });
    expect(() => d.decode(new Msg().ch('I').i32(999).ch('N').i16(0).build())).toThrow(/before its Relation message/);
  });
});

describe('small helpers', () => {
  test('LSNs round-trip through their numeric value', () => {
    expect(lsnToDecimal('16/B374D848')).toBe('97500059720');
    expect(decimalToLsn('97500059720')).toBe('16/B374D848');
    expect(compareLsn('1/0', '0/FFFFFFFF')).toBe(1);
    expect(microsToText(946_684_801_000_001n)).toBe('2000-01-01 00:00:01.000001+00');
  });

  test('quoting', () => {
    expect(pgIdent('Order "ID"')).toBe('"Order ""ID"""');
    expect(chIdent('we`ird\\')).toBe('`we\\`ird\\\\`');
    expect(pgLiteral("it's")).toBe("'it''s'");
    expect(() => pgIdent('bad\nname')).toThrow(/control characters/);
  });

  test('values for COPY go through transaction-local settings, never into the SQL text', () => {
    const p = new SettingParams();
    const sql = `WHERE id >= ${p.ref("1'; DROP TABLE x; --", 'bigint')}`;
    expect(sql).toBe(`WHERE id >= (current_setting('tidemark.p0'))::bigint`);
    expect(sql).not.toContain('DROP');
  });

  test('advisory lock keys are stable and namespaced', () => {
    expect(lockKey('db/shop.public.orders')).toEqual(lockKey('db/shop.public.orders'));
    expect(lockKey('a')[0]).toBe(LOCK_CLASS);
    expect(lockKey('a')[1]).not.toBe(lockKey('b')[1]);
  });

  test('progress: rows, rows/s and ETA; a printer for CLIs', () => {
    const events: ProgressEvent[] = [];
    const p = new Progress(
      { table: 't', phase: 'snapshot', totalRows: 1000, chunksTotal: 4, alreadyDone: 100, chunksAlreadyDone: 1 },
      (e) => events.push(e),
      0,
    );
    p.add(300);
    p.chunkDone();
    const last = p.finish();
    expect(events[0]).toMatchObject({ rows: 400, totalRows: 1000, done: false, chunksDone: 1, chunksTotal: 4 });
    expect(events[0]?.etaSeconds === null || (events[0]?.etaSeconds ?? -1) >= 0).toBe(true);
    expect(last).toMatchObject({ rows: 400, done: true, etaSeconds: 0, chunksDone: 2 });
    let text = '';
    progressPrinter({ write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream)(last);
    expect(text).toMatch(/^t snapshot: 400 \/ ~1,000 rows \(40%\), [\d,]+ rows\/s, chunks 2\/4 — done in [\d.]+s\n$/);
  });
});
