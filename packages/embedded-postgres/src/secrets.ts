import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@tidemark/core';

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
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    const credentials = { user: EMBEDDED_POSTGRES_USER, password: crypto.randomBytes(32).toString('base64url') };
    try {
      fs.writeFileSync(fd, `${JSON.stringify(credentials, null, 2)}\n`);
      fs.fchmodSync(fd, 0o600);
    } finally {
      fs.closeSync(fd);
    }
    return { credentials, file, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${(err as Error).message}); remove it to generate a new password`, { context: { keys: [] } });
  }
  if (!isCredentials(parsed)) throw new ConfigError(`${file} does not hold a user and password; remove it to generate new ones`, { context: { keys: [] } });
  return { credentials: parsed, file, created: false };
}
