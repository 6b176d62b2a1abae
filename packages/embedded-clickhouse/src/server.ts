import crypto from 'node:crypto';
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Logger } from 'pino';
import { closeHttpServer, ConfigError, PayloadTooLargeError, readBody, splitStatements, statementKeyword } from '@tidemark/core';
import { CODES, httpStatusFor, normalizeEngineMessage, ServerException } from './codes';
import { ChdbEngine, FORMAT_ALIASES, RAW_INSERT_FORMATS, type EngineResult, type ExecContext } from './engine';
import { buildCatalogue, checkSettings, checkStatement } from './guard';
import { contentTypeFor, parseInsertHeader, parseRequest, trailingFormat, type ParsedRequest } from './request';

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);
const brotli = promisify(zlib.brotliCompress);

export interface EmbeddedUser {
  name: string;
  /** Never empty: the front refuses to start with an empty password. */
  password: string;
  /** Every statement runs with readonly=1: no writes, no DDL, no table functions, no setting changes in SQL. */
  readonly: boolean;
  /**
   * Upper bounds on limit settings for this user (e.g. max_execution_time).
   * A request may lower them, never raise them or turn them off.
   */
  limits?: Record<string, number>;
}

export interface EmbeddedClickHouseOptions {
  /** chDB data directory; created if missing. */
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Every request must authenticate as one of these (no anonymous access); see resolveClickHouseCredentials. */
  users: EmbeddedUser[];
  logger: Logger;
  /** Largest request body accepted, after decompression. */
  maxBodyBytes?: number;
  /** Statements running at once; more are answered with TOO_MANY_SIMULTANEOUS_QUERIES (503). */
  maxConcurrentQueries?: number;
  /** Name in X-ClickHouse-Server-Display-Name. */
  displayName?: string;
}

export interface EmbeddedClickHouse {
  url: string;
  port: number;
  host: string;
  version: string;
  engine: ChdbEngine;
  close(): Promise<void>;
}

/** Settings that are limits: 0 means "no limit", so a request may not set 0 under a cap. */
function checkLimits(user: EmbeddedUser, settings: Record<string, string>): void {
  if (!user.readonly) return;
  if ('readonly' in settings) throw new ServerException(CODES.READONLY, `Cannot modify 'readonly' setting in readonly mode`);
  for (const [name, cap] of Object.entries(user.limits ?? {})) {
    const asked = settings[name];
    if (asked === undefined) {
      settings[name] = String(cap);
      continue;
    }
    const n = Number(asked);
    if (!Number.isFinite(n) || n <= 0 || n > cap) {
      throw new ServerException(452, `Setting ${name} should not be greater than ${cap} for user ${user.name} (got ${asked})`);
    }
  }
}

function sameSecret(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/**
 * Starts chDB in this process and serves it on ClickHouse's HTTP interface,
 * so @clickhouse/client, curl and Grafana talk to it as to a server.
 */
export async function startEmbeddedClickHouse(opts: EmbeddedClickHouseOptions): Promise<EmbeddedClickHouse> {
  const log = opts.logger;
  // Closed by default: no user without a password, no anonymous fallback.
  if (opts.users.length === 0) throw new ConfigError('the embedded ClickHouse server needs at least one user', { context: { keys: ['CLICKHOUSE_USER'] } });
  for (const u of opts.users) {
    if (u.password === '') {
      throw new ConfigError(
        `the embedded ClickHouse server refuses to start with an empty password for user ${u.name}; leave the password unset to use the generated one`,
        {
          context: { keys: [u.readonly ? 'CLICKHOUSE_READONLY_PASSWORD' : 'CLICKHOUSE_PASSWORD'] },
        },
      );
    }
  }
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const engine = new ChdbEngine(opts.dataDir);
  // The host guard's refused names come from this engine's own catalogue.
  const catalogue = buildCatalogue(engine.tableFunctions);
  const version = engine.version;
  const maxBody = opts.maxBodyBytes ?? 512 * 1024 * 1024;
  const maxConcurrent = opts.maxConcurrentQueries ?? 100;
  const displayName = opts.displayName ?? 'tidemark-embedded';
  const users = new Map(opts.users.map((u) => [u.name, u]));
  let inFlight = 0;

  function authenticate(p: ParsedRequest): EmbeddedUser {
    // No credentials is not "default with an empty password" here: it is refused like a wrong password.
    const creds = p.credentials;
    if (!creds)
      throw new ServerException(CODES.AUTHENTICATION_FAILED, 'default: Authentication failed: password is incorrect, or there is no user with such name');
    const user = users.get(creds.user);
    // Same message for unknown user and wrong password, as ClickHouse does.
    if (!user || !sameSecret(user.password, creds.password)) {
      throw new ServerException(
        CODES.AUTHENTICATION_FAILED,
        `${creds.user.slice(0, 64)}: Authentication failed: password is incorrect, or there is no user with such name`,
      );
    }
    return user;
  }

  async function execute(req: IncomingMessage, p: ParsedRequest, user: EmbeddedUser): Promise<{ result: EngineResult; format: string }> {
    const body = req.method === 'POST' ? await readBody(req, maxBody).catch(bodyError) : Buffer.alloc(0);
    const readonly = user.readonly || req.method === 'GET';
    const settings = { ...p.settings };
    checkSettings(settings);
    checkLimits(user, settings);
    const database = p.database ?? 'default';

    // INSERT ... FORMAT f with data: the data goes to the engine's parser untouched.
    const headerText = p.urlQuery ?? body.subarray(0, Math.min(body.length, 64 * 1024)).toString('utf8');
    const insert = parseInsertHeader(headerText);
    if (insert) {
      const format = FORMAT_ALIASES[insert.format] ?? insert.format;
      checkStatement(headerText.slice(0, insert.dataOffset), catalogue, p.params);
      if (readonly) throw new ServerException(CODES.READONLY, `${user.name}: Cannot execute query in readonly mode`);
      const data =
        p.urlQuery !== undefined
          ? insert.dataOffset < p.urlQuery.length
            ? Buffer.concat([Buffer.from(p.urlQuery.slice(insert.dataOffset)), body])
            : body
          : body.subarray(Buffer.byteLength(headerText.slice(0, insert.dataOffset)));
      if (RAW_INSERT_FORMATS.has(format)) {
        const ctx: ExecContext = { database, readonly: false, settings: {} };
        return { result: await engine.insertRaw(ctx, insert.table, insert.columns, format, data, settings), format };
      }
      if (/^(RowBinary|Native|Parquet|Arrow|ArrowStream|ORC|Avro|MsgPack|Protobuf|CapnProto|BSONEachRow)/i.test(format)) {
        throw new ServerException(
          CODES.NOT_IMPLEMENTED,
          `INSERT in binary format ${format} is not supported by the embedded server; use a text format such as JSONEachRow`,
        );
      }
      // Other text formats (Values, JSON, TSKV, ...): inline data after the header.
      const sql = `${headerText.slice(0, insert.dataOffset)}${data.toString('utf8')}`;
      // Values data are expressions (file('...') would be evaluated): checked as SQL.
      if (/^Values$/i.test(format)) checkStatement(sql, catalogue, p.params);
      return { result: await engine.query({ database, readonly: false, settings }, sql, p.params, 'TabSeparated'), format };
    }

    const sql = p.urlQuery !== undefined ? (body.length > 0 ? `${p.urlQuery}\n${body.toString('utf8')}` : p.urlQuery) : body.toString('utf8');
    const statements = splitStatements(sql);
    if (statements.length === 0) throw new ServerException(CODES.SYNTAX_ERROR, 'Empty query');
    if (statements.length > 1) throw new ServerException(CODES.SYNTAX_ERROR, 'Syntax error (Multi-statements are not allowed)');
    const statement = statements[0] as string;
    checkStatement(statement, catalogue, p.params);
    // Without a session, SET and USE last for their own request only (as on a
    // ClickHouse server): they run on a connection of their own that is then closed.
    const isolated = ['SET', 'USE'].includes(statementKeyword(statement));
    const format = trailingFormat(statement) ?? p.defaultFormat ?? 'TabSeparated';
    const result = await engine.query({ database, readonly, settings, isolated }, statement, p.params, p.defaultFormat ?? 'TabSeparated');
    return { result, format };
  }

  async function respondCompressed(req: IncomingMessage, res: ServerResponse, p: ParsedRequest | undefined, status: number, body: Buffer): Promise<void> {
    const accept = String(req.headers['accept-encoding'] ?? '');
    const wanted = p?.http.enable_http_compression === '1';
    let out = body;
    if (wanted && body.length > 0) {
      if (/\bgzip\b/.test(accept)) {
        out = await gzip(body, { level: Number(p?.http.http_zlib_compression_level ?? 3) });
        res.setHeader('Content-Encoding', 'gzip');
      } else if (/\bdeflate\b/.test(accept)) {
        out = await deflate(body);
        res.setHeader('Content-Encoding', 'deflate');
      } else if (/\bbr\b/.test(accept)) {
        out = await brotli(body);
        res.setHeader('Content-Encoding', 'br');
      }
    }
    res.statusCode = status;
    res.setHeader('Content-Length', out.length);
    res.end(out);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.setHeader('X-ClickHouse-Server-Display-Name', displayName);
    res.setHeader('Keep-Alive', 'timeout=10');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/ping' || path === '/replicas_status' || (path === '/' && req.method === 'GET' && !url.searchParams.has('query'))) {
      res.setHeader('Content-Type', 'text/html; charset=UTF-8');
      res.end('Ok.\n');
      return;
    }
    if (path !== '/' && path !== '/query') {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=UTF-8');
      res.end(`There is no handle ${url.pathname.slice(0, 200)}\n\nUse / or /ping.\n`);
      return;
    }
    const queryId = url.searchParams.get('query_id') || crypto.randomUUID();
    res.setHeader('X-ClickHouse-Query-Id', queryId);
    res.setHeader('X-ClickHouse-Timezone', 'UTC');
    let parsed: ParsedRequest | undefined;
    try {
      if (req.method !== 'GET' && req.method !== 'POST') {
        throw new ServerException(CODES.BAD_ARGUMENTS, `HTTP method ${req.method} is not supported; use GET or POST`);
      }
      parsed = parseRequest(req, url);
      const user = authenticate(parsed);
      if (inFlight >= maxConcurrent) {
        throw new ServerException(CODES.TOO_MANY_SIMULTANEOUS_QUERIES, `Too many simultaneous queries. Maximum: ${maxConcurrent}`);
      }
      inFlight++;
      let out: { result: EngineResult; format: string };
      try {
        out = await execute(req, parsed, user);
      } finally {
        inFlight--;
      }
      const r = out.result;
      res.setHeader('X-ClickHouse-Format', out.format);
      res.setHeader('Content-Type', contentTypeFor(out.format));
      res.setHeader(
        'X-ClickHouse-Summary',
        JSON.stringify({
          read_rows: String(r.readRows),
          read_bytes: String(r.readBytes),
          written_rows: String(r.writtenRows),
          written_bytes: String(r.writtenBytes),
          total_rows_to_read: String(r.readRows),
          result_rows: '0',
          result_bytes: String(r.body.length),
          elapsed_ns: String(r.elapsedNs),
        }),
      );
      await respondCompressed(req, res, parsed, 200, r.body);
    } catch (err) {
      const { code, text } = toException(err, version);
      const status = httpStatusFor(code);
      log[status >= 500 ? 'error' : 'debug']({ code, status, queryId, err: status >= 500 ? err : undefined }, 'query failed');
      if (!res.headersSent) {
        res.setHeader('X-ClickHouse-Exception-Code', String(code));
        res.setHeader('Content-Type', 'text/plain; charset=UTF-8');
        await respondCompressed(req, res, parsed, status, Buffer.from(text)).catch(() => res.destroy());
      } else {
        res.destroy();
      }
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'request handler crashed');
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  server.keepAliveTimeout = 10_000;
  server.requestTimeout = 0; // long analytical queries are bounded by max_execution_time, not the socket
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8123, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url, dataDir: opts.dataDir, version }, 'embedded ClickHouse serving the HTTP interface');

  return {
    url,
    port,
    host,
    version,
    engine,
    async close() {
      const t0 = Date.now();
      // Statements in flight finish (up to the grace period); a client's idle keep-alive socket
      // does not hold the stop for the whole keepAliveTimeout.
      await closeHttpServer(server, { graceMs: 2_000, logger: log, name: 'embedded-clickhouse' });
      await engine.close();
      log.info({ ms: Date.now() - t0 }, 'embedded ClickHouse stopped');
    },
  };
}

/** A body that could not be read, as the exception ClickHouse gives for it. */
function bodyError(err: unknown): never {
  if (err instanceof PayloadTooLargeError) throw new ServerException(CODES.TOO_LARGE_STRING_SIZE, `Request body exceeds the limit (${err.message})`);
  throw new ServerException(CODES.CANNOT_DECOMPRESS, err instanceof Error ? err.message : String(err));
}

/** Any failure as (ClickHouse code, wire text). */
function toException(err: unknown, version: string): { code: number; text: string } {
  if (err instanceof ServerException) return { code: err.code, text: err.render(version) };
  const e = err as { clickhouseCode?: number; name?: string; message?: string };
  if (typeof e.clickhouseCode === 'number' && e.clickhouseCode > 0) {
    return { code: e.clickhouseCode, text: normalizeEngineMessage(e.clickhouseCode, e.message ?? '', version) };
  }
  if (e.name === 'ChdbBindError') {
    return { code: CODES.BAD_QUERY_PARAMETER, text: new ServerException(CODES.BAD_QUERY_PARAMETER, e.message ?? 'bad query parameter').render(version) };
  }
  const m = /Code: (\d+)\./.exec(e.message ?? '');
  if (m?.[1]) return { code: Number(m[1]), text: normalizeEngineMessage(Number(m[1]), e.message ?? '', version) };
  return { code: CODES.UNKNOWN_EXCEPTION, text: new ServerException(CODES.UNKNOWN_EXCEPTION, e.message ?? String(err)).render(version) };
}
