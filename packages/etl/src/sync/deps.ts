import type { Pool } from 'pg';
import type { ClickHouse, Logger } from '@tidemark/core';
import type { SourceConfig } from '../config/schema';
import type { ProgressListener } from '../progress/progress';
import type { DdlOptions } from '../target/ddl';

/** What every sync path of one source works with (table runs and the CDC stream): the stores, the source's pool, the hooks. */
export interface SourceDeps {
  ch: ClickHouse;
  meta: Pool;
  logger: Logger;
  source: SourceConfig;
  sourcePool: Pool;
  ddl: DdlOptions;
  hooks?: SyncHooks;
}

/** What a table run needs: the source's deps, and observers. */
export interface SyncDeps extends SourceDeps {
  onProgress: ProgressListener;
  signal?: AbortSignal;
}

export interface LandedInfo {
  table: string;
  kind: 'chunk' | 'page' | 'repair' | 'tombstone' | 'cdc';
  rows: number;
  chunkNo?: number;
  blockNo?: number;
}

/**
 * Test and instrumentation hooks. `afterLand` runs after ClickHouse confirmed
 * a block and before the checkpoint covering it is written: the crash tests
 * kill the worker there.
 */
export interface SyncHooks {
  afterLand?: (info: LandedInfo) => Promise<void> | void;
  /** Before a snapshot chunk is read (tests count which chunks a resumed snapshot reads). */
  beforeChunk?: (info: { table: string; chunkNo: number }) => Promise<void> | void;
}
