import path from 'node:path';
import { generatePassword, readOrCreateSecrets } from '@tidemark/core';

/** File in the platform's data directory (TIDEMARK_DATA_DIR) holding the embedded Postgres user and generated password, mode 0600. */
export const POSTGRES_SECRETS_FILE = 'postgres-secrets.json';

/** The one user of the embedded Postgres. */
export const EMBEDDED_POSTGRES_USER = 'postgres';

export interface PostgresCredentials {
  user: string;
  password: string;
}

export interface ResolvedPostgresCredentials {
  credentials: PostgresCredentials;
  file: string;
  /** True when this call generated the password (first start): the caller shows it once. */
  created: boolean;
}

function isCredentials(v: unknown): v is PostgresCredentials {
  const o = v as Partial<PostgresCredentials> | null;
  return typeof o === 'object' && o !== null && typeof o.user === 'string' && o.user !== '' && typeof o.password === 'string' && o.password !== '';
}

/**
 * The embedded Postgres credentials: generated on first start (32 random
 * bytes) into `<dataDir>/postgres-secrets.json`, created exclusively with mode
 * 0600 (a second process on the same directory reads the first one's), and
 * narrowed to 0600 if found wider. Same rules as the ClickHouse secrets file.
 */
export function resolvePostgresCredentials(dataDir: string): ResolvedPostgresCredentials {
  const file = path.join(path.resolve(dataDir), POSTGRES_SECRETS_FILE);
  const { value, created } = readOrCreateSecrets(file, () => ({ user: EMBEDDED_POSTGRES_USER, password: generatePassword() }), isCredentials);
  return { credentials: value, file, created };
}
