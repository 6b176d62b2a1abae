import type { Pool } from 'pg';
import { z } from 'zod';
import { pgExec, pgMaybeOne } from '@tidemark/core';

const intentQuery = {
  name: 'collector.batch_intent',
  sql: 'SELECT first_offset::text, last_offset::text FROM ingest_batch_intents WHERE consumer_group = $1 AND topic = $2 AND partition = $3',
  row: z.object({ first_offset: z.string(), last_offset: z.string() }),
};

export interface BatchIntent {
  first: bigint;
  last: bigint;
}

/**
 * Per-partition batch intents in the metadata Postgres. Invariant: an intent
 * is written before its batch is inserted, and a consumer whose batch starts
 * at the intent's first offset replays exactly [first, last]; any later batch
 * supersedes it. Batch boundaries, and so deduplication tokens, are thereby
 * the same on every attempt, whatever the fetch returns after a restart.
 */
export class IntentStore {
  constructor(
    private readonly pool: Pool,
    private readonly group: string,
  ) {}

  async get(topic: string, partition: number): Promise<BatchIntent | undefined> {
    const row = await pgMaybeOne(this.pool, intentQuery, [this.group, topic, partition]);
    return row ? { first: BigInt(row.first_offset), last: BigInt(row.last_offset) } : undefined;
  }

  async put(topic: string, partition: number, intent: BatchIntent): Promise<void> {
    await pgExec(
      this.pool,
      `INSERT INTO ingest_batch_intents (consumer_group, topic, partition, first_offset, last_offset)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (consumer_group, topic, partition)
       DO UPDATE SET first_offset = EXCLUDED.first_offset, last_offset = EXCLUDED.last_offset, updated_at = now()`,
      [this.group, topic, partition, intent.first.toString(), intent.last.toString()],
    );
  }
}
