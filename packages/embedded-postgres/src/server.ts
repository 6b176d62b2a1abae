import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { ConfigError, UnavailableError, type Logger } from '@tidemark/core';
import { Engine } from './engine';
import { backend } from './protocol';
import { scramVerifier } from './scram';
import { ClientSession } from './session';

export interface EmbeddedPostgresOptions {
  /** PGlite data directory (PGDATA); created and initialised if missing, reused if present. */
  dataDir: string;
  /** Address to listen on; default 127.0.0.1. There is no TLS: keep it on loopback. */
  host?: string;
  /**
   * The one user and its password (SCRAM-SHA-256; see resolvePostgresCredentials).
   * Any other user or a wrong password: FATAL 28P01 and the connection closed.
   */
  auth: { user: string; password: string };
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** The component's logger (callers pass `logger.child({ component: 'embedded-postgres' })`); sessions log through children of it. */
  logger: Logger;
  /** Client connections open at once; more are refused with SQLSTATE 53300. Default 100. */
  maxConnections?: number;
  /**
   * How long a connection may sit idle inside a transaction while other
   * connections wait for the engine before it is terminated (SQLSTATE
   * 25P03), so a client that forgot a transaction cannot stall every role.
   * 0 disables. Default 60 000.
   */
  idleInTransactionTimeoutMs?: number;
  /** Largest frontend message accepted, in bytes. Default 256 MiB. */
  maxMessageBytes?: number;
  /**
   * How often the data files and pg_control are synced to disk (the WAL is
   * synced at every commit; see durability.ts). Bounds how much WAL a
   * restart after a power loss replays. Default 5 000 ms.
   */
  dataSyncIntervalMs?: number;
  /**
   * Sync the WAL before a commit is answered (default true). false is for
   * throwaway data only (a benchmark's baseline): a power loss may then lose
   * the last seconds of commits.
   */
  syncCommits?: boolean;
}

export interface EmbeddedPostgres {
  /** postgres://USER:PASSWORD@HOST:PORT/postgres, for `new pg.Pool({ connectionString: url })`. */
  url: string;
  port: number;
  host: string;
  /** Stops accepting, ends every client session (rolling back open transactions) and closes PGlite cleanly. */
  close(): Promise<void>;
  /** Durability counters: WAL syncs after commits, data-directory passes (see durability.ts). */
  readonly durability: { readonly walSyncs: number; readonly filesSynced: number; readonly dataPasses: number; readonly lastWalSyncMs: number };
}

/** The one database PGlite holds; the URL names it and other names are refused. */
const DATABASE = 'postgres';

/** Host part of a URL that reaches `host` from this machine (a wildcard address is reached on loopback). */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts PGlite on `dataDir` and serves it on the Postgres wire protocol, so
 * the `pg` driver (and psql) talk to it as to a Postgres server.
 *
 * PGlite is a single backend. Client connections share it under a lock (see
 * ClientSession): each transaction, extended-protocol batch or COPY runs
 * alone, and transactions from different connections are serialized.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.logger;
  const host = opts.host ?? '127.0.0.1';
  const dataDir = path.resolve(opts.dataDir);
  const maxConnections = opts.maxConnections ?? 100;
  if (!opts.auth.user || !opts.auth.password) {
    throw new ConfigError('the embedded Postgres server refuses to start without a user and a non-empty password', {
      context: { keys: ['META_DATABASE_URL'] },
    });
  }
  // Only the verifier is kept for the sessions (PBKDF2 once per start).
  const auth = { user: opts.auth.user, verifier: scramVerifier(opts.auth.password) };
  const engine = await Engine.open(dataDir, log);
  engine.durability.enabled = opts.syncCommits ?? true;

  const sessions = new Set<ClientSession>();
  let nextId = 1;
  let closing: Promise<void> | undefined;

  const server = net.createServer((socket) => {
    if (closing) {
      socket.end(backend.error('FATAL', '57P03', 'the database system is shutting down'));
      return;
    }
    if (sessions.size >= maxConnections) {
      log.warn({ maxConnections }, 'refusing client: too many connections');
      socket.end(backend.error('FATAL', '53300', 'sorry, too many clients already'));
      return;
    }
    const id = nextId++;
    const session = new ClientSession({
      id,
      socket,
      engine,
      log: log.child({ session: id }),
      maxMessageBytes: opts.maxMessageBytes ?? 256 * 1024 * 1024,
      idleInTransactionTimeoutMs: opts.idleInTransactionTimeoutMs ?? 60_000,
      database: DATABASE,
      auth,
    });
    sessions.add(session);
    void session.done.then(() => sessions.delete(session));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await engine.close();
    throw new UnavailableError(`embedded Postgres cannot listen on ${host}:${opts.port ?? 0}: ${(err as Error).message}`, {
      context: { dependency: 'postgres', host, port: opts.port ?? 0 },
      cause: err,
    });
  }
  server.on('error', (err) => log.error({ err }, 'embedded Postgres listener failed'));
  let syncing: Promise<void> | undefined;
  const stopPasses = new AbortController();
  const dataSync = setInterval(() => {
    if (syncing) return;
    syncing = engine.durability
      .syncAll(1, stopPasses.signal)
      .catch((err: unknown) => log.error({ err }, 'embedded Postgres: syncing the data directory failed'))
      .finally(() => (syncing = undefined));
  }, opts.dataSyncIntervalMs ?? 5_000);
  dataSync.unref();

  const port = (server.address() as AddressInfo).port;
  const url = `postgres://${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.password)}@${urlHost(host)}:${port}/${DATABASE}`;
  log.info({ url: `postgres://${opts.auth.user}@${urlHost(host)}:${port}/${DATABASE}`, host, port, dataDir }, 'embedded Postgres listening');

  async function shutdown(): Promise<void> {
    const t0 = Date.now();
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sessions) s.terminate('57P01', 'terminating connection due to administrator command');
    // Each session rolls back what it left open before it counts as done.
    await Promise.all([...sessions].map((s) => s.done));
    await stopped;
    clearInterval(dataSync);
    // A periodic pass still walking the directory ends early (the final pass below redoes it all)
    // and is out of the way before the engine closes.
    stopPasses.abort();
    await syncing;
    const t1 = Date.now();
    await engine.close();
    const t2 = Date.now();
    // The clean shutdown's checkpoint is on disk before the process goes; 16 fsyncs at a time
    // (the libuv pool's size in the CLI), since nothing else competes for the disk any more.
    await engine.durability.syncAll(16);
    log.info({ ms: Date.now() - t0, sessionsMs: t1 - t0, engineMs: t2 - t1, syncMs: Date.now() - t2 }, 'embedded Postgres stopped');
  }

  return {
    url,
    port,
    host,
    close: () => (closing ??= shutdown()),
    durability: engine.durability.stats,
  };
}
