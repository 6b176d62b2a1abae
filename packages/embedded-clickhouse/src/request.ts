import type { IncomingMessage } from 'node:http';
import { CODES, ServerException } from './codes';

/** URL parameters that belong to the HTTP interface, not to the engine. */
const HTTP_PARAMS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'quota_key',
  'session_id',
  'session_timeout',
  'session_check',
  'role',
  'compress',
  'decompress',
  'stacktrace',
  'buffer_size',
  'wait_end_of_query',
  'enable_http_compression',
  'http_zlib_compression_level',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_wait_end_of_query',
  'http_response_buffer_size',
  'cancel_http_readonly_queries_on_client_close',
  'add_http_cors_header',
  'http_native_compression_disable_checksumming_on_decompress',
]);

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ParsedRequest {
  urlQuery: string | undefined;
  database: string | undefined;
  defaultFormat: string | undefined;
  queryId: string | undefined;
  /** `param_x=v` values, still in ClickHouse's escaped text form. */
  params: Record<string, string>;
  /** Engine settings from the URL. */
  settings: Record<string, string>;
  /** HTTP-interface settings (compression and the like). */
  http: Record<string, string>;
  credentials: { user: string; password: string } | undefined;
}

export function parseRequest(req: IncomingMessage, url: URL): ParsedRequest {
  const params: Record<string, string> = {};
  const settings: Record<string, string> = {};
  const http: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key.startsWith('param_')) {
      params[key.slice(6)] = value;
    } else if (HTTP_PARAMS.has(key)) {
      http[key] = value;
    } else {
      if (!SETTING_NAME.test(key)) throw new ServerException(CODES.UNKNOWN_SETTING, `Unknown setting '${key.slice(0, 100)}'`);
      if (value.includes('\0')) throw new ServerException(CODES.BAD_ARGUMENTS, `Value of setting '${key}' contains a NUL byte`);
      settings[key] = value;
    }
  }
  return {
    urlQuery: http.query,
    database: http.database ?? header(req, 'x-clickhouse-database'),
    defaultFormat: http.default_format ?? header(req, 'x-clickhouse-format'),
    queryId: http.query_id,
    params,
    settings,
    http,
    credentials: credentials(req, http),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Credentials the way ClickHouse takes them: Basic auth, X-ClickHouse-User/Key headers, or user/password parameters. */
function credentials(req: IncomingMessage, http: Record<string, string>): { user: string; password: string } | undefined {
  const auth = header(req, 'authorization');
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i === -1 ? { user: decoded, password: '' } : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  const user = header(req, 'x-clickhouse-user') ?? http.user;
  if (user !== undefined) return { user, password: header(req, 'x-clickhouse-key') ?? http.password ?? '' };
  return undefined;
}

/** `INSERT INTO t [(cols)] [SETTINGS ...] FORMAT f` followed by data, split into its parts. */
export interface InsertHeader {
  table: string;
  columns: string[] | undefined;
  format: string;
  /** Offset where the data starts in the text the header was found in. */
  dataOffset: number;
}

const INSERT_HEAD =
  /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?((?:`(?:[^`\\]|\\.)+`|[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:`(?:[^`\\]|\\.)+`|[A-Za-z_][A-Za-z0-9_]*))?)\s*(?:\(([^()]*)\))?\s*FORMAT\s+([A-Za-z0-9_]+)[ \t]*(?:\r?\n|$)/i;

export function parseInsertHeader(text: string): InsertHeader | undefined {
  const m = INSERT_HEAD.exec(text);
  if (!m || !m[1] || !m[3]) return undefined;
  const columns = m[2]
    ?.split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .map((c) => (c.startsWith('`') && c.endsWith('`') ? c.slice(1, -1).replace(/\\(.)/g, '$1') : c));
  return { table: m[1], columns: columns && columns.length > 0 ? columns : undefined, format: m[3], dataOffset: m[0].length };
}

/** The FORMAT a statement names at its end, if any. */
export function trailingFormat(sql: string): string | undefined {
  return /\bFORMAT\s+([A-Za-z0-9_]+)\s*(?:SETTINGS\b[^;]*)?;?\s*$/i.exec(sql)?.[1];
}

export function contentTypeFor(format: string): string {
  if (/^JSON/i.test(format) || format === 'NDJSON')
    return /EachRow|Lines|NDJSON/i.test(format) ? 'application/x-ndjson; charset=UTF-8' : 'application/json; charset=UTF-8';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^(RowBinary|Native|Parquet|Arrow|ORC|Avro|MsgPack|Protobuf)/i.test(format)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}
