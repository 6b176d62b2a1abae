/** The ClickHouse migration runner against a real engine over HTTP. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClickHouse, CLICKHOUSE_MIGRATIONS_DIR, createLogger, migrateClickHouse } from '@tidemark/core';
import { spawnEmbeddedClickHouse, type SpawnedClickHouse } from '../src/spawn';

const logger = createLogger({ level: 'silent' });
let server: SpawnedClickHouse;
let admin: ClickHouse;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-chmig-'));
  server = await spawnEmbeddedClickHouse({ dataDir });
  admin = new ClickHouse({ url: server.url, ...server.auth(), database: 'default' });
});

afterAll(async () => {
  await admin?.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function fixture(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-chmig-files-'));
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

test('the repository migrations apply and are idempotent', async () => {
  const database = `tm_repo_${process.pid}`;
  const first = await migrateClickHouse({ admin, database, dir: CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
  const second = await migrateClickHouse({ admin, database, dir: CLICKHOUSE_MIGRATIONS_DIR, logger, vars: { raw_retention_days: 90 } });
  expect(second.applied).toEqual([]);
  expect(second.alreadyApplied).toBe(first.applied.length + first.alreadyApplied);
});

test('applies in version order into the target database, records each, and skips applied ones', async () => {
  const database = `tm_mig_${process.pid}_a`;
  const dir = fixture({
    '0002_second.sql': 'ALTER TABLE t ADD COLUMN IF NOT EXISTS b String DEFAULT {{greeting}}',
    '0001_first.sql': '-- a comment; with a semicolon\nCREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = MergeTree ORDER BY a;\nINSERT INTO t VALUES (1);',
  });
  const report = await migrateClickHouse({ admin, database, dir, logger, vars: { greeting: "'hi'" } });
  expect(report.applied.map((m) => m.version)).toEqual([1, 2]);
  const rows = await admin.client.query({ query: `SELECT a, b FROM ${database}.t`, format: 'JSONEachRow' }).then((r) => r.json());
  expect(rows).toEqual([{ a: 1, b: 'hi' }]);
  const again = await migrateClickHouse({ admin, database, dir, logger, vars: { greeting: "'hi'" } });
  expect(again).toEqual({ applied: [], alreadyApplied: 2 });
  const recorded = await admin.client
    .query({ query: `SELECT version, name FROM ${database}.schema_migrations_v1 FINAL ORDER BY version`, format: 'JSONEachRow' })
    .then((r) => r.json());
  expect(recorded).toEqual([
    { version: 1, name: 'first' },
    { version: 2, name: 'second' },
  ]);
});

test('a failing statement names the file and statement and records nothing; an edited applied file is refused', async () => {
  const database = `tm_mig_${process.pid}_b`;
  const dir = fixture({
    '0001_ok.sql': 'CREATE TABLE IF NOT EXISTS ok (a UInt8) ENGINE = MergeTree ORDER BY a',
    '0002_bad.sql': 'SELECT 1;\nCREATE TABLE broken (',
  });
  await expect(migrateClickHouse({ admin, database, dir, logger })).rejects.toThrow(/0002_bad\.sql, statement 2: .*Syntax error/s);
  const recorded = await admin.client.query({ query: `SELECT version FROM ${database}.schema_migrations_v1`, format: 'JSONEachRow' }).then((r) => r.json());
  expect(recorded).toEqual([{ version: 1 }]);
  fs.writeFileSync(path.join(dir, '0002_bad.sql'), 'SELECT 1');
  fs.writeFileSync(path.join(dir, '0001_ok.sql'), 'CREATE TABLE IF NOT EXISTS ok (a UInt16) ENGINE = MergeTree ORDER BY a');
  await expect(migrateClickHouse({ admin, database, dir, logger })).rejects.toThrow(/0001_ok\.sql changed after it was applied/);
});
