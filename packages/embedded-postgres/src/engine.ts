import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InternalError, UnavailableError, type Logger } from '@tidemark/core';
import { DURABLE_START_PARAMS, WalSync } from './durability';
import { frontend, MSG } from './protocol';

/** Who holds the engine; told when someone else starts waiting for it. */
export interface EngineHolder {
  onContention(): void;
}

/**
 * First-come, first-served ownership of the engine. PGlite is one Postgres
 * backend (one session), so exactly one client session may drive it at a
 * time.
 *
 * Invariant: the engine is released only at a clean point: outside any
 * transaction block, extended-protocol batch or COPY (its last output was
 * ReadyForQuery with status I). So whoever acquires it next finds the
 * backend idle, as a fresh Postgres connection would be.
 */
export class EngineLock {
  private holder: EngineHolder | undefined;
  private readonly waiters: { who: EngineHolder; grant: () => void }[] = [];

  get heldBy(): EngineHolder | undefined {
    return this.holder;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(who: EngineHolder): Promise<void> {
    if (this.holder === undefined) {
      this.holder = who;
      return Promise.resolve();
    }
    if (this.holder === who) throw new InternalError('embedded Postgres: engine acquired twice by the same session');
    return new Promise((grant) => {
      this.waiters.push({ who, grant });
      this.holder?.onContention();
    });
  }

  release(who: EngineHolder): void {
    if (this.holder !== who) throw new InternalError('embedded Postgres: engine released by a session that does not hold it');
    const next = this.waiters.shift();
    this.holder = next?.who;
    next?.grant();
    // The new holder may already have others queued behind it.
    if (next && this.waiters.length > 0) next.who.onContention();
  }
}

/** Lock files of data directories opened by this process (a lock naming our own pid is stale unless listed here). */
const openedHere = new Set<string>();

const LOCK_FILE = 'tidemark-embedded.lock';

/**
 * Takes the data directory for this process. PGlite has no lock of its own:
 * two processes opening one directory both succeed and then overwrite each
 * other's pages, so a second opener must be refused. A lock left by a dead
 * process (crash, kill -9) is stale and taken over.
 */
function lockDataDir(dataDir: string): string {
  const lockPath = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      openedHere.add(lockPath);
      return lockPath;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
    if (Number.isInteger(owner) && owner > 0 && isRunning(owner) && (owner !== process.pid || openedHere.has(lockPath))) {
      throw new UnavailableError(`embedded Postgres data directory ${dataDir} is in use by process ${owner}`, {
        context: { dependency: 'postgres', dataDir, pid: owner },
      });
    }
    fs.rmSync(lockPath, { force: true });
  }
  throw new UnavailableError(`embedded Postgres data directory ${dataDir}: could not take ${LOCK_FILE}`, { context: { dependency: 'postgres', dataDir } });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The code of the engine thread, kept as source text so the thread runs the
 * same way from dist/ and under jest: PGlite's CommonJS build loads its WASM
 * with dynamic import(), which a vm sandbox (jest) refuses, while a worker
 * thread is a plain Node context. Requests are handled one at a time in
 * arrival order; the main thread's EngineLock decides whose they are.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);
let db;
// Transfer the output without copying when it owns its whole buffer (exec
// results do); otherwise (startup replies point into PGlite's receive
// buffer) copy first, so PGlite's own memory is never detached.
const owned = (u8) => (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength ? u8 : u8.slice());
parentPort.on('message', async (req) => {
  try {
    if (req.op === 'exec') {
      const out = owned(db.execProtocolRawSync(req.data));
      parentPort.postMessage({ id: req.id, out }, [out.buffer]);
    } else if (req.op === 'open') {
      db = new PGlite(req.dataDir, { startParams: [...PGlite.defaultStartParams, ...req.extraStartParams] });
      await db.waitReady;
      parentPort.postMessage({ id: req.id });
    } else if (req.op === 'close') {
      if (db) await db.close();
      db = undefined;
      parentPort.postMessage({ id: req.id });
    }
  } catch (err) {
    parentPort.postMessage({ id: req.id, error: String((err && err.stack) || err) });
  }
});
`;

type Reply = { id: number; out?: Uint8Array; error?: string };

/**
 * PGlite (Postgres compiled to WASM) opened on a data directory in a worker
 * thread, driven only through raw protocol messages. A statement runs
 * synchronously inside PGlite, so the thread keeps the hosting process's
 * event loop free while it runs (a slow metadata query does not stall an API
 * server in the same process).
 */
export class Engine {
  readonly lock = new EngineLock();
  /** Syncs the WAL after commits and the data files periodically (see durability.ts). */
  readonly durability: WalSync;
  /** ParameterStatus pairs the backend reports at connection start, replayed to every client. */
  parameters: ReadonlyMap<string, string> = new Map();
  private nextId = 1;
  private readonly inflight = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly dataDir: string,
    private readonly lockPath: string,
    private readonly log: Logger,
  ) {
    this.durability = new WalSync(dataDir);
    worker.on('message', (reply: Reply) => {
      const call = this.inflight.get(reply.id);
      this.inflight.delete(reply.id);
      call?.resolve(reply);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`engine thread exited with code ${code}`)));
  }

  static async open(dataDir: string, log: Logger): Promise<Engine> {
    fs.mkdirSync(dataDir, { recursive: true });
    const lockPath = lockDataDir(dataDir);
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pglitePath: require.resolve('@electric-sql/pglite') } });
    const engine = new Engine(worker, dataDir, lockPath, log);
    try {
      const t0 = Date.now();
      // A path (not memory:// or idb://) makes PGlite use NODEFS: every page
      // write goes straight to files under dataDir, so syncToFs is a no-op and
      // the raw calls need no flush step. PGlite runs Postgres with fsync off
      // (-F), and its fsync calls are no-ops under WASM: `durability` (WalSync)
      // syncs the WAL from this thread before a commit is answered.
      await engine.call({ op: 'open', dataDir, extraStartParams: DURABLE_START_PARAMS });
      // One startup packet so the backend initialises its session as for a
      // client connection, and tells us the parameters to report to clients.
      const out = await engine.exec(frontend.startup({ user: 'postgres', database: 'postgres' }));
      const parameters = new Map<string, string>();
      for (let pos = 0; pos + 5 <= out.length; pos += 1 + out.readInt32BE(pos + 1)) {
        if (out[pos] !== MSG.ParameterStatus) continue;
        const body = out.subarray(pos + 5, pos + 1 + out.readInt32BE(pos + 1));
        const nameEnd = body.indexOf(0);
        parameters.set(body.toString('utf8', 0, nameEnd), body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1)));
      }
      engine.parameters = parameters;
      log.info({ dataDir, ms: Date.now() - t0, serverVersion: parameters.get('server_version') }, 'PGlite engine open');
      return engine;
    } catch (err) {
      await engine.close().catch(() => undefined);
      throw new UnavailableError(`embedded Postgres: cannot open PGlite on ${dataDir}: ${(err as Error).message}`, {
        context: { dependency: 'postgres', dataDir },
        cause: err,
      });
    }
  }

  /**
   * Runs `messages` (whole frontend messages of one client) and returns the
   * backend's output. Only the current lock holder may call this, and it
   * awaits each call before the next.
   */
  async exec(messages: Buffer): Promise<Buffer> {
    // A fresh, exactly-sized copy can be transferred to the thread; socket
    // chunks are often views into a larger pooled buffer.
    const data = new Uint8Array(messages);
    const reply = await this.call({ op: 'exec', data }, [data.buffer]);
    const out = reply.out ?? new Uint8Array(0);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  /** Shuts the backend down cleanly (checkpoint), so the next open finds every committed row; then ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (!this.failure) await this.call({ op: 'close' });
      } finally {
        this.failure ??= new InternalError('embedded Postgres: engine is closed');
        await this.worker.terminate();
        fs.rmSync(this.lockPath, { force: true });
        openedHere.delete(this.lockPath);
        this.log.info({ dataDir: this.dataDir }, 'PGlite engine closed');
      }
    })();
    return this.closing;
  }

  private call(req: { op: string; [k: string]: unknown }, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.inflight.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    }).then((reply) => {
      if (reply.error !== undefined) throw new InternalError(`PGlite: ${reply.error.split('\n')[0] ?? 'failed'}`, { context: { stack: reply.error } });
      return reply;
    });
  }

  /** The thread died or failed: every pending and later call fails; sessions end with a FATAL error. */
  private fail(err: Error): void {
    if (!this.failure && !this.closing) this.log.error({ err }, 'embedded Postgres engine thread failed');
    this.failure ??= new UnavailableError(`embedded Postgres engine thread failed: ${err.message}`, { context: { dependency: 'postgres' }, cause: err });
    for (const call of this.inflight.values()) call.reject(this.failure);
    this.inflight.clear();
  }
}
