import { EVENTS_TABLE } from '../signals';
import type { InsertGroup, Piece } from '../kafka/decode';
import type { ResendWindow } from './resend-window';

/** Project and event id of one JSONCompactEachRow line of events_raw_v1, or undefined when it has none. */
export function eventIdentity(line: string, projectCol: number, idCol: number): { project: string; id: string } | undefined {
  // The collector's own rows start with project_id, event_id: read them
  // without parsing the line (project ids are [a-z0-9_-], event ids UUIDs).
  if (projectCol === 0 && idCol === 1 && line.startsWith('["')) {
    const q = line.indexOf('"', 2);
    if (q > 2 && line.startsWith('","', q) && line[q + 39] === '"') return { project: line.slice(2, q), id: line.slice(q + 3, q + 39).toLowerCase() };
  }
  try {
    const values = JSON.parse(line) as unknown[];
    const project = values[projectCol];
    const id = values[idCol];
    return typeof project === 'string' && typeof id === 'string' ? { project, id: id.toLowerCase() } : undefined;
  } catch {
    return undefined; // ClickHouse will refuse the line and the consumer dead-letters it
  }
}

export interface LandingFilter {
  /** The groups without rows whose event id landed within the window or appears earlier in the batch. */
  groups: InsertGroup[];
  /** Rows dropped as duplicates. */
  dropped: number;
  /** Ids to remember, per project, once the batch landed. */
  landed: Map<string, string[]>;
}

/**
 * Exactly once by event id at landing (issue 12 and 13). Kafka can hold an
 * event twice: a collector send that failed or timed out may still have
 * been written, and the client resends the request it was answered 503 for;
 * a direct producer retries. The consumer drops rows of events_raw_v1 whose
 * (project, event id) landed within the window, or that appear earlier in
 * the same batch, before inserting.
 *
 * Crash safety with the batch intents: ids are remembered only after the
 * batch's inserts succeeded. A replay of a batch whose ids were already
 * remembered drops its own rows; its insert then carries the same token as
 * the first attempt and holds nothing new, so it changes nothing either way.
 * Without Redis the window lives in the consumer process and a consumer
 * restart forgets it (docs/ingestion.md).
 */
export async function filterLanded(window: ResendWindow, groups: readonly InsertGroup[]): Promise<LandingFilter> {
  const out: LandingFilter = { groups: [], dropped: 0, landed: new Map() };
  const events = groups.filter((g) => g.table === EVENTS_TABLE);
  if (!window.enabled || events.length === 0) return { ...out, groups: [...groups] };

  // Every row's identity, in batch order.
  interface Row {
    line: string;
    project?: string;
    id?: string;
  }
  const perGroup = new Map<InsertGroup, { piece: Piece; rows: Row[] }[]>();
  const byProject = new Map<string, string[]>();
  for (const g of events) {
    const projectCol = g.columns.indexOf('project_id');
    const idCol = g.columns.indexOf('event_id');
    const pieces = g.pieces.map((piece) => {
      const text = typeof piece.data === 'string' ? piece.data : piece.data.toString('utf8');
      const lines = text.split('\n');
      lines.pop();
      const rows: Row[] = lines.map((l) => {
        const who = projectCol >= 0 && idCol >= 0 ? eventIdentity(l, projectCol, idCol) : undefined;
        if (!who) return { line: l };
        let list = byProject.get(who.project);
        if (!list) byProject.set(who.project, (list = []));
        list.push(who.id);
        return { line: l, project: who.project, id: who.id };
      });
      return { piece, rows };
    });
    perGroup.set(g, pieces);
  }
  const seen = new Map<string, Set<string>>();
  await Promise.all(
    [...byProject].map(async ([project, ids]) => {
      const hits = await window.seen(project, ids);
      seen.set(project, new Set(ids.filter((_, i) => hits[i])));
    }),
  );

  const inBatch = new Set<string>();
  for (const g of groups) {
    const pieces = perGroup.get(g);
    if (!pieces) {
      out.groups.push(g);
      continue;
    }
    const kept: Piece[] = [];
    for (const { piece, rows } of pieces) {
      const keep: string[] = [];
      for (const r of rows) {
        if (r.project !== undefined && r.id !== undefined) {
          const key = `${r.project}\u0000${r.id}`;
          if (seen.get(r.project)!.has(r.id) || inBatch.has(key)) {
            out.dropped++;
            continue;
          }
          inBatch.add(key);
          let list = out.landed.get(r.project);
          if (!list) out.landed.set(r.project, (list = []));
          list.push(r.id);
        }
        keep.push(r.line);
      }
      if (keep.length === rows.length) kept.push(piece);
      else if (keep.length > 0) kept.push({ offset: piece.offset, rows: keep.length, data: `${keep.join('\n')}\n` });
    }
    // Kept even when empty: the consumer derives each group's token from its position.
    out.groups.push({ ...g, pieces: kept });
  }
  return out;
}
