/**
 * The ETL's own configuration: which Postgres sources, which tables, how each
 * is kept in sync. A YAML or JSON file (ETL_CONFIG) validated here; every
 * problem is reported with the file and the path of the bad field
 * (`etl.yaml: sources[0].tables[2].mode: ...`).
 */
import { z } from 'zod';
import { parseOverride } from '../target/types';
import { parseDuration } from './duration';

const duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().refine((v) => parseDuration(v) !== undefined, 'must be a duration such as "500ms", "30s", "5m", "2h" or a number of ms'),
  ])
  .transform((v) => parseDuration(v) ?? 0);

const plainIdent = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier (letters, digits, _; not starting with a digit)');
const projectId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a project id (lower-case letters, digits, _ and -)');
const lowerIdent = z.string().regex(/^[a-z_][a-z0-9_]{0,40}$/, 'must be lower-case letters, digits and _ (at most 41 characters)');
const pgName = z.string().min(1, 'must not be empty').max(63, 'Postgres names have at most 63 characters');

const chTypeOverride = z.string().superRefine((v, ctx) => {
  const parsed = parseOverride(v);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

const decimalSpec = z.string().superRefine((v, ctx) => {
  const parsed = parseOverride(v);
  if (typeof parsed === 'string' || parsed.kind !== 'decimal') ctx.addIssue({ code: 'custom', message: 'must be a Decimal(P, S) type' });
});

const schedule = z.union([
  duration.transform((every) => ({ every, cron: undefined as string | undefined })),
  z
    .strictObject({
      /** Run every this long (e.g. "30s"). */
      every: duration.optional(),
      /** Or on this cron expression (5 fields, minutes first). */
      cron: z
        .string()
        .regex(/^\S+(\s+\S+){4,5}$/, 'must be a cron expression with 5 (or 6, with seconds) fields')
        .optional(),
    })
    .refine((s) => (s.every === undefined) !== (s.cron === undefined), 'set exactly one of every / cron'),
]);

const reconcile = z.union([
  z.literal(false),
  z.strictObject({
    /** How often to compare primary keys (and counts) of source and target. */
    every: duration,
    /** Tombstone target rows deleted in the source and refetch rows missing in the target. */
    repair: z.boolean().default(true),
    /** A reconciliation finding more differences than this fails instead of repairing (resync instead). */
    maxRepair: z.number().int().positive().default(100_000),
  }),
]);

/** Per-table options; also the shape of a source's `defaults`. */
const tableOptions = {
  /** cursor: keyset on (cursor column, primary key); cdc: logical replication; full: re-read every run. */
  mode: z.enum(['cursor', 'cdc', 'full']).optional(),
  cursor: z
    .strictObject({
      /** A timestamptz or timestamp column the application moves forward on every insert and update. */
      column: pgName,
      /** Re-read this much before the saved cursor on every run (clock skew of application-set timestamps). */
      overlap: duration.default(2_000),
      /** For a timestamp-without-time-zone cursor: the zone the application writes it in. Default: the database's TimeZone. */
      timeZone: z.string().min(1).optional(),
    })
    .optional(),
  schedule: schedule.optional(),
  reconcile: reconcile.optional(),
  /** A sync older than this is reported stalled (and alerts). Default: 3 schedule intervals, at least 5 minutes. */
  stallAfter: duration.optional(),
  /** ClickHouse type of numeric columns declared without precision. */
  unconstrainedNumeric: decimalSpec.optional(),
  /** Rows per snapshot chunk (a checkpointed unit). */
  chunkRows: z.number().int().min(100).max(10_000_000).optional(),
  /** Snapshot chunks of one table read at once. */
  parallelism: z.number().int().min(1).max(16).optional(),
  /** Rows per incremental page (a checkpointed unit). */
  pageRows: z.number().int().min(10).max(1_000_000).optional(),
  /** Primary-key columns, in key order; default: the table's PRIMARY KEY constraint. */
  primaryKey: z.array(pgName).min(1).optional(),
  /** Only these columns (the primary key is always included). Under defaults: the ones a table has. */
  include: z.array(pgName).min(1).optional(),
  /** All columns but these. Under defaults: the ones a table has. */
  exclude: z.array(pgName).min(1).optional(),
  /** ClickHouse types by column name, overriding the mapping. Under defaults: for the tables that have the column. */
  types: z.record(pgName, chTypeOverride).optional(),
};

const table = z.strictObject({
  /** Source table name. */
  name: pgName,
  /** Source schema; default: the source's schema. */
  schema: pgName.optional(),
  /** Name of the reader view in ClickHouse; the table is <target>_v1. Default: <targetPrefix><name>. */
  target: plainIdent.optional(),
  ...tableOptions,
});

const source = z.strictObject({
  /** Unique name of the source (metrics, checkpoints, slot names). */
  name: lowerIdent,
  /** Postgres URL; ${VAR} is replaced from the environment. */
  url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  /** Tidemark project the rows belong to (every landed row carries it as project_id; the query API scopes by it). */
  project: projectId.default('default'),
  /** Default schema of the tables. */
  schema: pgName.default('public'),
  /** Prefix of target names (e.g. biz_). */
  targetPrefix: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$|^$/, 'must be a plain identifier prefix')
    .default(''),
  /** Connections to this source (snapshot readers, cursor reads, reconciliation, locks). */
  maxConnections: z.number().int().min(2).max(64).default(6),
  /** Tables of this source synced at the same time. */
  maxConcurrentTables: z.number().int().min(1).max(16).default(2),
  /** Largest block (bytes) buffered before it is inserted into ClickHouse. */
  blockBytes: z
    .number()
    .int()
    .min(65_536)
    .max(1_073_741_824)
    .default(16 * 1024 * 1024),
  cdc: z
    .strictObject({
      /** Replication slot name; default tidemark_<source>. */
      slot: lowerIdent.optional(),
      /** Publication name; default tidemark_<source>. */
      publication: lowerIdent.optional(),
      /** Create the publication and add/remove tables to match this file. */
      managePublication: z.boolean().default(true),
      /** Longest a committed change waits in memory before it is landed. */
      flushInterval: duration.default(200),
      /** Changes landed per batch at most. */
      maxBatchChanges: z.number().int().min(1).max(1_000_000).default(5_000),
      /** Slot lag (bytes of WAL retained) reported as an alert. */
      lagAlertBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024 * 1024),
    })
    .default({ managePublication: true, flushInterval: 200, maxBatchChanges: 5_000, lagAlertBytes: 1024 * 1024 * 1024 }),
  /** Options every table of this source starts from (every table option but name, schema and target, which name one table). */
  defaults: z
    .strictObject(tableOptions)
    .refine((d) => !(d.include && d.exclude), { message: 'set include or exclude, not both', path: ['exclude'] })
    .default({}),
  tables: z.array(table).min(1, 'a source needs at least one table'),
});

export const etlConfigSchema = z
  .strictObject({
    sources: z.array(source).min(1, 'at least one source'),
  })
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    const targets = new Map<string, string>();
    cfg.sources.forEach((s, si) => {
      if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sources', si, 'name'], message: `duplicate source name ${s.name}` });
      names.add(s.name);
      const seen = new Set<string>();
      s.tables.forEach((t, ti) => {
        const at = (...p: (string | number)[]) => ['sources', si, 'tables', ti, ...p];
        const key = `${t.schema ?? s.schema}.${t.name}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: at('name'), message: `table ${key} is listed twice` });
        seen.add(key);
        const target = t.target ?? `${s.targetPrefix}${t.name}`;
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(target)) {
          ctx.addIssue({ code: 'custom', path: at('target'), message: `target name ${JSON.stringify(target)} is not a plain identifier; set target` });
        }
        const other = targets.get(target);
        if (other) ctx.addIssue({ code: 'custom', path: at('target'), message: `target ${target} is also used by ${other}` });
        targets.set(target, `${s.name}.${key}`);
        const mode = t.mode ?? s.defaults.mode ?? 'cursor';
        const cursor = t.cursor ?? s.defaults.cursor;
        if (mode === 'cursor' && !cursor) ctx.addIssue({ code: 'custom', path: at('cursor'), message: 'mode cursor needs cursor.column (or mode cdc / full)' });
        if (t.include && t.exclude) ctx.addIssue({ code: 'custom', path: at('exclude'), message: 'set include or exclude, not both' });
      });
    });
  });

export type EtlConfigInput = z.input<typeof etlConfigSchema>;
export type EtlConfigParsed = z.output<typeof etlConfigSchema>;
type SourceParsed = EtlConfigParsed['sources'][number];
type TableParsed = SourceParsed['tables'][number];

export type SyncMode = 'cursor' | 'cdc' | 'full';

/** One table with its source's defaults applied: what the engine works from. */
export interface TableConfig {
  /** Stable identity: <source>.<schema>.<table>. */
  key: string;
  source: string;
  /** Project id every landed row of this table carries (project_id). */
  project: string;
  schema: string;
  name: string;
  primaryKey?: string[];
  include?: string[];
  exclude?: string[];
  types: Record<string, string>;
  /**
   * include / exclude / types from the source's defaults: applied to the
   * columns this table has (a defaults entry naming a column other tables
   * have is not an error here). A table's own include/exclude replaces the
   * defaults' include/exclude; its types add to (and win over) the defaults'.
   */
  fromDefaults?: { include?: string[]; exclude?: string[]; types?: Record<string, string> };
  /** Reader view name; the ReplacingMergeTree table is `${target}_v1`. */
  target: string;
  mode: SyncMode;
  cursor?: { column: string; overlapMs: number; timeZone?: string };
  schedule: { everyMs?: number; cron?: string };
  reconcile: false | { everyMs: number; repair: boolean; maxRepair: number };
  stallAfterMs: number;
  unconstrainedNumeric: { precision: number; scale: number };
  chunkRows: number;
  parallelism: number;
  pageRows: number;
}

export interface SourceConfig {
  name: string;
  project: string;
  url: string;
  schema: string;
  maxConnections: number;
  maxConcurrentTables: number;
  blockBytes: number;
  cdc: { slot: string; publication: string; managePublication: boolean; flushIntervalMs: number; maxBatchChanges: number; lagAlertBytes: number };
  tables: TableConfig[];
}

export interface EtlConfig {
  sources: SourceConfig[];
}

function decimalOf(text: string | undefined): { precision: number; scale: number } {
  const parsed = text ? parseOverride(text) : undefined;
  if (parsed && typeof parsed !== 'string' && parsed.kind === 'decimal') return { precision: parsed.precision, scale: parsed.scale };
  return { precision: 38, scale: 9 };
}

function defaultsOf(t: TableParsed, d: SourceParsed['defaults']): TableConfig['fromDefaults'] {
  const own = t.include !== undefined || t.exclude !== undefined;
  const out: NonNullable<TableConfig['fromDefaults']> = {
    ...(!own && d.include ? { include: d.include } : {}),
    ...(!own && d.exclude ? { exclude: d.exclude } : {}),
    ...(d.types ? { types: d.types } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

const DEFAULT_EVERY_MS: Record<SyncMode, number> = { cursor: 30_000, cdc: 60_000, full: 300_000 };

function resolveTable(s: SourceParsed, t: TableParsed): TableConfig {
  const d = s.defaults;
  const mode: SyncMode = t.mode ?? d.mode ?? 'cursor';
  const sched = t.schedule ?? d.schedule ?? { every: DEFAULT_EVERY_MS[mode], cron: undefined };
  const cursor = t.cursor ?? d.cursor;
  const rec = t.reconcile ?? d.reconcile ?? (mode === 'full' ? false : { every: mode === 'cdc' ? 6 * 3_600_000 : 3_600_000, repair: true, maxRepair: 100_000 });
  const everyMs = sched.every ?? 60_000;
  return {
    key: `${s.name}.${t.schema ?? s.schema}.${t.name}`,
    source: s.name,
    project: s.project,
    schema: t.schema ?? s.schema,
    name: t.name,
    ...((t.primaryKey ?? d.primaryKey) ? { primaryKey: t.primaryKey ?? d.primaryKey } : {}),
    ...(t.include ? { include: t.include } : {}),
    ...(t.exclude ? { exclude: t.exclude } : {}),
    types: t.types ?? {},
    ...(defaultsOf(t, d) ? { fromDefaults: defaultsOf(t, d) } : {}),
    target: t.target ?? `${s.targetPrefix}${t.name}`,
    mode,
    ...(cursor ? { cursor: { column: cursor.column, overlapMs: cursor.overlap, ...(cursor.timeZone ? { timeZone: cursor.timeZone } : {}) } } : {}),
    schedule: { ...(sched.every !== undefined ? { everyMs: sched.every } : {}), ...(sched.cron ? { cron: sched.cron } : {}) },
    reconcile: rec === false ? false : { everyMs: rec.every, repair: rec.repair, maxRepair: rec.maxRepair },
    stallAfterMs: t.stallAfter ?? d.stallAfter ?? Math.max(3 * everyMs, 300_000),
    unconstrainedNumeric: decimalOf(t.unconstrainedNumeric ?? d.unconstrainedNumeric),
    chunkRows: t.chunkRows ?? d.chunkRows ?? 50_000,
    parallelism: t.parallelism ?? d.parallelism ?? 2,
    pageRows: t.pageRows ?? d.pageRows ?? 10_000,
  };
}

/** Applies defaults: the parsed file becomes the list of sources and fully specified tables. */
export function resolveConfig(parsed: EtlConfigParsed): EtlConfig {
  return {
    sources: parsed.sources.map((s) => ({
      name: s.name,
      project: s.project,
      url: s.url,
      schema: s.schema,
      maxConnections: s.maxConnections,
      maxConcurrentTables: s.maxConcurrentTables,
      blockBytes: s.blockBytes,
      cdc: {
        slot: s.cdc.slot ?? `tidemark_${s.name}`,
        publication: s.cdc.publication ?? `tidemark_${s.name}`,
        managePublication: s.cdc.managePublication,
        flushIntervalMs: s.cdc.flushInterval,
        maxBatchChanges: s.cdc.maxBatchChanges,
        lagAlertBytes: s.cdc.lagAlertBytes,
      },
      tables: s.tables.map((t) => resolveTable(s, t)),
    })),
  };
}
