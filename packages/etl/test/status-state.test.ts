/**
 * The table-state rule shared by the etl role's status and the query API
 * (src/status/state.ts, exported as @tidemark/etl/status-state): every state,
 * their precedence, and the module staying free of imports so the API can
 * load it without the etl role's code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TABLE_SYNC_PHASES, TABLE_SYNC_STATES, tableSyncState, type TableSyncPhase, type TableSyncState } from '../src/status/state';

const healthy = { stalled: false, consecutiveFailures: 0 };

test('a healthy table reports its phase: ok once incremental, else snapshot or pending', () => {
  expect(tableSyncState({ phase: 'incremental', ...healthy })).toBe('ok');
  expect(tableSyncState({ phase: 'snapshot', ...healthy })).toBe('snapshot');
  expect(tableSyncState({ phase: 'pending', ...healthy })).toBe('pending');
  expect(tableSyncState({ phase: 'quarantined', ...healthy })).toBe('quarantined');
});

test('failures make it error, a stall outranks them, quarantine outranks both', () => {
  const cases: [TableSyncPhase, boolean, number, TableSyncState][] = [
    ['incremental', false, 1, 'error'],
    ['snapshot', false, 3, 'error'],
    ['pending', false, 1, 'error'],
    ['incremental', true, 0, 'stalled'],
    ['snapshot', true, 0, 'stalled'],
    ['pending', true, 2, 'stalled'],
    ['incremental', true, 5, 'stalled'],
    ['quarantined', true, 0, 'quarantined'],
    ['quarantined', false, 4, 'quarantined'],
    ['quarantined', true, 4, 'quarantined'],
  ];
  for (const [phase, stalled, consecutiveFailures, state] of cases) {
    expect({ phase, stalled, consecutiveFailures, state: tableSyncState({ phase, stalled, consecutiveFailures }) }).toEqual({
      phase,
      stalled,
      consecutiveFailures,
      state,
    });
  }
});

test('every state is reachable and every phase maps to a state', () => {
  const seen = new Set<TableSyncState>();
  for (const phase of TABLE_SYNC_PHASES)
    for (const stalled of [false, true])
      for (const consecutiveFailures of [0, 1]) {
        const state = tableSyncState({ phase, stalled, consecutiveFailures });
        expect(TABLE_SYNC_STATES).toContain(state);
        seen.add(state);
      }
  expect([...seen].sort()).toEqual([...TABLE_SYNC_STATES].sort());
});

test('the module imports nothing, so the query API can load it alone', () => {
  const source = readFileSync(path.join(__dirname, '..', 'src', 'status', 'state.ts'), 'utf8');
  expect(source).not.toMatch(/^\s*import\s/m);
  expect(source).not.toMatch(/\brequire\(|\bimport\(/);
});

test('the package exports it as the subpath the query API imports', () => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  expect(pkg.exports['./status-state']).toEqual({ types: './dist/status/state.d.ts', default: './dist/status/state.js' });
});
