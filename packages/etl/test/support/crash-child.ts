/**
 * A worker process for the crash tests. It runs one table sync with the
 * configuration given as JSON in argv[2]; when ClickHouse has confirmed the
 * block named by CRASH_AT ("chunk:<n>" or "page") — and before the
 * checkpoint covering it is written — it prints LANDED and waits to be
 * killed with SIGKILL by the parent.
 */
import { ClickHouse, createLogger } from '@tidemark/core';
import { Pool } from 'pg';
import type { SourceConfig } from '../../src/config/schema';
import { createSourcePool } from '../../src/source/session';
import { runTable } from '../../src/sync/table-sync';

interface Args {
  source: SourceConfig;
  table: string;
  clickhouseUrl: string;
  clickhouseAuth: { username: string; password: string };
  database: string;
  metaUrl: string;
  metaSchema: string;
  crashAt: string;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] as string) as Args;
  const logger = createLogger({ level: 'silent' });
  const ch = new ClickHouse({ url: args.clickhouseUrl, ...args.clickhouseAuth, database: args.database });
  const meta = new Pool({ connectionString: args.metaUrl, options: `-c search_path=${args.metaSchema}`, max: 4 });
  const sourcePool = createSourcePool({ url: args.source.url, source: args.source.name, max: 4, logger });
  const cfg = args.source.tables.find((t) => t.name === args.table);
  if (!cfg) throw new Error(`no table ${args.table}`);
  const hooks = {
    afterLand: async (info: { kind: string; chunkNo?: number }) => {
      const here = info.kind === 'chunk' ? `chunk:${info.chunkNo}` : info.kind;
      if (here !== args.crashAt) return;
      // ClickHouse has the block; the checkpoint is not written yet. Wait for SIGKILL.
      process.stdout.write('LANDED\n');
      await new Promise(() => undefined);
    },
  };
  const result = await runTable({ ch, meta, logger, source: args.source, sourcePool, ddl: {}, onProgress: () => undefined, hooks }, cfg, { reconcile: 'skip' });
  // Reaching here means the crash point never came.
  process.stdout.write(`FINISHED ${result.status} ${result.error?.message ?? ''}\n`);
  process.exit(3);
}

main().catch((err: unknown) => {
  process.stdout.write(`ERROR ${(err as Error).message}\n`);
  process.exit(2);
});
