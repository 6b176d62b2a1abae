import type { Pool } from 'pg';

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
    const r = await this.pool.query<{ first_offset: string; last_offset: string }>(
      'SELECT first_offset::text, last_offset::text FROM ingest_batch_intents WHERE consumer_group = $1 AND topic = $2 AND partition = $3',
      [this.group, topic, partition],
    );
    const row = r.rows[0];
    return row ? { first: BigInt(row.first_offset), last: BigInt(row.last_offset) } : undefined;
  }

  async put(topic: string, partition: number, intent: BatchIntent): Promise<void> {
    await this.pool.query(
      `INSERT INTO ingest_batch_intents (consumer_group, topic, partition, first_offset, last_offset)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (consumer_group, topic, partition)
       DO UPDATE SET first_offset = EXCLUDED.first_offset, last_offset = EXCLUDED.last_offset, updated_at = now()`,
      [this.group, topic, partition, intent.first.toString(), intent.last.toString()],
    );
  }
}
