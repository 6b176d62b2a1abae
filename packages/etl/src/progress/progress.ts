/**
 * Progress of long work (snapshots, big incremental catch-ups): rows done,
 * rows per second, and an ETA, reported through a callback at most every
 * `intervalMs` and once at the end. The default callback logs; a CLI can pass
 * a printer writing to a stream (progressPrinter).
 */
import type { Logger } from '@tidemark/core';

export interface ProgressEvent {
  table: string;
  phase: 'snapshot' | 'incremental' | 'reconcile' | 'full';
  rows: number;
  /** Estimate of the rows the whole job covers (0 when unknown). */
  totalRows: number;
  rowsPerSecond: number;
  /** Seconds left at the current rate (null when unknown). */
  etaSeconds: number | null;
  elapsedSeconds: number;
  done: boolean;
  chunksDone?: number;
  chunksTotal?: number;
}

export type ProgressListener = (e: ProgressEvent) => void;

export class Progress {
  private rows = 0;
  private readonly started = Date.now();
  private lastEmit = 0;
  chunksDone = 0;

  constructor(
    private readonly base: {
      table: string;
      phase: ProgressEvent['phase'];
      totalRows: number;
      chunksTotal?: number;
      alreadyDone?: number;
      chunksAlreadyDone?: number;
    },
    private readonly listener: ProgressListener,
    private readonly intervalMs = 2_000,
  ) {
    this.chunksDone = base.chunksAlreadyDone ?? 0;
  }

  get count(): number {
    return this.rows;
  }

  add(rows: number): void {
    this.rows += rows;
    const now = Date.now();
    if (now - this.lastEmit >= this.intervalMs) {
      this.lastEmit = now;
      this.listener(this.event(false));
    }
  }

  chunkDone(): void {
    this.chunksDone++;
  }

  finish(): ProgressEvent {
    const e = this.event(true);
    this.listener(e);
    return e;
  }

  event(done: boolean): ProgressEvent {
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? this.rows / elapsed : 0;
    const doneSoFar = (this.base.alreadyDone ?? 0) + this.rows;
    const left = Math.max(0, this.base.totalRows - doneSoFar);
    return {
      table: this.base.table,
      phase: this.base.phase,
      rows: doneSoFar,
      totalRows: this.base.totalRows,
      rowsPerSecond: Math.round(rate),
      etaSeconds: done ? 0 : rate > 0 && this.base.totalRows > 0 ? Math.round(left / rate) : null,
      elapsedSeconds: Math.round(elapsed * 10) / 10,
      done,
      ...(this.base.chunksTotal !== undefined ? { chunksDone: this.chunksDone, chunksTotal: this.base.chunksTotal } : {}),
    };
  }
}

/** The default listener: one structured log line per report. */
export function logProgress(logger: Logger): ProgressListener {
  return (e) => logger.info({ ...e }, e.done ? `${e.phase} of ${e.table} done` : `${e.phase} of ${e.table} in progress`);
}

/** A human-readable line per report, for CLIs and scripts (writes to the stream given, never console). */
export function progressPrinter(stream: NodeJS.WritableStream): ProgressListener {
  return (e) => {
    const pct = e.totalRows > 0 ? ` (${Math.min(100, Math.round((100 * e.rows) / e.totalRows))}%)` : '';
    const eta = e.etaSeconds === null ? '' : e.done ? '' : `, ETA ${e.etaSeconds}s`;
    const chunks = e.chunksTotal !== undefined ? `, chunks ${e.chunksDone}/${e.chunksTotal}` : '';
    stream.write(
      `${e.table} ${e.phase}: ${e.rows.toLocaleString('en-US')}${e.totalRows ? ` / ~${e.totalRows.toLocaleString('en-US')}` : ''} rows${pct}, ${e.rowsPerSecond.toLocaleString('en-US')} rows/s${eta}${chunks}${e.done ? ` — done in ${e.elapsedSeconds}s` : ''}\n`,
    );
  };
}
