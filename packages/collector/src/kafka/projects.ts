import type { Pool } from 'pg';
import { z } from 'zod';
import { pgRows } from '@tidemark/core';

const projectsQuery = { name: 'collector.projects_known', sql: 'SELECT id FROM projects WHERE id = ANY($1::text[])', row: z.object({ id: z.string() }) };

/**
 * Which project ids exist, for the consumer's direct-producer items. The
 * HTTP path refuses a key whose project does not exist (401); a message
 * straight into Kafka names its project in `project_id`, so the consumer
 * asks the metadata Postgres instead. Ids found are cached for `ttlMs`
 * (one query per batch would be a Postgres round trip on every batch);
 * ids not found are asked again on every batch that names them, so a
 * project created a moment ago is accepted at once. A deleted project is
 * refused once its cache entry expired.
 */
export class ProjectDirectory {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly pool: Pool,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 100_000,
  ) {}

  /** The ids among `ids` that name no project. A Postgres failure throws: the batch is not committed and is replayed. */
  async unknown(ids: Iterable<string>): Promise<Set<string>> {
    const now = Date.now();
    const ask = [...ids].filter((id) => (this.known.get(id) ?? 0) <= now);
    if (ask.length === 0) return new Set();
    const rows = await pgRows(this.pool, projectsQuery, [ask]);
    if (this.known.size + rows.length > this.maxEntries) this.known.clear();
    for (const row of rows) this.known.set(row.id, now + this.ttlMs);
    const found = new Set(rows.map((row) => row.id));
    return new Set(ask.filter((id) => !found.has(id)));
  }
}
