/**
 * EtlEngine.stop(): once called, no new table sync (or reconciliation)
 * starts — not from the schedule, not from runTable/runAll — and stop waits
 * for the runs already in flight before it closes the pools they use.
 */
import { z } from 'zod';
import { parseEtlConfig } from '../src/config/load';
import { EtlEngine } from '../src/engine';
import { postgresUrl, silent, startHarness, type Harness } from './support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('stop');
  for (const t of ['s_first', 's_second']) {
    await h.sql(`CREATE TABLE ${t} (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now())`);
    await h.sql(`INSERT INTO ${t} (id) SELECT g FROM generate_series(1, 50) g`);
  }
}, 120_000);

afterAll(async () => {
  await h?.close();
});

const runsOf = z.object({ n: z.coerce.number() });

test('after stop() no table sync starts, and stop waits for the run in flight', async () => {
  const config = parseEtlConfig({
    sources: [
      {
        name: 'src',
        url: postgresUrl,
        schema: h.sourceSchema,
        tables: ['s_first', 's_second'].map((name) => ({ name, target: `biz_${name}`, cursor: { column: 'updated_at', overlap: 0 }, reconcile: false })),
      },
    ],
  });
  const chunksStarted: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered: () => void = () => undefined;
  const inChunk = new Promise<void>((resolve) => (entered = resolve));
  const engine = new EtlEngine({
    config,
    clickhouse: h.ch,
    meta: h.meta,
    logger: silent,
    onProgress: () => undefined,
    hooks: {
      beforeChunk: async ({ table }) => {
        chunksStarted.push(table);
        if (table.endsWith('.s_first')) {
          entered();
          await gate;
        }
      },
    },
  });
  const first = config.sources[0]?.tables.find((t) => t.name === 's_first')?.key ?? '';
  const second = config.sources[0]?.tables.find((t) => t.name === 's_second')?.key ?? '';

  // A run in flight (as the API starts one), held inside its first snapshot chunk.
  const inFlight = engine.runTable(first);
  await inChunk;
  let stopped = false;
  const stopping = engine.stop().then(() => {
    stopped = true;
  });
  try {
    // Stopping: neither a run of another table nor a whole round starts.
    const late = await engine.runTable(second);
    expect(late.status).toBe('skipped');
    const round = await engine.runAll();
    expect(round.every((r) => r.status === 'skipped')).toBe(true);
    expect(chunksStarted).toEqual([first]);
    const runs = runsOf.parse((await h.meta.query(`SELECT count(*) AS n FROM etl_runs WHERE table_key = $1`, [second])).rows[0]);
    expect(runs.n).toBe(0);

    // stop() waits for the run in flight, which ends normally.
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false);
  } finally {
    release();
  }
  expect((await inFlight).status).toBe('ok');
  await stopping;
  expect(stopped).toBe(true);
  expect(chunksStarted).toEqual([first]);
}, 60_000);
