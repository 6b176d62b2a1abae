import path from 'node:path';
import { ConfigError, generatePassword, readOrCreateSecrets, type Config } from '@tidemark/core';

/** File in the platform's data directory (TIDEMARK_DATA_DIR) holding the generated ClickHouse passwords, mode 0600. */
export const CLICKHOUSE_SECRETS_FILE = 'clickhouse-secrets.json';

/** The credentials of the embedded ClickHouse front: the platform's read-write user and the read-only user. */
export interface ClickHouseCredentials {
  user: string;
  password: string;
  readonlyUser: string;
  readonlyPassword: string;
}

interface StoredSecrets {
  password: string;
  readonlyPassword: string;
}

function isStored(v: unknown): v is StoredSecrets {
  const o = v as Partial<StoredSecrets> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.password === 'string' &&
    o.password !== '' &&
    typeof o.readonlyPassword === 'string' &&
    o.readonlyPassword !== ''
  );
}

export interface ResolvedClickHouseCredentials {
  credentials: ClickHouseCredentials;
  /** The secrets file in the data directory. */
  file: string;
  /** True when this call generated the passwords (first start): the caller shows them once. */
  created: boolean;
  /** Which passwords came from the file (the others were configured explicitly). */
  generated: { password: boolean; readonlyPassword: boolean };
}

/**
 * The credentials the embedded ClickHouse front accepts and every role, the
 * CLI and the tools use: CLICKHOUSE_PASSWORD / CLICKHOUSE_READONLY_PASSWORD
 * when configured (non-empty), else the passwords generated on first start
 * and kept in `<dataDir>/clickhouse-secrets.json`. The embedded front never
 * runs with an empty password, so "not configured" and "configured empty"
 * both mean "generated". User names stay configurable.
 */
export function resolveClickHouseCredentials(
  config: Pick<Config, 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_READONLY_USER' | 'CLICKHOUSE_READONLY_PASSWORD'>,
  dataDir: string,
): ResolvedClickHouseCredentials {
  const file = path.join(path.resolve(dataDir), CLICKHOUSE_SECRETS_FILE);
  const { value, created } = readOrCreateSecrets(file, () => ({ password: generatePassword(), readonlyPassword: generatePassword() }), isStored);
  if (config.CLICKHOUSE_USER === config.CLICKHOUSE_READONLY_USER) {
    throw new ConfigError('CLICKHOUSE_USER and CLICKHOUSE_READONLY_USER must differ', { context: { keys: ['CLICKHOUSE_USER', 'CLICKHOUSE_READONLY_USER'] } });
  }
  return {
    file,
    created,
    generated: { password: config.CLICKHOUSE_PASSWORD === '', readonlyPassword: config.CLICKHOUSE_READONLY_PASSWORD === '' },
    credentials: {
      user: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD || value.password,
      readonlyUser: config.CLICKHOUSE_READONLY_USER,
      readonlyPassword: config.CLICKHOUSE_READONLY_PASSWORD || value.readonlyPassword,
    },
  };
}
