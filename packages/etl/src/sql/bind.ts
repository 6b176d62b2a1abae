import type { PoolClient } from 'pg';
import { InternalError } from '@tidemark/core';

/**
 * Values for statements that cannot take bind parameters (COPY ... TO STDOUT).
 *
 * Each value is stored with set_config(name, $n, true) — itself a normal
 * parameterized statement — as a transaction-local setting, and the COPY text
 * refers to it as current_setting('tidemark.pN')::type. So no value is ever
 * spliced into SQL, the planner still sees a stable expression it can use
 * for index scans, and the settings vanish when the transaction ends.
 *
 * Invariant: apply() runs inside the same transaction as the statement
 * using the references (is_local = true), and before it.
 */
export class SettingParams {
  private readonly values: string[] = [];

  constructor(private readonly prefix = 'p') {}

  /** Adds a value; returns SQL reading it back, cast to `castSql` when given. */
  ref(value: string, castSql?: string): string {
    if (value.includes('\u0000')) throw new InternalError('a bound value cannot contain NUL');
    const name = `tidemark.${this.prefix}${this.values.length}`;
    this.values.push(value);
    const read = `current_setting('${name}')`;
    return castSql ? `(${read})::${castSql}` : read;
  }

  get size(): number {
    return this.values.length;
  }

  async apply(client: PoolClient): Promise<void> {
    if (this.values.length === 0) return;
    const calls: string[] = [];
    const params: string[] = [];
    this.values.forEach((v, i) => {
      params.push(`tidemark.${this.prefix}${i}`, v);
      calls.push(`set_config($${2 * i + 1}, $${2 * i + 2}, true)`);
    });
    await client.query(`SELECT ${calls.join(', ')}`, params);
  }
}

/** Ordinary $n parameters, built up alongside the SQL text. */
export class BindParams {
  readonly values: unknown[] = [];

  ref(value: unknown, castSql?: string): string {
    this.values.push(value);
    return castSql ? `$${this.values.length}::${castSql}` : `$${this.values.length}`;
  }
}

/** Either kind: predicates are written once and rendered for a query or for COPY. */
export interface ParamSink {
  ref(value: string, castSql?: string): string;
}
