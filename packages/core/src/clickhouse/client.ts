import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';

export type { ClickHouseSettings } from '@clickhouse/client';
import { z } from 'zod';
import { classifyError, ValidationError } from '../errors';

export interface ClickHouseOptions {
  url: string;
  username: string;
  password: string;
  database: string;
  requestTimeoutMs?: number;
  /** Settings sent with every request of this client. */
  settings?: ClickHouseSettings;
  /** Name the server sees in system.query_log (http_user_agent). */
  application?: string;
}

/** `{name:Type}` placeholders of a statement, in order of appearance. */
export function placeholderNames(sql: string): string[] {
  const names: string[] = [];
  for (const m of sql.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\s*:\s*[^}]+\}/g)) {
    if (m[1] && !names.includes(m[1])) names.push(m[1]);
  }
  return names;
}

/** A typed SELECT: zod schemas for its parameters and for each returned row. */
export interface QueryDef<P extends z.ZodType<Record<string, unknown>>, R extends z.ZodType> {
  /** Shows up in logs and errors; also sent as the query_id prefix. */
  name: string;
  /** SQL with `{name:Type}` placeholders only; values never go into the text. */
  sql: string;
  params: P;
  row: R;
}

/** A typed INSERT into one (versioned) table. */
export interface InsertDef<R extends z.ZodType<Record<string, unknown>>> {
  table: string;
  row: R;
}

function checkPlaceholders(name: string, sql: string, params: z.ZodType): void {
  // Only object schemas have a key list; others are checked at call time by zod.
  const shape = (params as unknown as { shape?: Record<string, unknown> }).shape;
  if (!shape) return;
  const declared = Object.keys(shape);
  const used = placeholderNames(sql);
  const missing = used.filter((p) => !declared.includes(p));
  const unused = declared.filter((p) => !used.includes(p));
  if (missing.length || unused.length) {
    // A programming error, caught when the module loads (and by unit tests).
    throw new Error(`query ${name}: placeholders ${JSON.stringify(missing)} have no param schema; params ${JSON.stringify(unused)} are unused`);
  }
}

/**
 * Typed access to ClickHouse through @clickhouse/client. Every query and
 * insert is defined once with zod schemas; parameters are bound server-side
 * with `{name:Type}`, and rows are validated on the way out.
 */
export class ClickHouse {
  readonly client: ClickHouseClient;
  readonly database: string;

  constructor(readonly options: ClickHouseOptions) {
    this.database = options.database;
    this.client = createClient({
      url: options.url,
      username: options.username,
      password: options.password,
      database: options.database,
      request_timeout: options.requestTimeoutMs ?? 60_000,
      application: options.application ?? 'tidemark',
      clickhouse_settings: options.settings ?? {},
      keep_alive: { enabled: true },
      // Failures are classified and logged by the caller with context; the
      // client's own console logging would duplicate them outside pino.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** Defines a typed query; the returned function runs it. */
  query<P extends z.ZodType<Record<string, unknown>>, R extends z.ZodType>(def: QueryDef<P, R>) {
    checkPlaceholders(def.name, def.sql, def.params);
    return async (params: z.input<P>, opts: { settings?: ClickHouseSettings; signal?: AbortSignal } = {}): Promise<z.output<R>[]> => {
      const parsed = def.params.safeParse(params);
      if (!parsed.success) {
        throw new ValidationError(`query ${def.name}: invalid parameters: ${z.prettifyError(parsed.error)}`, {
          context: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
        });
      }
      let raw: unknown[];
      try {
        const rs = await this.client.query({
          query: def.sql,
          format: 'JSONEachRow',
          query_params: parsed.data,
          ...(opts.settings ? { clickhouse_settings: opts.settings } : {}),
          ...(opts.signal ? { abort_signal: opts.signal } : {}),
        });
        raw = await rs.json();
      } catch (err) {
        const e = classifyError(err, 'clickhouse');
        (e.context as Record<string, unknown>).queryName = def.name;
        throw e;
      }
      const rows = z.array(def.row).safeParse(raw);
      if (!rows.success) {
        // The schema and the SQL disagree: a bug, reported with the query's name.
        throw new ValidationError(`query ${def.name}: unexpected row shape: ${z.prettifyError(rows.error)}`);
      }
      return rows.data;
    };
  }

  /** Defines a typed insert; the returned function validates and inserts rows. */
  insert<R extends z.ZodType<Record<string, unknown>>>(def: InsertDef<R>) {
    return async (rows: z.input<R>[], opts: { dedupToken?: string; settings?: ClickHouseSettings } = {}): Promise<{ rows: number }> => {
      const values: z.output<R>[] = [];
      for (let i = 0; i < rows.length; i++) {
        const r = def.row.safeParse(rows[i]);
        if (!r.success) throw new ValidationError(`insert into ${def.table}: row ${i}: ${z.prettifyError(r.error)}`);
        values.push(r.data);
      }
      if (values.length === 0) return { rows: 0 };
      try {
        await this.client.insert({
          table: def.table,
          values,
          format: 'JSONEachRow',
          clickhouse_settings: {
            ...(opts.dedupToken ? { insert_deduplication_token: opts.dedupToken } : {}),
            ...opts.settings,
          },
        });
      } catch (err) {
        throw classifyError(err, 'clickhouse');
      }
      return { rows: values.length };
    };
  }

  /** Runs a statement that returns nothing (DDL). Only for migrations and admin code. */
  async command(sql: string, settings?: ClickHouseSettings): Promise<void> {
    try {
      await this.client.command({ query: sql, ...(settings ? { clickhouse_settings: settings } : {}) });
    } catch (err) {
      throw classifyError(err, 'clickhouse');
    }
  }

  async ping(): Promise<boolean> {
    const r = await this.client.ping();
    return r.success;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
