import { Pool } from 'pg';
import { ApiKeyVerifier, createApiKey, createLogger, ensureProject, migratePostgres, POSTGRES_MIGRATIONS_DIR, revokeApiKey } from '../src';
import { services, uniqueName } from './services';

// Two verifiers on their own pools stand for two processes (say a collector
// and an API replica) sharing the metadata Postgres.
const logger = createLogger({ level: 'silent' });
const schema = uniqueName('tm_keys');
let admin: Pool;
const pools: Pool[] = [];

function schemaPool(): Pool {
  const p = new Pool({ connectionString: services.postgresUrl, options: `-c search_path=${schema}`, max: 2 });
  pools.push(p);
  return p;
}

beforeAll(async () => {
  admin = new Pool({ connectionString: services.postgresUrl, max: 1 });
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    throw new Error(`Postgres not reachable at ${services.postgresUrl} (run: npm run services:up): ${(err as Error).message}`);
  }
  const pool = schemaPool();
  await migratePostgres({ pool, dirs: [POSTGRES_MIGRATIONS_DIR], logger });
  await ensureProject(pool, 'keys_a');
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

/** Presents the key every 20 ms until it is refused; returns how long that took after `since`. */
async function msUntilRefused(v: ApiKeyVerifier, key: string, since: number): Promise<number> {
  for (;;) {
    try {
      await v.verify(key);
    } catch (err) {
      expect((err as Error).message).toMatch(/invalid or revoked/);
      return Date.now() - since;
    }
    if (Date.now() - since > 10_000) throw new Error('key still accepted 10 s after revocation');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a key revoked in another process stops working within 1 s in every process', async () => {
  const pool = schemaPool();
  const { id, key } = await createApiKey(pool, { projectId: 'keys_a', role: 'read' });
  const collector = new ApiKeyVerifier(schemaPool());
  const api = new ApiKeyVerifier(schemaPool());
  // Both have the key cached as valid (the per-key TTL is 30 s).
  expect((await collector.verify(key)).projectId).toBe('keys_a');
  expect((await api.require(key, 'read')).role).toBe('read');

  const revokedAt = Date.now();
  expect(await revokeApiKey(pool, 'keys_a', id)).toBe(true);
  const [a, b] = await Promise.all([msUntilRefused(collector, key, revokedAt), msUntilRefused(api, key, revokedAt)]);
  expect(a).toBeLessThan(1000);
  expect(b).toBeLessThan(1000);
});

test('a deleted key stops working within 1 s, and other keys keep working', async () => {
  const pool = schemaPool();
  const doomed = await createApiKey(pool, { projectId: 'keys_a', role: 'ingest' });
  const kept = await createApiKey(pool, { projectId: 'keys_a', role: 'ingest' });
  const v = new ApiKeyVerifier(schemaPool());
  await v.verify(doomed.key);
  await v.verify(kept.key);
  const at = Date.now();
  await pool.query('DELETE FROM api_keys WHERE id = $1', [doomed.id]);
  expect(await msUntilRefused(v, doomed.key, at)).toBeLessThan(1000);
  expect((await v.verify(kept.key)).role).toBe('ingest');
});

test('an unknown key is refused and a wrong role is forbidden', async () => {
  const pool = schemaPool();
  const { key } = await createApiKey(pool, { projectId: 'keys_a', role: 'ingest' });
  const v = new ApiKeyVerifier(schemaPool());
  await expect(v.verify('tm_read_not_a_key')).rejects.toThrow(/invalid or revoked/);
  await expect(v.verify(undefined)).rejects.toThrow(/missing API key/);
  await expect(v.require(key, 'read')).rejects.toThrow(/role "ingest"; "read" is needed/);
});
