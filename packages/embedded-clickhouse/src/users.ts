import type { Config } from '@tidemark/core';
import type { EmbeddedUser } from './server';

/**
 * The embedded server's users, from the platform config: the platform's own
 * user, and the read-only user analyst SQL and rule SQL run as, with limits a
 * request can lower but never raise.
 */
export function embeddedUsers(config: Config): EmbeddedUser[] {
  return [
    { name: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, readonly: false },
    {
      name: config.CLICKHOUSE_READONLY_USER,
      password: config.CLICKHOUSE_READONLY_PASSWORD,
      readonly: true,
      limits: { max_execution_time: 60, max_result_rows: 1_000_000, max_result_bytes: 256 * 1024 * 1024 },
    },
  ];
}
