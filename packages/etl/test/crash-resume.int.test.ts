/**
 * Crash tests with a real worker process: it lands a block in ClickHouse
 * and is SIGKILLed before writing the checkpoint that covers it. The next
 * run resumes from the last checkpoint; the re-landed block carries the same
 * dedup token (snapshot) or collapses by version (incremental), and the
 * count-and-sum reconciliation matches exactly.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { getTableState, listChunks } from '../src/checkpoint/store';
import type { SourceConfig } from '../src/config/schema';
import { runTable, type TableRunResult } from '../src/sync/table-sync';
import type { SyncDeps } from '../src/sync/deps';
import { countAndSum, postgresUrl, sourceConfig, startHarness, tableOf, type Harness } from './support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('crash');
});

afterAll(async () => {
  await h?.close();
});

async function createOrders(name: string, rows: number): Promise<void> {
  await h.sql(
    `CREATE TABLE ${name} (order_id bigint PRIMARY KEY, status text NOT NULL, amount numeric(14,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
  );
  await h.sql(`INSERT INTO ${name} SELECT g, 'paid', g * 0.5, now() FROM generate_series(1, $1::int) g`, [rows]);
}

/** Runs the crash child until it reports LANDED, then kills it with SIGKILL. */
async function landThenKill(source: SourceConfig, table: string, crashAt: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      path.join(__dirname, 'support', 'register.js'),
      path.join(__dirname, 'support', 'crash-child.ts'),
      JSON.stringify({
        source,
        table,
        clickhouseUrl: h.server.url,
        clickhouseAuth: h.server.auth(),
        database: h.database,
        metaUrl: postgresUrl,
        metaSchema: h.metaSchema,
        crashAt,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`crash child never landed: ${out} ${err}`)), 45_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('LANDED')) {
        clearTimeout(timer);
        resolve();
      } else if (/FINISHED|ERROR/.test(out)) {
        clearTimeout(timer);
        reject(new Error(`crash child ended without landing: ${out} ${err}`));
      }
    });
  });
  child.kill('SIGKILL');
  await exited;
}

/** The killed worker's advisory lock goes when Postgres notices its connection is gone. */
async function runUntilLocked(deps: SyncDeps, source: SourceConfig, table: string): Promise<TableRunResult> {
  for (let i = 0; i < 100; i++) {
    const r = await runTable(deps, tableOf(source, table));
    if (r.status !== 'skipped') return r;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the killed worker still holds the table lock');
}

test('trap: an interrupted snapshot resumes with the chunks not yet checkpointed (worker killed after an insert, before its checkpoint)', async () => {
  await createOrders('c_snap', 5000);
  const s = sourceConfig(h, [
    { name: 'c_snap', target: 'biz_c_snap', mode: 'cursor', cursor: { column: 'updated_at', overlap: 0 }, chunkRows: 1000, parallelism: 1, reconcile: false },
  ]);
  await landThenKill(s, 'c_snap', 'chunk:2');

  const key = tableOf(s, 'c_snap').key;
  const state = await getTableState(h.meta, key);
  expect(state?.phase).toBe('snapshot');
  const chunks = await listChunks(h.meta, key, state?.generation as number);
  expect(chunks.map((c) => c.status)).toEqual(['done', 'done', 'pending', 'pending', 'pending']);
  // ClickHouse already holds chunk 2, which the checkpoint does not know about.
  const [landed] = await h.chRows<{ n: string }>(`SELECT toString(count()) AS n FROM ${h.database}.biz_c_snap_v1`);
  expect(landed?.n).toBe('3000');

  const read: number[] = [];
  const r = await runUntilLocked(h.deps(s, { beforeChunk: ({ chunkNo }) => void read.push(chunkNo) }), s, 'c_snap');
  expect(r.status).toBe('ok');
  expect(read).toEqual([2, 3, 4]);
  // Chunk 2 was read again and sent with the same dedup token: ClickHouse stored it once.
  const [raw] = await h.chRows<{ n: string }>(`SELECT toString(count()) AS n FROM ${h.database}.biz_c_snap_v1`);
  expect(raw?.n).toBe('5000');
  const cs = await countAndSum(h, 'c_snap', 'biz_c_snap', 'order_id', 'amount');
  expect(cs.target).toEqual(cs.source);
});

test('trap: worker killed between the insert of an incremental page and its checkpoint', async () => {
  await createOrders('c_page', 500);
  const s = sourceConfig(h, [{ name: 'c_page', target: 'biz_c_page', mode: 'cursor', cursor: { column: 'updated_at', overlap: 0 }, reconcile: false }]);
  expect((await runTable(h.deps(s), tableOf(s, 'c_page'))).status).toBe('ok');
  const before = await getTableState(h.meta, tableOf(s, 'c_page').key);

  await h.sql(`UPDATE c_page SET amount = amount + 100, status = 'refunded', updated_at = now() WHERE order_id <= 50`);
  await h.sql(`INSERT INTO c_page SELECT g, 'new', 7.77, now() FROM generate_series(501, 520) g`);
  await landThenKill(s, 'c_page', 'page');

  // The page is in ClickHouse, the cursor did not move.
  const after = await getTableState(h.meta, tableOf(s, 'c_page').key);
  expect(after?.cursorValue).toBe(before?.cursorValue);
  const [refunded] = await h.chRows<{ n: string }>(`SELECT toString(count()) AS n FROM ${h.database}.biz_c_page WHERE status = 'refunded'`);
  expect(refunded?.n).toBe('50');

  const r = await runUntilLocked(h.deps(s), s, 'c_page');
  expect(r.status).toBe('ok');
  expect(r.incremental?.rows).toBe(70);
  const cs = await countAndSum(h, 'c_page', 'biz_c_page', 'order_id', 'amount');
  expect(cs.target).toEqual(cs.source);
  const [dups] = await h.chRows<{ n: string }>(
    `SELECT toString(count()) AS n FROM (SELECT order_id FROM ${h.database}.biz_c_page GROUP BY order_id HAVING count() > 1)`,
  );
  expect(dups?.n).toBe('0');
});
