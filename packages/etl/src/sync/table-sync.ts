/**
 * One run of one table, under its lock: follow the source schema, then do
 * whatever the table needs next — snapshot (new or resumed), an incremental
 * cursor run, a full reload — and a reconciliation when it is due.
 *
 * Isolation: a run never throws for its table's problems. A failure is
 * recorded on the table (last_error, consecutive_failures) and returned;
 * an incompatible schema change or a config that no longer matches the
 * source quarantines only this table. Other tables are unaffected.
 */
import { classifyError, ValidationError, type TidemarkError } from '@tidemark/core';
import {
  ensureTableState,
  finishRun,
  finishSnapshot,
  requireTableState,
  quarantine,
  recordFailure,
  recordSuccess,
  resetTable,
  setColumns,
  startRun,
  type TableState,
} from '../checkpoint/store';
import type { TableConfig } from '../config/schema';
import { SchemaIncompatibleError } from '../errors';
import { readSourceTable } from '../source/catalog';
import { withRead } from '../source/session';
import { dropTarget, ensureTarget, type EvolveResult } from '../target/ddl';
import { runCursor } from './cursor';
import type { SyncDeps } from './deps';
import { withTableLock } from './lock';
import { buildPlan, configHash, landedColumns, type TablePlan } from './plan';
import { recheckQuarantine } from './quarantine';
import { reconcileTable, type ReconcileResult } from './reconcile';
import { horizonAsCursor, runChunks, startSnapshot } from './snapshot';

export interface TableRunResult {
  table: string;
  status: 'ok' | 'skipped' | 'failed' | 'quarantined';
  rows: number;
  snapshot?: { rows: number; chunks: number; finished: boolean };
  incremental?: { rows: number; lagSeconds: number; watermark: string };
  reconcile?: ReconcileResult;
  schema?: EvolveResult;
  /** Rows of this table still in the row quarantine after the run (sync/quarantine.ts). */
  quarantinedRows?: number;
  error?: TidemarkError;
}

export interface RunOptions {
  /** auto: when due (config reconcile.every); force: now; skip: not in this run. */
  reconcile?: 'auto' | 'force' | 'skip';
  /** CDC tables: makes sure the slot and publication cover the table before its snapshot. */
  ensureCdc?: (plan: TablePlan) => Promise<void>;
  /** Called with the plan once it is built (the CDC stream learns the table's columns from it). */
  onPlan?: (plan: TablePlan, state: TableState) => void;
}

/** Lock name: per target database and table, so two Tidemark deployments syncing one source do not block each other. */
export function tableLockName(deps: Pick<SyncDeps, 'ch'>, cfg: TableConfig): string {
  return `${deps.ch.database}/${cfg.key}`;
}

export async function runTable(deps: SyncDeps, cfg: TableConfig, opts: RunOptions = {}): Promise<TableRunResult> {
  const locked = await withTableLock(deps.sourcePool, tableLockName(deps, cfg), () => runLocked(deps, cfg, opts));
  if (!locked.acquired) {
    deps.logger.debug({ table: cfg.key }, 'previous run still in progress; skipped');
    return { table: cfg.key, status: 'skipped', rows: 0 };
  }
  return locked.value;
}

/**
 * A message that repeats itself ("X: X", from an error wrapping another whose
 * text it already quotes) is said once.
 */
export function sayOnce(message: string): string {
  const parts = message.split(': ');
  // Any run of segments immediately repeated ("a: X: X: b") is kept once.
  for (let n = Math.floor(parts.length / 2); n >= 1; n--) {
    for (let i = 0; i + 2 * n <= parts.length; i++) {
      if (parts.slice(i, i + n).join(': ') === parts.slice(i + n, i + 2 * n).join(': ')) {
        return sayOnce([...parts.slice(0, i + n), ...parts.slice(i + 2 * n)].join(': '));
      }
    }
  }
  return message;
}

/**
 * How long the schedule waits before running a failing table again: one
 * schedule interval after the first failure, doubling with every further
 * one, at most 5 minutes. Runs asked for explicitly (API, CLI) do not wait.
 */
export function backoffMs(everyMs: number, consecutiveFailures: number): number {
  if (consecutiveFailures <= 1) return 0;
  return Math.min(300_000, everyMs * 2 ** Math.min(consecutiveFailures - 1, 20));
}

async function reload(deps: SyncDeps, key: string): Promise<TableState> {
  return requireTableState(deps.meta, key);
}

/** Builds the plan and brings the target in line; problems here quarantine the table. */
async function prepare(deps: SyncDeps, cfg: TableConfig): Promise<{ plan: TablePlan; evolve: EvolveResult }> {
  const source = await readSourceTable(deps.sourcePool, cfg.schema, cfg.name);
  let plan: TablePlan;
  try {
    plan = buildPlan(cfg, source);
  } catch (err) {
    if (err instanceof ValidationError) throw new SchemaIncompatibleError(err.message, { cause: err, context: { table: cfg.key } });
    throw err;
  }
  const evolve = await ensureTarget(deps.ch, plan, deps.ddl);
  return { plan, evolve };
}

async function runLocked(deps: SyncDeps, cfg: TableConfig, opts: RunOptions): Promise<TableRunResult> {
  const key = cfg.key;
  const log = deps.logger.child({ table: key });
  let state = await ensureTableState(deps.meta, cfg);
  const hash = configHash(cfg);
  const result: TableRunResult = { table: key, status: 'ok', rows: 0 };
  let runId: number | undefined;
  try {
    if (state.phase === 'quarantined') {
      if (state.configHash === hash) {
        return { ...result, status: 'quarantined', error: new SchemaIncompatibleError(state.quarantineReason ?? 'quarantined', { context: { table: key } }) };
      }
      log.info({ reason: state.quarantineReason }, 'config changed since the quarantine: starting the table over');
      await resetTable(deps.meta, key, cfg.mode, `config changed after quarantine (${state.quarantineReason ?? ''})`.slice(0, 500));
      state = await reload(deps, key);
    }
    if (state.mode !== cfg.mode) {
      // Versions of different modes (xid vs LSN) do not compare: rebuild the target from a new snapshot.
      log.warn({ from: state.mode, to: cfg.mode }, 'sync mode changed: rebuilding the target table');
      await dropTarget(deps.ch, { targetTable: `${cfg.target}_v1`, targetView: cfg.target }, deps.ddl);
      await resetTable(deps.meta, key, cfg.mode, `mode changed from ${state.mode} to ${cfg.mode}`);
      state = await reload(deps, key);
    }
    const { plan, evolve } = await prepare(deps, cfg);
    result.schema = evolve;
    if (evolve.added.length > 0 || evolve.modified.length > 0) {
      log.info({ added: evolve.added, modified: evolve.modified }, 'source schema change followed in ClickHouse');
      await setColumns(deps.meta, key, landedColumns(plan));
      if (evolve.resnapshot && state.phase === 'incremental') {
        // Existing rows may hold values for the new column (a default): read them all again.
        await resetTable(deps.meta, key, cfg.mode, `column(s) ${evolve.added.join(', ')} added with a default; existing rows re-read`);
        state = await reload(deps, key);
      }
    }
    opts.onPlan?.(plan, state);

    const needsSnapshot = state.phase === 'pending' || state.phase === 'snapshot' || cfg.mode === 'full';
    // A snapshot of a later generation re-reads a table whose target already
    // holds rows (resync, lost CDC slot, ADD COLUMN with a default): rows
    // deleted meanwhile are only found by a reconciliation right after it.
    const reconcileAfterSnapshot = needsSnapshot && state.generation > 0 && cfg.mode !== 'full';
    if (needsSnapshot) {
      runId = await startRun(deps.meta, key, cfg.mode === 'full' ? 'full' : 'snapshot');
      if (cfg.mode === 'cdc') {
        if (!opts.ensureCdc) throw new ValidationError(`${key}: a cdc table needs its source's CDC stream (start the engine, not a single table run)`);
        await opts.ensureCdc(plan);
      }
      if (state.phase !== 'snapshot') state = await startSnapshot(deps, plan, state);
      opts.onPlan?.(plan, state);
      const snap = await runChunks(deps, plan, state);
      const horizon = state.snapshotHorizon;
      const cursorValue = cfg.mode === 'cursor' && horizon ? await withRead(deps.sourcePool, (c) => horizonAsCursor(c, plan, horizon)) : null;
      await finishSnapshot(deps.meta, key, state.generation, { cursorValue, cursorKey: null, watermark: horizon, lagSeconds: null });
      result.snapshot = { rows: snap.rows, chunks: snap.chunks, finished: true };
      result.rows += snap.rows;
      await finishRun(deps.meta, runId, 'ok', snap.rows);
      runId = undefined;
      state = await reload(deps, key);
      opts.onPlan?.(plan, state);
    }

    if (cfg.mode === 'cursor' && state.phase === 'incremental') {
      runId = await startRun(deps.meta, key, 'incremental');
      const inc = await runCursor(deps, plan, state);
      result.incremental = inc;
      result.rows += inc.rows;
      await finishRun(deps.meta, runId, 'ok', inc.rows);
      runId = undefined;
      state = await reload(deps, key);
    }

    if (state.phase === 'incremental') {
      // Quarantined rows are retried every run: one whose source row was fixed lands now.
      const q = await recheckQuarantine(deps, plan, state);
      result.rows += q.landed;
      result.quarantinedRows = q.remaining;
    }

    const due =
      opts.reconcile === 'force' ||
      (reconcileAfterSnapshot && opts.reconcile !== 'skip') ||
      cfg.mode === 'full' ||
      (opts.reconcile !== 'skip' && cfg.reconcile !== false && (state.reconAt === null || Date.now() - state.reconAt.getTime() >= cfg.reconcile.everyMs));
    if (due && state.phase === 'incremental') {
      runId = await startRun(deps.meta, key, 'reconcile');
      const rec = cfg.reconcile === false ? { repair: true, maxRepair: 100_000 } : cfg.reconcile;
      result.reconcile = await reconcileTable(deps, plan, state, { repair: rec.repair, maxRepair: rec.maxRepair });
      result.rows += result.reconcile.repaired;
      await finishRun(deps.meta, runId, 'ok', result.reconcile.repaired);
      runId = undefined;
    }

    if (cfg.mode !== 'cursor' && result.snapshot) {
      // Cursor runs record their own watermark; a finished snapshot (cdc) or full reload is a success too.
      await recordSuccess(deps.meta, key, state.generation, { watermark: state.snapshotHorizon, lagSeconds: null });
    }
    return result;
  } catch (raw) {
    const err = classifyError(raw, 'etl');
    if (runId !== undefined) await finishRun(deps.meta, runId, 'failed', result.rows, err.message).catch(() => undefined);
    if (err instanceof SchemaIncompatibleError) {
      log.error({ err }, 'table quarantined');
      await quarantine(deps.meta, key, err.message, hash);
      return { ...result, status: 'quarantined', error: err };
    }
    // Said once: the first failure with a message is an error; the same message again is a
    // warning only at 2, 4, 8, ... repeats (a missing table must not log every tick).
    const message = sayOnce(err.message);
    const repeats = state.lastError === message ? state.consecutiveFailures : 0;
    if (repeats === 0) log.error({ err }, 'table sync failed');
    else if ((repeats & (repeats - 1)) === 0) log.warn({ failures: repeats + 1, error: message }, 'table sync still failing');
    await recordFailure(deps.meta, key, message).catch((e: unknown) => log.error({ err: e }, 'could not record the failure'));
    return { ...result, status: 'failed', error: err };
  }
}
