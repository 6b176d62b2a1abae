/**
 * (Over 400 lines on purpose: the stream's state machine — connection epochs,
 * the serial queue, the open transaction, the batch and the checkpoint — is
 * one object whose fields every handler reads; the slot, batch and landing
 * work it delegates lives in cdc-slot.ts, cdc-batch.ts and cdc-apply.ts.)
 *
 * CDC mode: one logical replication stream (pgoutput) per source, through
 * pg-logical-replication's LogicalReplicationService.
 *
 * What lands: for every changed key the stream keeps only its last change in
 * the batch (upsert or delete) with version = the commit LSN of the
 * transaction that made it (LSNs grow with commit order, and a key's changes
 * commit in order because of row locks). Upserts are landed by reading the
 * row's current state by key through the same SELECT expressions as the
 * snapshot — one formatting path, and TOASTed values an UPDATE left
 * unchanged (which pgoutput does not send) come back whole. A row that is
 * gone by then is skipped: its delete is later in the stream. Deletes land
 * tombstones. A primary-key update is a delete of the old key plus an upsert
 * of the new one. TRUNCATE tombstones every live key.
 *
 * Checkpoint: after every insert of a batch is confirmed, the end LSN of its
 * last commit is written to etl_sources, and only then confirmed to the
 * server (standby status update), so the slot never lets go of WAL whose
 * changes are not landed. A crash replays from the checkpoint; replayed
 * batches land the same versions again, which collapse.
 *
 * Idle sources: a transactional logical message (pg_logical_emit_message)
 * every heartbeat interval comes back through the stream in order; its
 * commit is confirmed like any batch, so the slot does not retain WAL while
 * the published tables are quiet, and its round trip is the lag probe that
 * keeps "last success" fresh for tables that have nothing to sync.
 *
 * A lost slot (dropped, or invalidated after max_slot_wal_keep_size) means
 * changes are gone: every CDC table of the source is reset to a new snapshot
 * (then reconciled, to catch deletes in the gap) and a new slot is created.
 */
import { LogicalReplicationService } from 'pg-logical-replication';
import { backoffDelay, classifyError, Scheduler, TimeoutError, type Logger } from '@tidemark/core';
import {
  addRows,
  advanceSourceLsn,
  ensureSourceState,
  getSourceState,
  listTableStates,
  quarantine,
  recordSuccess,
  resetTable,
  updateSource,
  type Phase,
} from '../checkpoint/store';
import type { TableConfig } from '../config/schema';
import { SchemaIncompatibleError } from '../errors';
import { readSourceTable } from '../source/catalog';
import { decimalToLsn, lsnToDecimal } from '../source/lsn';
import { RawPgoutputPlugin, type PgoutputMessage, type Tuple } from '../source/pgoutput';
import { ensureTarget } from '../target/ddl';
import { applyTableOps, tombstoneAll } from './cdc-apply';
import { Batch, microsToText, tupleKey, type Txn } from './cdc-batch';
import {
  createSlot,
  currentWalLsn,
  dropSlot,
  emitHeartbeat,
  HEARTBEAT_PREFIX,
  isSlotLostError,
  publicationHasTable,
  readSlot,
  slotGone,
  slotInfo as readSlotInfo,
  syncPublication as syncSourcePublication,
} from './cdc-slot';
import type { SourceDeps } from './deps';
import { buildPlan, configHash, type TablePlan } from './plan';

export { HEARTBEAT_PREFIX } from './cdc-slot';
export { microsToText } from './cdc-batch';

export interface CdcDeps extends SourceDeps {
  /** Heartbeat (and slot lag check) interval; default 10 s. */
  heartbeatMs?: number;
  /** Called after each landed batch (metrics). */
  onBatch?: (info: { rows: number; tables: string[]; lsn: string; lagSeconds: number | null }) => void;
}

interface TableEntry {
  cfg: TableConfig;
  plan?: TablePlan;
  generation?: number;
  phase?: Phase;
  /** A Relation message showed other columns than the plan: plan again before landing. */
  stale?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CdcStream {
  private readonly tables = new Map<string, TableEntry>();
  private service: LogicalReplicationService | undefined;
  private txn: Txn | undefined;
  private batch = new Batch();
  /** End LSN of the last landed-and-checkpointed commit: where a restart resumes. */
  private confirmed: string | null = null;
  private serial: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private running = false;
  private failures = 0;
  /** The flush check and the heartbeat: periodic jobs on core's scheduler, from start() to stop(). */
  private scheduler: Scheduler | undefined;
  private connected = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** A restart is scheduled (or being scheduled): further failures of the dead stream add nothing. */
  private restartPending = false;
  /** Incremented per connection; see subscribe(). */
  private epoch = 0;
  lastError: string | null = null;
  slotLagBytes: number | null = null;
  private readonly log: Logger;

  constructor(private readonly deps: CdcDeps) {
    this.log = deps.logger.child({ source: deps.source.name, slot: deps.source.cdc.slot });
    for (const t of deps.source.tables.filter((x) => x.mode === 'cdc')) this.tables.set(`${t.schema}.${t.name}`, { cfg: t });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  get confirmedLsn(): string | null {
    return this.confirmed;
  }

  /** Table runs hand their plan over (after snapshots, schema changes, resets). */
  setPlan(plan: TablePlan, phase: Phase, generation: number): void {
    const e = this.tables.get(`${plan.cfg.schema}.${plan.cfg.name}`);
    if (!e) return;
    e.plan = plan;
    e.phase = phase;
    e.generation = generation;
    e.stale = false;
  }

  private cdcTables(): TableConfig[] {
    return [...this.tables.values()].map((e) => e.cfg);
  }

  /**
   * Makes the publication list the source's CDC tables and makes sure the
   * slot exists, handling a lost one. Safe to call repeatedly.
   */
  async prepare(): Promise<void> {
    return this.serialSetup(() => this.doPrepare());
  }

  /**
   * Setup steps (slot, publication) of one source run one at a time: table
   * runs and the stream call them concurrently, and CREATE PUBLICATION or a
   * slot created twice would fail.
   */
  private serialSetup<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.setup.then(fn);
    this.setup = run.catch(() => undefined);
    return run;
  }

  private setup: Promise<unknown> = Promise.resolve();

  private async doPrepare(): Promise<void> {
    const { source, sourcePool: pool, meta } = this.deps;
    const state = await ensureSourceState(meta, source.name, source.cdc.slot, source.cdc.publication);
    if (source.cdc.managePublication) await this.syncPublication();
    const row = await readSlot(pool, source.cdc.slot);
    if (row && row.wal_status !== 'lost') {
      this.confirmed = state.confirmedLsn ?? row.confirmed;
      return;
    }
    if (row) {
      await dropSlot(pool, source.cdc.slot).catch(() => undefined);
      await this.slotLost('the slot was invalidated (the WAL it needed was removed)');
    } else if (state.confirmedLsn !== null) {
      await this.slotLost('the slot no longer exists');
    }
    this.confirmed = await createSlot(pool, source.cdc.slot);
    await updateSource(meta, source.name, { slotStatus: 'active', confirmedLsn: this.confirmed, lastError: null, slotName: source.cdc.slot });
    this.log.info({ lsn: this.confirmed }, 'replication slot created');
  }

  /** The publication holds exactly the configured CDC tables that exist. */
  async syncPublication(): Promise<void> {
    await syncSourcePublication(this.deps.sourcePool, this.deps.source.cdc.publication, this.cdcTables());
  }

  /** Before a CDC table's snapshot: the slot exists and the publication covers it. */
  async ensureTable(plan: TablePlan): Promise<void> {
    return this.serialSetup(() => this.doEnsureTable(plan));
  }

  private async doEnsureTable(plan: TablePlan): Promise<void> {
    if (plan.source.primaryKey.length === 0 && !['f', 'i'].includes(plan.source.replicaIdentity)) {
      throw new SchemaIncompatibleError(
        `${plan.cfg.key}: the table has no PRIMARY KEY, so deletes carry no key; ALTER TABLE ${plan.pgTable} REPLICA IDENTITY FULL (or add a primary key)`,
        { context: { table: plan.cfg.key } },
      );
    }
    if (!(await publicationHasTable(this.deps.sourcePool, this.deps.source.cdc.publication, plan.cfg.schema, plan.cfg.name))) {
      if (!this.deps.source.cdc.managePublication) {
        throw new SchemaIncompatibleError(`${plan.cfg.key}: not in publication ${this.deps.source.cdc.publication} (managePublication is off)`, {
          context: { table: plan.cfg.key },
        });
      }
      await this.syncPublication();
    }
    if (this.confirmed === null) await this.doPrepare();
  }

  /** Every CDC table of the source starts over; the source's checkpoint is dropped. */
  private async slotLost(reason: string): Promise<void> {
    const { meta, source } = this.deps;
    const message = `replication slot ${source.cdc.slot} lost: ${reason}; changes since the last checkpoint are gone, so every CDC table of source ${source.name} is snapshotted again (and reconciled)`;
    this.log.error(message);
    await updateSource(meta, source.name, { slotStatus: 'lost', lost: true, lastError: message, confirmedLsn: null });
    for (const t of this.cdcTables()) {
      await resetTable(meta, t.key, 'cdc', message.slice(0, 500));
      const e = this.tables.get(`${t.schema}.${t.name}`);
      if (e) {
        e.phase = 'pending';
        e.plan = undefined;
      }
    }
    this.confirmed = null;
  }

  /**
   * Starts streaming. Never throws: a source that cannot be reached (or a
   * slot that cannot be created) is logged, recorded on the source, and
   * retried with backoff, so one bad source does not stop the others.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    try {
      await this.prepare();
      await this.refreshStates();
      this.subscribe();
    } catch (err) {
      this.fail(err);
    }
    const hb = this.deps.heartbeatMs ?? 10_000;
    // Neither runs at start (the first flush check and heartbeat come one period in); both handle their own errors
    // (a failed flush restarts the stream through fail(), a failed heartbeat is only logged), so the scheduler never sees one.
    this.scheduler = new Scheduler(
      [
        {
          name: 'cdc-flush-check',
          everyMs: Math.max(50, Math.floor(this.deps.source.cdc.flushIntervalMs / 2)),
          runAtStart: false,
          run: () => this.exclusive(() => this.flushIfDue()).catch((err: unknown) => this.fail(err)),
        },
        {
          name: 'cdc-heartbeat',
          everyMs: hb,
          runAtStart: false,
          run: () => this.tick().catch((err: unknown) => this.log.warn({ err }, 'CDC heartbeat failed')),
        },
      ],
      this.log,
    );
    await this.scheduler.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.running = false;
    const scheduler = this.scheduler;
    this.scheduler = undefined;
    await scheduler?.stop();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.serial.catch(() => undefined);
    const s = this.service;
    this.service = undefined;
    this.connected = false;
    if (s) await s.destroy().catch(() => undefined);
    // The server's WAL sender lets go of the slot a moment after our socket closes; wait for it,
    // so a new stream (or an operator) can use the slot right after stop() resolves.
    for (let i = 0; i < 100; i++) {
      const info = await readSlotInfo(this.deps.sourcePool, this.deps.source.cdc.slot).catch(() => undefined);
      if (info?.active !== true) break;
      await sleep(50);
    }
  }

  /** Heartbeat: a logical message through the stream, and the slot's lag. */
  private async tick(): Promise<void> {
    if (!this.running || !this.connected) return;
    await emitHeartbeat(this.deps.sourcePool, this.deps.source.name);
    this.slotLagBytes = (await readSlotInfo(this.deps.sourcePool, this.deps.source.cdc.slot)).lagBytes;
    await updateSource(this.deps.meta, this.deps.source.name, { slotLagBytes: this.slotLagBytes });
    if (this.slotLagBytes !== null && this.slotLagBytes > this.deps.source.cdc.lagAlertBytes) {
      this.log.warn({ lagBytes: this.slotLagBytes, limit: this.deps.source.cdc.lagAlertBytes }, 'replication slot lag above the alert threshold');
    }
  }

  private subscribe(): void {
    if (this.stopping) return;
    const { source } = this.deps;
    const service = new LogicalReplicationService(
      { connectionString: source.url, application_name: `tidemark-etl-cdc:${source.name}` },
      // No automatic acknowledgement: the position is confirmed only after the batch is landed.
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.service = service;
    this.txn = undefined;
    this.batch = new Batch();
    // Messages of an earlier (failed) connection still queued are dropped: the restart replays them.
    const epoch = ++this.epoch;
    service.on('data', (lsn: string, msg: PgoutputMessage) =>
      this.exclusive(() => (epoch === this.epoch ? this.onMessage(lsn, msg) : Promise.resolve())).catch((err: unknown) => this.fail(err)),
    );
    service.on('heartbeat', (_lsn: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) void this.ack().catch(() => undefined);
    });
    service.on('start', () => {
      this.connected = true;
      this.failures = 0;
      this.log.info({ from: this.confirmed }, 'CDC stream started');
    });
    service.on('error', (err: Error) => this.fail(err));
    const plugin = new RawPgoutputPlugin(source.cdc.publication);
    service.subscribe(plugin, source.cdc.slot, this.confirmed ?? '0/0').catch((err: unknown) => this.fail(err));
  }

  /** Any failure: drop the stream and the unlanded batch; restart from the checkpoint after a backoff. */
  private fail(raw: unknown): void {
    if (this.stopping) return;
    const err = classifyError(raw, 'postgres');
    const message = err.message;
    if (this.service === undefined && this.restartPending) return;
    this.connected = false;
    this.lastError = message;
    const s = this.service;
    this.service = undefined;
    this.epoch++;
    void (s ? s.destroy() : Promise.resolve()).catch(() => undefined);
    this.restartPending = true;
    void this.scheduleRestart(err, isSlotLostError(raw));
  }

  /**
   * Restarts from the checkpoint after a backoff; at once when the slot is
   * lost (prepare() then starts the tables over). A lost-slot SQLSTATE is
   * confirmed by the catalog first: the same codes have other causes, which
   * must back off like any failure (cdc-slot.ts).
   */
  private async scheduleRestart(err: Error, suspect: boolean): Promise<void> {
    const lost = suspect && (await slotGone(this.deps.sourcePool, this.deps.source.cdc.slot).catch(() => false));
    const delay = lost ? 0 : backoffDelay(this.failures++, { initialDelayMs: 500, maxDelayMs: 30_000 });
    this.log.error({ err, retryInMs: delay, slotLost: lost }, 'CDC stream failed; restarting from the last checkpoint');
    void updateSource(this.deps.meta, this.deps.source.name, { slotStatus: lost ? 'lost' : 'error', lastError: err.message }).catch(() => undefined);
    if (this.stopping) {
      this.restartPending = false;
      return;
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restartPending = false;
      void this.exclusive(async () => {
        await this.prepare();
        await this.refreshStates();
        this.subscribe();
      }).catch((e: unknown) => this.fail(e));
    }, delay);
  }

  /** Runs `fn` after everything queued before it: messages, flushes and restarts never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.serial.then(fn, fn);
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async refreshStates(): Promise<void> {
    const states = await listTableStates(this.deps.meta);
    for (const s of states) {
      const e = this.tables.get(`${s.sourceSchema}.${s.sourceTable}`);
      if (!e || s.source !== this.deps.source.name) continue;
      if (e.generation !== s.generation) e.plan = undefined;
      e.phase = s.phase;
      e.generation = s.generation;
    }
  }

  /** The table's plan, built on first use; undefined when its events are not landed now. */
  private async entryFor(rel: { schema: string; name: string }): Promise<TableEntry | undefined> {
    const e = this.tables.get(`${rel.schema}.${rel.name}`);
    if (!e) return undefined;
    if (e.phase !== 'snapshot' && e.phase !== 'incremental') return undefined;
    if (!e.plan || e.stale) {
      try {
        const plan = buildPlan(e.cfg, await readSourceTable(this.deps.sourcePool, e.cfg.schema, e.cfg.name));
        const evolve = await ensureTarget(this.deps.ch, plan, this.deps.ddl);
        e.plan = plan;
        e.stale = false;
        if (evolve.resnapshot && e.phase === 'incremental') {
          await resetTable(this.deps.meta, e.cfg.key, 'cdc', `column(s) ${evolve.added.join(', ')} added with a default; existing rows re-read`);
          e.phase = 'pending';
          return undefined;
        }
      } catch (err) {
        const m = err instanceof Error ? err.message : String(err);
        this.log.error({ table: e.cfg.key, err }, 'CDC table quarantined');
        await quarantine(this.deps.meta, e.cfg.key, m, configHash(e.cfg));
        e.phase = 'quarantined';
        return undefined;
      }
    }
    return e;
  }

  private keyOf(e: TableEntry, t: Tuple | null | undefined): string[] | undefined {
    return e.plan ? tupleKey(e.plan.key, t) : undefined;
  }

  private async onMessage(_lsn: string, msg: PgoutputMessage): Promise<void> {
    if (this.stopping) return;
    switch (msg.tag) {
      case 'begin':
        this.txn = { version: lsnToDecimal(msg.finalLsn), commitTime: msg.commitTime, segments: [], heartbeat: false };
        return;
      case 'relation': {
        const e = this.tables.get(`${msg.schema}.${msg.name}`);
        if (e?.plan) {
          const known = e.plan.source.columns.map((c) => c.name).join(',');
          if (known !== msg.columns.map((c) => c.name).join(',')) e.stale = true;
        }
        return;
      }
      case 'insert':
      case 'update':
      case 'delete': {
        const txn = this.txn;
        if (!txn) return;
        const e = await this.entryFor(msg.relation);
        if (!e) return;
        const table = e.cfg.key;
        if (msg.tag === 'delete') {
          const key = this.keyOf(e, msg.key ?? msg.old);
          if (key) txn.segments.push({ kind: 'op', table, op: { key, kind: 'delete', version: txn.version } });
          return;
        }
        const key = this.keyOf(e, msg.new);
        if (!key) return;
        if (msg.tag === 'update') {
          const old = this.keyOf(e, msg.key ?? msg.old);
          if (old && JSON.stringify(old) !== JSON.stringify(key))
            txn.segments.push({ kind: 'op', table, op: { key: old, kind: 'delete', version: txn.version } });
        }
        txn.segments.push({ kind: 'op', table, op: { key, kind: 'upsert', version: txn.version } });
        return;
      }
      case 'truncate': {
        const txn = this.txn;
        if (!txn) return;
        const tables: string[] = [];
        for (const rel of msg.relations) {
          const e = await this.entryFor(rel);
          if (e) tables.push(e.cfg.key);
        }
        if (tables.length > 0) txn.segments.push({ kind: 'truncate', tables, version: txn.version });
        return;
      }
      case 'message':
        if (msg.prefix === HEARTBEAT_PREFIX && this.txn) this.txn.heartbeat = true;
        return;
      case 'commit': {
        const txn = this.txn;
        this.txn = undefined;
        if (!txn) return;
        for (const seg of txn.segments) {
          if (seg.kind === 'op') {
            this.batch.add(seg.table, seg.op);
          } else {
            // A barrier: what came before lands first, then the tombstones, then what follows
            // (same version; the later insert wins the tie under FINAL).
            await this.landBatch(false);
            await this.truncate(seg.tables, seg.version);
          }
        }
        this.batch.firstLsn ??= msg.commitLsn;
        this.batch.endLsn = msg.endLsn;
        this.batch.commitTime = msg.commitTime;
        if (txn.heartbeat) this.batch.heartbeat = true;
        if (this.batch.changes >= this.deps.source.cdc.maxBatchChanges || txn.heartbeat) await this.landBatch(true);
        return;
      }
      default:
        return;
    }
  }

  private async flushIfDue(): Promise<void> {
    if (!this.connected || this.txn) return;
    if (this.batch.endLsn === null) return;
    if (Date.now() - this.batch.startedAt >= this.deps.source.cdc.flushIntervalMs) await this.landBatch(true);
  }

  /** Tombstones every live key of the tables (TRUNCATE). */
  private async truncate(tables: string[], version: string): Promise<void> {
    for (const key of tables) {
      const e = [...this.tables.values()].find((x) => x.cfg.key === key);
      if (!e?.plan) continue;
      const rows = await tombstoneAll({ ...this.deps, logger: this.log }, e.plan, e.generation, version);
      this.log.info({ table: key, rows }, 'TRUNCATE replicated as tombstones');
    }
  }

  /**
   * Lands the batch, then (checkpoint = true) writes the checkpoint and
   * confirms it to the server. A mid-transaction landing (truncate barrier)
   * does not checkpoint: its transaction is not complete.
   */
  private async landBatch(checkpoint: boolean): Promise<void> {
    const batch = this.batch;
    // A barrier flush lands changes but keeps the commit bookkeeping: the
    // checkpoint after this transaction's commit covers them.
    this.batch = checkpoint ? new Batch() : batch.continuation();
    await this.refreshStates();
    const landed: { table: string; rows: number; generation: number; phase: Phase | undefined }[] = [];
    const batchId = `${batch.firstLsn ?? 'x'}-${batch.endLsn ?? 'open'}`;
    for (const [tableKey, ops] of batch.tables) {
      const e = [...this.tables.values()].find((x) => x.cfg.key === tableKey);
      if (!e || (e.phase !== 'snapshot' && e.phase !== 'incremental')) continue;
      const entry = await this.entryFor({ schema: e.cfg.schema, name: e.cfg.name });
      if (!entry?.plan) continue;
      const rows = await applyTableOps({ ...this.deps, logger: this.log }, entry.plan, entry.generation, ops.values(), batchId);
      landed.push({ table: tableKey, rows, generation: entry.generation ?? 0, phase: entry.phase });
    }
    if (!checkpoint) return;
    if (batch.endLsn === null) return;
    const commitAt = batch.commitTime === null ? null : new Date(Number(batch.commitTime / 1000n));
    await advanceSourceLsn(this.deps.meta, this.deps.source.name, batch.endLsn, commitAt);
    this.confirmed = batch.endLsn;
    await this.ack();
    const lagSeconds = batch.commitTime === null ? null : Math.max(0, (Date.now() * 1000 - Number(batch.commitTime)) / 1e6);
    const watermark = batch.commitTime === null ? null : microsToText(batch.commitTime);
    for (const l of landed) {
      await addRows(this.deps.meta, l.table, l.rows);
      if (l.phase === 'incremental') await recordSuccess(this.deps.meta, l.table, l.generation, { watermark, lagSeconds });
    }
    if (batch.heartbeat) {
      // Caught up to the heartbeat: every incremental table of this source is current.
      for (const e of this.tables.values()) {
        if (e.phase === 'incremental' && !landed.some((l) => l.table === e.cfg.key)) {
          await recordSuccess(this.deps.meta, e.cfg.key, e.generation ?? 0, { watermark, lagSeconds });
        }
      }
    }
    if (landed.length > 0)
      this.deps.onBatch?.({ rows: landed.reduce((n, l) => n + l.rows, 0), tables: landed.map((l) => l.table), lsn: batch.endLsn, lagSeconds });
  }

  /** Confirms the checkpointed position to the server (the library reports lsn + 1, so pass one less). */
  private async ack(): Promise<void> {
    if (!this.service || this.confirmed === null) return;
    const v = BigInt(lsnToDecimal(this.confirmed));
    if (v === 0n) return;
    await this.service.acknowledge(decimalToLsn(v - 1n));
  }

  /** For tests and status: the slot's row on the source. */
  async slotInfo(): Promise<{ exists: boolean; active: boolean; lagBytes: number | null }> {
    return readSlotInfo(this.deps.sourcePool, this.deps.source.cdc.slot);
  }

  /** Waits until the stream has confirmed at least the source's current WAL position (tests, benchmarks). */
  async waitCaughtUp(timeoutMs = 30_000): Promise<void> {
    const target = BigInt(lsnToDecimal(await currentWalLsn(this.deps.sourcePool)));
    const deadline = Date.now() + timeoutMs;
    // A heartbeat makes sure something commits after `target` even on a quiet source.
    await emitHeartbeat(this.deps.sourcePool, this.deps.source.name);
    while (Date.now() < deadline) {
      if (this.confirmed !== null && BigInt(lsnToDecimal(this.confirmed)) >= target) return;
      await sleep(25);
    }
    // Not a lost slot: the stream may still be restarting or behind; the caller may wait again.
    throw new TimeoutError(
      `CDC stream of ${this.deps.source.name} did not catch up within ${timeoutMs} ms (confirmed ${this.confirmed}, last error ${this.lastError})`,
      {
        context: { source: this.deps.source.name, slot: this.deps.source.cdc.slot },
      },
    );
  }

  /** Source state as recorded (for status). */
  async recorded() {
    return getSourceState(this.deps.meta, this.deps.source.name);
  }
}
