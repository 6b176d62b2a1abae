/**
 * Lost-slot detection by SQLSTATE (sync/cdc-slot.ts): what Postgres really
 * answers to START_REPLICATION on a slot that does not exist, and that other
 * errors are not taken for a lost slot.
 */
import { Client } from 'pg';
import { LogicalReplicationService } from 'pg-logical-replication';
import { RawPgoutputPlugin } from '../src/source/pgoutput';
import { isSlotLostError, slotGone } from '../src/sync/cdc-slot';
import { createSourcePool } from '../src/source/session';
import { postgresUrl, silent, uniqueName } from './support/harness';

test('START_REPLICATION on a missing slot fails with SQLSTATE 42704, recognised as a lost slot; the catalog confirms it', async () => {
  const slot = uniqueName('tm_missing_slot').toLowerCase();
  const service = new LogicalReplicationService({ connectionString: postgresUrl }, { acknowledge: { auto: false, timeoutSeconds: 0 } });
  const failure = new Promise<unknown>((resolve) => service.on('error', resolve));
  const err = await Promise.race([
    service.subscribe(new RawPgoutputPlugin('tm_no_publication'), slot, '0/0').then(
      () => undefined,
      (e: unknown) => e,
    ),
    failure,
  ]);
  await service.destroy().catch(() => undefined);
  expect(err).toMatchObject({ code: '42704' });
  expect(isSlotLostError(err)).toBe(true);
  const pool = createSourcePool({ url: postgresUrl, source: 'slot-test', max: 1, logger: silent });
  try {
    expect(await slotGone(pool, slot)).toBe(true);
  } finally {
    await pool.end();
  }
}, 30_000);

test('other errors are not a lost slot: a syntax error (42601), a unique violation (23505), errors without a code', async () => {
  const c = new Client({ connectionString: postgresUrl });
  await c.connect();
  try {
    const syntax = await c.query('SELEC 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(syntax).toMatchObject({ code: '42601' });
    expect(isSlotLostError(syntax)).toBe(false);
  } finally {
    await c.end();
  }
  expect(isSlotLostError({ code: '23505' })).toBe(false);
  expect(isSlotLostError(new Error('replication slot "x" does not exist'))).toBe(false);
  // Wrapped (core's classifyError keeps the driver error as cause): still recognised.
  expect(isSlotLostError(new Error('wrapped', { cause: { code: '55000' } }))).toBe(true);
});
