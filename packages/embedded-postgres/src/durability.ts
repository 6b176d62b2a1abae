import fs from 'node:fs';
import path from 'node:path';

/**
 * Makes PGlite's commits durable.
 *
 * PGlite runs Postgres with fsync off, and under WASM the fsync calls
 * Postgres would make are no-ops anyway (Emscripten's NODEFS does not
 * forward them), so a committed transaction reaches only the OS page cache:
 * a process crash loses nothing, a power loss may lose the last seconds.
 *
 * Postgres's own rule is "the WAL up to a commit record is on disk before the
 * commit is acknowledged". This class restores it from outside: after every
 * batch that leaves the backend idle (so any transaction in it has ended),
 * and before the answer goes back to the client, the WAL segments written
 * since the last sync are fdatasync'ed, and pg_wal itself is fsync'ed when a
 * segment was created (so the new file's name is durable too).
 *
 * Invariant: the WAL is synced before the data files. Data files and
 * pg_control are synced by `syncAll()` (every `dataSyncMs` from the server,
 * and at close): WAL first, then every changed file, then `global/`
 * (pg_control) last, so the checkpoint pg_control names has its WAL and its
 * pages on disk. WAL segments are not recycled (`wal_recycle=off`, see
 * DURABLE_START_PARAMS), so a stale pg_control after a power loss still
 * finds the WAL to replay from.
 */
export class WalSync {
  private readonly wal: string;
  /** Segment name -> "mtimeMs/size" at the last sync. */
  private readonly synced = new Map<string, string>();
  private dataSynced = new Map<string, string>();
  private running: Promise<void> | undefined;
  /** false: commits are answered without a WAL sync (throwaway data only; see EmbeddedPostgresOptions.syncCommits). */
  enabled = true;
  /** Counters for the metrics endpoint and the tests. */
  readonly stats = { walSyncs: 0, filesSynced: 0, dataPasses: 0, lastWalSyncMs: 0 };

  constructor(private readonly dataDir: string) {
    this.wal = path.join(dataDir, 'pg_wal');
  }

  /** fdatasync of every WAL segment changed since the last call (one at a time: concurrent callers share a run). */
  async syncWal(): Promise<void> {
    if (!this.enabled) return;
    while (this.running) await this.running;
    this.running = this.syncWalNow().finally(() => (this.running = undefined));
    return this.running;
  }

  private async syncWalNow(): Promise<void> {
    const t0 = performance.now();
    let names: string[];
    try {
      names = await fs.promises.readdir(this.wal);
    } catch {
      return; // not initialised yet
    }
    let created = false;
    let any = false;
    for (const name of names) {
      if (!/^[0-9A-F]{24}$/.test(name)) continue;
      const file = path.join(this.wal, name);
      const st = await fs.promises.stat(file).catch(() => undefined);
      if (!st) continue;
      const sig = `${st.mtimeMs}/${st.size}`;
      const before = this.synced.get(name);
      if (before === sig) continue;
      if (before === undefined && this.synced.size > 0) created = true;
      await syncFile(file, true);
      this.synced.set(name, sig);
      any = true;
    }
    for (const name of this.synced.keys()) if (!names.includes(name)) this.synced.delete(name);
    if (created) await syncFile(this.wal, false);
    if (any) {
      this.stats.walSyncs++;
      this.stats.lastWalSyncMs = performance.now() - t0;
    }
  }

  /**
   * WAL, then every file changed since the last pass, then global/ (pg_control) and the
   * directories. `concurrency` files of a step are synced at once (default 1: the periodic
   * pass stays a trickle beside the queries); the stop passes more, so a clean stop does not
   * take seconds of one-at-a-time fsyncs. Steps never overlap, so the order above holds.
   * An aborted pass (`signal`) ends early and records nothing: the next pass does it all.
   */
  async syncAll(concurrency = 1, signal?: AbortSignal): Promise<void> {
    await this.syncWal();
    const seen = new Map<string, string>();
    const files: string[] = [];
    const lastDirs: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (p === this.wal) continue;
          await walk(p);
          lastDirs.push(p);
        } else if (e.isFile()) {
          if (path.dirname(p) === path.join(this.dataDir, 'global')) continue; // last
          files.push(p);
        }
      }
    };
    await walk(this.dataDir);
    await eachLimited(files, concurrency, signal, async (p) => {
      const st = await fs.promises.stat(p).catch(() => undefined);
      if (!st) return;
      const sig = `${st.mtimeMs}/${st.size}`;
      seen.set(p, sig);
      if (this.dataSynced.get(p) !== sig) {
        await syncFile(p, true);
        this.stats.filesSynced++;
      }
    });
    const global = path.join(this.dataDir, 'global');
    const globalFiles = (await fs.promises.readdir(global).catch(() => [] as string[])).map((name) => path.join(global, name));
    await eachLimited(globalFiles, concurrency, signal, (p) => syncFile(p, true));
    await eachLimited(lastDirs, concurrency, signal, (d) => syncFile(d, false));
    if (signal?.aborted) return;
    await syncFile(this.dataDir, false);
    this.dataSynced = seen;
    this.stats.dataPasses++;
  }
}

/** Runs `fn` over `items`, at most `limit` at a time, none started once `signal` aborted; resolves when all are done (rejects with the first failure). */
async function eachLimited<T>(items: readonly T[], limit: number, signal: AbortSignal | undefined, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Start parameters added to PGlite's defaults: keep WAL segments instead of recycling them (see WalSync). */
export const DURABLE_START_PARAMS = ['-c', 'wal_recycle=off', '-c', 'wal_keep_size=256MB'];

async function syncFile(p: string, data: boolean): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(p, 'r');
    if (data) await fh.datasync();
    else await fh.sync();
  } catch (err) {
    // A file removed between readdir and open (a dropped relation, a removed segment) has nothing to keep.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  } finally {
    await fh?.close();
  }
}
