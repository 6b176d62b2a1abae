import type { Logger } from 'pino';
import { z } from 'zod';
import { ClickHouse } from '../clickhouse/client';
import { TidemarkError, InternalError } from '../errors';
import { readMigrations, type MigrationReport } from './files';

/** Versioned name of the table recording applied ClickHouse migrations. */
export const CLICKHOUSE_MIGRATIONS_TABLE = 'schema_migrations_v1';

export interface ClusterOptions {
  /** Cluster name from the server's remote_servers config. */
  cluster: string;
  /** Keeper path prefix of Replicated tables; {shard}, {database}, {table}, {replica} are server macros. */
  zooPath?: string;
}

const MERGE_TREE = /ENGINE\s*=\s*(Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|Graphite|)MergeTree\b(\s*\(([^()]*)\))?/gi;
const NAMED_DDL =
  /^(\s*(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|MATERIALIZED\s+VIEW|VIEW|DICTIONARY|DATABASE)|ALTER\s+TABLE|DROP\s+(?:TABLE|VIEW|DICTIONARY|DATABASE)|RENAME\s+TABLE|TRUNCATE\s+TABLE)(?:\s+IF\s+(?:NOT\s+)?EXISTS)?\s+(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_.]*))/i;

/**
 * Rewrites one statement of a migration for a replicated cluster: `ON CLUSTER`
 * after the object name, and every *MergeTree engine as its Replicated form
 * with the Keeper path and replica macros. The same SQL file thus serves a
 * single server (unchanged) and a cluster.
 */
export function clusterize(statement: string, opts: ClusterOptions): string {
  const zoo = opts.zooPath ?? '/clickhouse/tables/{shard}/{database}/{table}';
  let out = statement.replace(NAMED_DDL, (m) => `${m} ON CLUSTER '${opts.cluster}'`);
  out = out.replace(MERGE_TREE, (_m, kind: string, _paren: string | undefined, args: string | undefined) => {
    const extra = args && args.trim() !== '' ? `, ${args.trim()}` : '';
    return `ENGINE = Replicated${kind}MergeTree('${zoo}', '{replica}'${extra})`;
  });
  return out;
}

/** Replaces `{{name}}` variables (e.g. retention days) in migration SQL. */
export function renderVariables(statement: string, vars: Record<string, string | number>): string {
  return statement.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new InternalError(`migration uses unknown variable ${m}`);
    return String(v);
  });
}

const appliedRow = z.object({ version: z.coerce.number(), name: z.string(), checksum: z.string() });

/**
 * Applies the ClickHouse migrations in `dir` that are not yet recorded, in
 * order, and records each. Idempotent: a second run applies nothing. An
 * applied file whose text changed is refused (add a new migration instead).
 * Statements must be idempotent themselves (IF NOT EXISTS), because ClickHouse
 * DDL is not transactional: a run that died halfway is simply run again.
 */
export async function migrateClickHouse(opts: {
  /** A client on the server's default database (the target may not exist yet). */
  admin: ClickHouse;
  database: string;
  dir: string;
  cluster?: ClusterOptions;
  vars?: Record<string, string | number>;
  logger: Logger;
}): Promise<MigrationReport> {
  const { admin, database, logger } = opts;
  // The name is interpolated into DDL, so it must be a plain identifier.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new InternalError(`invalid ClickHouse database name ${JSON.stringify(database)}`);
  const prepare = (sql: string): string => {
    const rendered = renderVariables(sql, { database, ...opts.vars });
    return opts.cluster ? clusterize(rendered, opts.cluster) : rendered;
  };
  await admin.command(prepare(`CREATE DATABASE IF NOT EXISTS \`${database}\``));
  await admin.command(
    prepare(`CREATE TABLE IF NOT EXISTS \`${database}\`.${CLICKHOUSE_MIGRATIONS_TABLE} (
      version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`),
  );
  const listApplied = admin.query({
    name: 'migrations.applied',
    sql: `SELECT version, argMax(name, applied_at) AS name, argMax(checksum, applied_at) AS checksum
          FROM \`${database}\`.${CLICKHOUSE_MIGRATIONS_TABLE} GROUP BY version ORDER BY version`,
    params: z.object({}),
    row: appliedRow,
  });
  const recordApplied = admin.insert({
    table: `${database}.${CLICKHOUSE_MIGRATIONS_TABLE}`,
    row: z.object({ version: z.number(), name: z.string(), checksum: z.string() }),
  });

  const applied = new Map((await listApplied({})).map((r) => [r.version, r]));
  // Statements use unqualified names; the target database is the session default.
  const target = new ClickHouse({ ...admin.options, database });
  const report: MigrationReport = { applied: [], alreadyApplied: 0 };
  for (const m of readMigrations(opts.dir)) {
    const prev = applied.get(m.version);
    if (prev) {
      if (prev.checksum !== m.checksum) {
        throw new InternalError(
          `ClickHouse migration ${m.file} changed after it was applied (recorded checksum ${prev.checksum.slice(0, 12)}, file ${m.checksum.slice(0, 12)}); add a new migration instead of editing an applied one`,
          { context: { file: m.file } },
        );
      }
      report.alreadyApplied++;
      continue;
    }
    const t0 = Date.now();
    logger.info({ version: m.version, name: m.name, statements: m.statements.length }, 'applying ClickHouse migration');
    for (const [i, stmt] of m.statements.entries()) {
      try {
        await target.client.command({ query: prepare(stmt) });
      } catch (err) {
        await target.close();
        const reason = err instanceof Error ? err.message : String(err);
        throw new TidemarkError(
          `ClickHouse migration ${m.file}, statement ${i + 1}: ${reason}`,
          {
            code: 'MIGRATION_FAILED',
            retriable: false,
            statusCode: 500,
          },
          { cause: err, context: { file: m.file, statement: i + 1 } },
        );
      }
    }
    await recordApplied([{ version: m.version, name: m.name, checksum: m.checksum }]);
    report.applied.push({ version: m.version, name: m.name, ms: Date.now() - t0 });
  }
  await target.close();
  return report;
}
