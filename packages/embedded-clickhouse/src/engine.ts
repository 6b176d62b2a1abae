import path from 'node:path';
import { Session, drainPending } from 'chdb';

/**
 * chDB's native binding: the statement's result with its read figures and
 * the output format chosen per call. The loader caches the addon, so this is
 * the same instance chDB itself uses. Tested by the conformance suite; chdb
 * is pinned to an exact version.
 */
interface NativeResult {
  bytes: Buffer;
  elapsed: number;
  rowsRead: number;
  bytesRead: number;
}
interface ChdbLoader {
  loadNative(): { QueryAsyncConnection(conn: unknown, sql: string, format: string, params?: Record<string, string>): Promise<NativeResult> };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file outside chdb's exports map
const loader = require(path.join(path.dirname(require.resolve('chdb')), 'dist', 'loader.js')) as ChdbLoader;
const native = loader.loadNative();

/**
 * Query parameters travel as `SET param_x = '<text>'` on the statement's own
 * connection, never through the native call's params argument: libchdb keeps
 * that argument in state shared across connections, so two parameterized
 * statements at once could see each other's values, and the only safe use
 * of it was one statement at a time process-wide (one tenant's slow
 * parameterized query stalled every other). `SET param_` lives in the
 * connection's own context, so parameterized statements run concurrently,
 * each with its own values (proved by the concurrency test). The SQL string
 * literal carries the value's escaped text form unchanged, which the engine
 * parses exactly as it parses an HTTP `param_x`.
 */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
function sqlStringLiteral(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
export function setParamsStatement(params: Record<string, string>): string {
  const parts = Object.entries(params).map(([name, value]) => {
    if (!PARAM_NAME.test(name)) throw Object.assign(new Error(`Bad query parameter name '${name.slice(0, 64)}'`), { name: 'ChdbBindError' });
    return `param_${name} = ${sqlStringLiteral(value)}`;
  });
  return `SET ${parts.join(', ')}`;
}

/** Result of one statement, with the figures X-ClickHouse-Summary reports. */
export interface EngineResult {
  body: Buffer;
  readRows: number;
  readBytes: number;
  writtenRows: number;
  writtenBytes: number;
  elapsedNs: number;
}

/** Formats chDB's raw insert passes to the engine's own parser zero-copy. */
export const RAW_INSERT_FORMATS = new Set([
  'JSONEachRow',
  'JSONCompactEachRow',
  'CSV',
  'CSVWithNames',
  'TSV',
  'TabSeparated',
  'TSVWithNames',
  'TabSeparatedWithNames',
]);

/**
 * Settings where clickhouse-local (which chDB is) defaults differently from a
 * ClickHouse server; clients are written against the server's behaviour.
 */
const SERVER_DEFAULTS = ['--output_format_json_quote_64bit_integers=1'];

/** Aliases ClickHouse accepts for the raw formats above. */
export const FORMAT_ALIASES: Record<string, string> = { JSONLines: 'JSONEachRow', NDJSON: 'JSONEachRow' };

export interface ExecContext {
  /** Current database of the statement (HTTP `database`). */
  database: string;
  /** Read-only: every write, DDL, table function and setting change is refused by the engine. */
  readonly: boolean;
  /** Engine settings from the request, applied as connection defaults. */
  settings: Record<string, string>;
  /** Runs on a connection of its own even without settings (SET, USE). */
  isolated?: boolean;
}

/**
 * Owns the chDB engine of this process and hands out connections.
 *
 * chDB runs one engine per process bound to one data directory; each
 * `Session` on that directory is a connection with its own context (current
 * database, settings). Opening one costs well under a millisecond.
 *
 * - Requests without settings borrow an idle connection of their
 *   (database, readonly) pool and give it back.
 * - A request that carries settings gets a connection of its own with those
 *   settings as its defaults, closed afterwards, so settings never leak
 *   between requests. A read-only connection has readonly=1 as a default, so
 *   a SETTINGS clause in the SQL cannot talk it out of being read-only: the
 *   engine itself refuses.
 * - A connection whose statement failed is closed, never reused: chDB keeps
 *   the failed statement's partial output in the connection and would prepend
 *   it to the next result.
 */
export class ChdbEngine {
  private readonly idle = new Map<string, Session[]>();
  private closed = false;
  readonly version: string;
  /** Names in the engine's own catalogue (system.table_functions), for the host guard. */
  readonly tableFunctions: string[];

  constructor(
    readonly dataDir: string,
    /** Idle connections kept per (database, readonly). */
    private readonly maxIdlePerKey = 8,
  ) {
    const root = new Session(dataDir, { connectionArgs: SERVER_DEFAULTS });
    this.version = root.query('SELECT version()', 'TabSeparated').trim();
    this.tableFunctions = root
      .query('SELECT name FROM system.table_functions ORDER BY name', 'TabSeparated')
      .split('\n')
      .filter((n) => n !== '');
    this.idle.set('default|rw', [root]);
  }

  private async open(ctx: ExecContext, settingsArgs: string[]): Promise<Session> {
    const args = [...SERVER_DEFAULTS, ...settingsArgs, ...(ctx.readonly ? ['--readonly=1'] : [])];
    const s = new Session(this.dataDir, { connectionArgs: args });
    if (ctx.database !== 'default') {
      try {
        await s.queryAsync(`USE ${quoteIdentifier(ctx.database)}`);
      } catch (err) {
        s.close();
        throw err;
      }
    }
    return s;
  }

  /** Runs `fn` on a connection suited to the context. */
  async withConnection<T>(ctx: ExecContext, fn: (s: Session) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('engine is closed');
    const names = Object.keys(ctx.settings);
    const pooled = names.length === 0 && !ctx.isolated;
    const key = `${ctx.database}|${ctx.readonly ? 'ro' : 'rw'}`;
    const s =
      (pooled ? this.idle.get(key)?.pop() : undefined) ??
      (await this.open(
        ctx,
        names.map((n) => `--${n}=${ctx.settings[n]}`),
      ));
    let ok = false;
    try {
      const result = await fn(s);
      ok = true;
      return result;
    } finally {
      const list = this.idle.get(key) ?? [];
      if (ok && pooled && !this.closed && list.length < this.maxIdlePerKey) {
        list.push(s);
        this.idle.set(key, list);
      } else {
        s.close();
      }
    }
  }

  /**
   * One statement; `format` applies when the statement names none. With
   * parameters it runs on a connection of its own (closed afterwards, so the
   * values never reach another statement), the values set first.
   */
  async query(ctx: ExecContext, sql: string, params: Record<string, string>, format: string): Promise<EngineResult> {
    const parameterized = Object.keys(params).length > 0;
    const setParams = parameterized ? setParamsStatement(params) : undefined;
    return this.withConnection(parameterized ? { ...ctx, isolated: true } : ctx, async (s) => {
      if (setParams) await native.QueryAsyncConnection(s.connection, setParams, 'TabSeparated');
      const r = await native.QueryAsyncConnection(s.connection, sql, format);
      return {
        body: r.bytes,
        readRows: r.rowsRead,
        readBytes: r.bytesRead,
        writtenRows: 0,
        writtenBytes: 0,
        elapsedNs: Math.round(r.elapsed * 1e9),
      };
    });
  }

  /** INSERT with data in one of RAW_INSERT_FORMATS, handed to the engine without copying or parsing in JS. */
  async insertRaw(
    ctx: ExecContext,
    table: string,
    columns: string[] | undefined,
    format: string,
    data: Buffer,
    insertSettings: Record<string, string>,
  ): Promise<EngineResult> {
    return this.withConnection(ctx, async (s) => {
      const r = await s.insert({
        table,
        values: data,
        format: format as 'JSONEachRow',
        ...(columns ? { columns } : {}),
        ...(Object.keys(insertSettings).length > 0 ? { settings: insertSettings } : {}),
      });
      return {
        body: Buffer.alloc(0),
        readRows: r.rowsSent ?? 0,
        readBytes: r.bytesSent,
        writtenRows: r.rowsWritten,
        writtenBytes: r.bytesWritten,
        elapsedNs: Math.round(r.elapsed * 1e9),
      };
    });
  }

  /** Closes every connection once in-flight work has finished. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await drainPending();
    for (const list of this.idle.values()) for (const s of list) s.close();
    this.idle.clear();
    await drainPending();
  }
}

export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}
