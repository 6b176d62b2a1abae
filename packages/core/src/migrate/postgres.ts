import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { InternalError, TidemarkError } from '../errors';
import { pgMaybeOne } from '../postgres/typed';
import { readMigrationDirs, type MigrationReport } from './files';

const appliedQuery = {
  name: 'migrate.applied',
  sql: 'SELECT checksum FROM tidemark_schema_migrations WHERE version = $1',
  row: z.object({ checksum: z.string() }),
};

/** Key of the advisory lock that serialises concurrent migrators (any replica). */
const MIGRATION_LOCK_KEY = 7_316_011;

/**
 * Applies the metadata Postgres migrations of `dirs` (core's and each role's
 * folder; the platform composes the list) as one sequence in version order
 * across the folders: each file in its own transaction together with its
 * record, under an advisory lock, so replicas starting at once apply each
 * file exactly once and a failed file leaves nothing half-applied. A file is
 * recorded by version, name and checksum, never by its folder, so moving a
 * file between packages does not re-apply it.
 */
export async function migratePostgres(opts: { pool: Pool; dirs: readonly string[]; logger: Logger }): Promise<MigrationReport> {
  const { pool, logger } = opts;
  // An empty list would "succeed" having created nothing; that is a wiring mistake, not an up-to-date database.
  if (opts.dirs.length === 0) throw new InternalError('migratePostgres needs at least one migrations folder');
  // Read (and refuse duplicate versions) before touching the database.
  const migrations = readMigrationDirs(opts.dirs);
  const client = await pool.connect();
  const report: MigrationReport = { applied: [], alreadyApplied: 0 };
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS tidemark_schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    for (const m of migrations) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
        const prev = await pgMaybeOne(client, appliedQuery, [m.version]);
        if (prev) {
          await client.query('ROLLBACK');
          if (prev.checksum !== m.checksum) {
            throw new InternalError(`Postgres migration ${m.file} changed after it was applied; add a new migration instead`, {
              context: { file: m.file },
            });
          }
          report.alreadyApplied++;
          continue;
        }
        const t0 = Date.now();
        logger.info({ version: m.version, name: m.name }, 'applying Postgres migration');
        for (const [i, stmt] of m.statements.entries()) {
          try {
            await client.query(stmt);
          } catch (err) {
            throw new TidemarkError(
              `Postgres migration ${m.file}, statement ${i + 1}: ${(err as Error).message}`,
              {
                code: 'MIGRATION_FAILED',
                retriable: false,
                statusCode: 500,
              },
              { cause: err, context: { file: m.file, statement: i + 1 } },
            );
          }
        }
        await client.query('INSERT INTO tidemark_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
        report.applied.push({ version: m.version, name: m.name, ms: Date.now() - t0 });
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  } finally {
    client.release();
  }
  return report;
}
