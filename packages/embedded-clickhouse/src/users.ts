import type { ClickHouseCredentials } from './secrets';
import type { EmbeddedUser } from './server';

/**
 * The embedded server's users: the platform's own user, and the read-only
 * user analyst SQL and rule SQL run as, with limits a request can lower but
 * never raise. Passwords come from resolveClickHouseCredentials (configured,
 * else generated on first start); the front refuses to start with an empty one.
 */
export function embeddedUsers(credentials: ClickHouseCredentials): EmbeddedUser[] {
  return [
    { name: credentials.user, password: credentials.password, readonly: false },
    {
      name: credentials.readonlyUser,
      password: credentials.readonlyPassword,
      readonly: true,
      limits: { max_execution_time: 60, max_result_rows: 1_000_000, max_result_bytes: 256 * 1024 * 1024 },
    },
  ];
}
