/**
 * Fills the demo schema at a chosen size and keeps changing it.
 *
 * Filling runs set-based INSERT ... SELECT generate_series in batches, with
 * values derived from hashtext(), so the same size always gives the same
 * data. The change loop makes a bounded number of changes per second —
 * inserts, updates and deletes across every table, in small transactions —
 * until it is stopped.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { pgExec, pgOne, Scheduler, withTransaction, type Logger } from '@tidemark/core';
import { pgIdent, pgLiteral } from '../sql/quote';
import { DEMO_TABLES, DEMO_VALUES, demoSchemaSql, type DemoTable } from './schema';

export interface DemoSizes {
  customers: number;
  orders: number;
  serviceRecords: number;
  users: number;
  organizations: number;
  products: number;
}

/** Sizes derived from a customer count: orders 10x, service records 3x, users 2x, organizations /10. */
export function demoSizes(customers: number, overrides: Partial<DemoSizes> = {}): DemoSizes {
  return {
    customers,
    orders: customers * 10,
    serviceRecords: customers * 3,
    users: customers * 2,
    organizations: Math.max(5, Math.ceil(customers / 10)),
    products: 200,
    ...overrides,
  };
}

export async function createDemoSchema(pool: Pool, schema: string): Promise<void> {
  for (const stmt of demoSchemaSql(schema)) await pgExec(pool, stmt);
}

/** Picks `list[hash % n]` in SQL, deterministically from a seed expression. */
function pick(list: readonly string[], seed: string): string {
  return `(ARRAY[${list.map(pgLiteral).join(', ')}])[1 + abs(hashtext(${seed})) % ${list.length}]`;
}

function rnd(seed: string, n: number): string {
  return `(abs(hashtext(${seed})) % ${n})`;
}

export interface FillProgress {
  table: DemoTable;
  rows: number;
  total: number;
}

const countRow = z.object({ n: z.coerce.number() });

/** Rows per table right now (to fill only an empty schema). */
export async function demoCounts(pool: Pool, schema: string): Promise<Record<DemoTable, number>> {
  const out: Partial<Record<DemoTable, number>> = {};
  for (const t of DEMO_TABLES) {
    out[t] = (await pgOne(pool, { name: 'etl.demo_count', sql: `SELECT count(*) AS n FROM ${pgIdent(schema)}.${pgIdent(t)}`, row: countRow })).n;
  }
  return { organizations: 0, roles: 0, users: 0, customers: 0, products: 0, orders: 0, service_records: 0, ...out };
}

/**
 * Inserts the demo rows (adds to what is there; ids continue). `onProgress`
 * is called after each batch.
 */
export async function fillDemo(
  pool: Pool,
  schema: string,
  sizes: DemoSizes,
  opts: { batch?: number; onProgress?: (p: FillProgress) => void } = {},
): Promise<void> {
  const s = pgIdent(schema);
  const batch = opts.batch ?? 100_000;
  const V = DEMO_VALUES;
  const created = (seed: string) => `now() - (${rnd(seed, 31_536_000)} * interval '1 second')`;
  const fills: { table: DemoTable; total: number; sql: (from: number, to: number) => string }[] = [
    {
      table: 'roles',
      total: (await pgOne(pool, { name: 'etl.demo_roles_count', sql: `SELECT count(*) AS n FROM ${s}.roles`, row: countRow })).n === 0 ? V.roles.length : 0,
      sql: () =>
        `INSERT INTO ${s}.roles (name, description) SELECT r, 'demo role ' || r FROM unnest(ARRAY[${V.roles.map(pgLiteral).join(', ')}]) AS r ON CONFLICT (name) DO NOTHING`,
    },
    {
      table: 'organizations',
      total: sizes.organizations,
      sql: (a, b) =>
        `INSERT INTO ${s}.organizations (name, type, employees, created_at)
         SELECT 'Org ' || g, ${pick(V.orgType, "g::text || 'ot'")}, 5 + ${rnd("g::text || 'emp'", 5000)}, ${created("g::text || 'oc'")}
           FROM generate_series(${a}, ${b}) g`,
    },
    {
      table: 'users',
      total: sizes.users,
      sql: (a, b) =>
        `INSERT INTO ${s}.users (org_id, role_id, login_count, last_login_at, created_at)
         SELECT 1 + ${rnd("g::text || 'uo'", sizes.organizations)}, 1 + ${rnd("g::text || 'ur'", V.roles.length)}, ${rnd("g::text || 'ul'", 500)},
                CASE WHEN ${rnd("g::text || 'un'", 10)} = 0 THEN NULL ELSE now() - (${rnd("g::text || 'ull'", 2_592_000)} * interval '1 second') END,
                ${created("g::text || 'uc'")}
           FROM generate_series(${a}, ${b}) g`,
    },
    {
      table: 'customers',
      total: sizes.customers,
      sql: (a, b) =>
        `INSERT INTO ${s}.customers (name, type, source, channel, region, industry, size, created_at)
         SELECT 'Customer ' || g, (${pick(V.customerType, "g::text || 'ct'")})::${s}.customer_type, ${pick(V.customerSource, "g::text || 'cs'")},
                ${pick(V.channel, "g::text || 'ch'")}, ${pick(V.region, "g::text || 'rg'")}, ${pick(V.industry, "g::text || 'in'")},
                ${pick(V.size, "g::text || 'sz'")}, ${created("g::text || 'cc'")}
           FROM generate_series(${a}, ${b}) g`,
    },
    {
      table: 'products',
      total: sizes.products,
      sql: (a, b) =>
        `INSERT INTO ${s}.products (name, category, price, stock, reorder_level, tags, attributes)
         SELECT 'Product ' || g, ${pick(V.productCategory, "g::text || 'pc'")}, (10 + ${rnd("g::text || 'pp'", 500_000)} / 100.0)::numeric(12,2),
                ${rnd("g::text || 'ps'", 300)}, 20, ARRAY[${pick(V.productCategory, "g::text || 't1'")}, 'demo'],
                jsonb_build_object('weight_kg', ${rnd("g::text || 'w'", 50)}, 'sku', 'SKU-' || g)
           FROM generate_series(${a}, ${b}) g`,
    },
    {
      table: 'orders',
      total: sizes.orders,
      sql: (a, b) =>
        `INSERT INTO ${s}.orders (customer_id, status, service_type, product_category, amount, created_at, updated_at)
         SELECT 1 + ${rnd("g::text || 'oc'", Math.max(1, sizes.customers))}, ${pick(V.orderStatus, "g::text || 'os'")}, ${pick(V.serviceType, "g::text || 'st'")},
                ${pick(V.productCategory, "g::text || 'op'")}, (${rnd("g::text || 'oa'", 10_000_000)} / 100.0)::numeric(14,2),
                c, c + (${rnd("g::text || 'ou'", 86_400)} * interval '1 second') * 0
           FROM (SELECT g, ${created("g::text || 'od'")} AS c FROM generate_series(${a}, ${b}) g) x`,
    },
    {
      table: 'service_records',
      total: sizes.serviceRecords,
      sql: (a, b) =>
        `INSERT INTO ${s}.service_records (customer_id, status, priority, assignee, created_at, due_at, resolved_at, satisfaction)
         SELECT 1 + ${rnd("g::text || 'sc'", Math.max(1, sizes.customers))}, st, ${pick(V.priority, "g::text || 'sp'")},
                'agent_' || lpad((1 + ${rnd("g::text || 'sa'", 20)})::text, 2, '0'),
                c, c + (1 + ${rnd("g::text || 'sd'", 72)}) * interval '1 hour',
                CASE WHEN st IN ('resolved', 'closed') THEN c + (${rnd("g::text || 'sr'", 96)} * interval '1 hour') END,
                CASE WHEN st IN ('resolved', 'closed') THEN (1 + ${rnd("g::text || 'ss'", 5)})::smallint END
           FROM (SELECT g, ${pick(V.recordStatus, "g::text || 'sst'")} AS st, ${created("g::text || 'scd'")} AS c FROM generate_series(${a}, ${b}) g) x`,
    },
  ];
  for (const f of fills) {
    if (f.total <= 0) continue;
    if (f.table === 'roles') {
      await pgExec(pool, f.sql(1, 1));
      opts.onProgress?.({ table: f.table, rows: f.total, total: f.total });
      continue;
    }
    for (let from = 1; from <= f.total; from += batch) {
      const to = Math.min(f.total, from + batch - 1);
      await pgExec(pool, f.sql(from, to));
      opts.onProgress?.({ table: f.table, rows: to, total: f.total });
    }
  }
  // Fresh statistics: the ETL sizes snapshot chunks and ETAs from them.
  for (const t of DEMO_TABLES) await pgExec(pool, `ANALYZE ${pgIdent(schema)}.${pgIdent(t)}`);
}

export interface ChangeLoop {
  /** Changes committed so far. */
  readonly changes: number;
  stop(): Promise<void>;
}

/**
 * One tick's worth of changes (`n` of them) in one transaction: new and
 * progressing orders, service records opened and resolved (some past due),
 * logins, new customers, stock movements, and deletes of cancelled orders
 * and closed records. Every statement is index-backed (max(key), key
 * lookups), so the rate holds on a table of millions of rows.
 */
export async function makeChanges(pool: Pool, schema: string, n: number, seed: number): Promise<number> {
  const s = pgIdent(schema);
  const V = DEMO_VALUES;
  return withTransaction(pool, async (client) => {
    let done = 0;
    for (let i = 0; i < n; i++) {
      const k = `${seed}:${i}`;
      const roll = Math.abs(hash(k)) % 100;
      const r = (m: number) => Math.abs(hash(`${k}:${m}`));
      if (roll < 30) {
        await pgExec(
          client,
          `INSERT INTO ${s}.orders (customer_id, status, service_type, product_category, amount)
           VALUES ((SELECT coalesce(max(customer_id), 1) FROM ${s}.customers) - $1 % 50, 'pending', $2, $3, $4)`,
          [r(1) % 1000, V.serviceType[r(2) % V.serviceType.length], V.productCategory[r(3) % V.productCategory.length], (r(4) % 100_000) / 100],
        );
      } else if (roll < 58) {
        await pgExec(
          client,
          `UPDATE ${s}.orders SET status = $2, amount = amount + $3
            WHERE order_id = (SELECT max(order_id) FROM ${s}.orders) - $1 % 5000`,
          [r(1), V.orderStatus[r(2) % V.orderStatus.length], (r(3) % 1000) / 100],
        );
      } else if (roll < 68) {
        await pgExec(
          client,
          `INSERT INTO ${s}.service_records (customer_id, status, priority, assignee, due_at)
           VALUES (1 + $1 % greatest(1, (SELECT max(customer_id) FROM ${s}.customers)), 'open', $2, $3, now() + ($4 || ' minutes')::interval)`,
          [r(1), V.priority[r(2) % V.priority.length], `agent_${String(1 + (r(3) % 20)).padStart(2, '0')}`, String(r(4) % 240)],
        );
      } else if (roll < 76) {
        await pgExec(
          client,
          `UPDATE ${s}.service_records SET status = 'resolved', resolved_at = now(), satisfaction = 1 + $2 % 5
            WHERE record_id = (SELECT max(record_id) FROM ${s}.service_records) - $1 % 200 AND resolved_at IS NULL`,
          [r(1), r(2)],
        );
      } else if (roll < 86) {
        await pgExec(
          client,
          `UPDATE ${s}.users SET login_count = login_count + 1, last_login_at = now() WHERE user_id = 1 + $1 % greatest(1, (SELECT max(user_id) FROM ${s}.users))`,
          [r(1)],
        );
      } else if (roll < 90) {
        await pgExec(
          client,
          `INSERT INTO ${s}.customers (name, type, source, channel, region, industry, size)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            `Customer n${k}`,
            V.customerType[r(1) % 2],
            V.customerSource[r(2) % V.customerSource.length],
            V.channel[r(3) % V.channel.length],
            V.region[r(4) % V.region.length],
            V.industry[r(5) % V.industry.length],
            V.size[r(6) % V.size.length],
          ],
        );
      } else if (roll < 94) {
        // Stock moves: sales take some, a restock tops a low product up.
        await pgExec(
          client,
          `UPDATE ${s}.products SET stock = CASE WHEN stock < reorder_level AND $2 % 3 = 0 THEN stock + 200 ELSE greatest(0, stock - 1 - $2 % 5) END
            WHERE product_id = 1 + $1 % greatest(1, (SELECT max(product_id) FROM ${s}.products))`,
          [r(1), r(2)],
        );
      } else if (roll < 97) {
        await pgExec(
          client,
          `DELETE FROM ${s}.orders WHERE order_id = (SELECT order_id FROM ${s}.orders WHERE status = 'cancelled' ORDER BY order_id LIMIT 1 OFFSET $1 % 20)`,
          [r(1)],
        );
      } else {
        await pgExec(
          client,
          `DELETE FROM ${s}.service_records WHERE record_id = (SELECT record_id FROM ${s}.service_records WHERE status = 'closed' ORDER BY record_id LIMIT 1 OFFSET $1 % 20)`,
          [r(1)],
        );
      }
      done++;
    }
    return done;
  });
}

/** FNV-1a, for deterministic choices in JS. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/**
 * Keeps changing the demo data at `perSecond` changes per second (runs of
 * core's Scheduler 100 ms apart, one transaction each) until stop(). Bounded:
 * each run adds one tick's share, and a run never overlaps the previous one, so
 * a database slower than the rate lowers it and it never exceeds the setting.
 */
export function startChangeLoop(pool: Pool, schema: string, opts: { perSecond: number; logger: Logger }): ChangeLoop {
  let changes = 0;
  let seed = Date.now();
  let carry = 0;
  const tickMs = 100;
  const schedule = new Scheduler(
    [
      {
        name: 'demo-changes',
        everyMs: tickMs,
        runAtStart: false,
        run: async () => {
          carry += (opts.perSecond * tickMs) / 1000;
          const n = Math.floor(carry);
          if (n <= 0) return;
          carry -= n;
          changes += await makeChanges(pool, schema, n, seed++);
        },
      },
    ],
    opts.logger,
  );
  void schedule.start();
  return {
    get changes() {
      return changes;
    },
    stop: () => schedule.stop(),
  };
}
