/**
 * The API's answer of the sync status (routes/etl-reader.ts) and the etl
 * role's own (TableSyncStatus, SourceSyncStatus) are one contract: the types
 * must stay the same (checked by the compiler, a type-only import), and the
 * documented enums are the etl role's lists (@tidemark/etl/status-state), so
 * a state or phase added there reaches the OpenAPI document.
 * etl-integrity.int.test.ts checks the values against a real metadata store.
 */
import type { SourceSyncStatus, TableSyncStatus } from '@tidemark/etl';
import { TABLE_SYNC_PHASES, TABLE_SYNC_STATES, tableSyncState } from '@tidemark/etl/status-state';
import { tableStatusSchema, type SourceStatus, type TableStatus } from '../src/routes/etl-reader';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameTables: Same<TableStatus, TableSyncStatus> = true;
const sameSources: Same<SourceStatus, SourceSyncStatus> = true;

test("the answer's types are the etl role's", () => {
  expect([sameTables, sameSources]).toEqual([true, true]);
});

test("the documented states and phases are the etl role's", () => {
  expect(tableStatusSchema.shape.state.options).toEqual([...TABLE_SYNC_STATES]);
  expect(tableStatusSchema.shape.phase.options).toEqual([...TABLE_SYNC_PHASES]);
});

test('every state the rule gives is one the answer schema accepts', () => {
  for (const phase of TABLE_SYNC_PHASES)
    for (const stalled of [false, true])
      for (const consecutiveFailures of [0, 2]) {
        const state = tableSyncState({ phase, stalled, consecutiveFailures });
        expect(tableStatusSchema.shape.state.safeParse(state).success).toBe(true);
      }
});
