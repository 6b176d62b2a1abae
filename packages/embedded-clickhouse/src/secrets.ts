import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '@tidemark/core';

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

/** 32 random bytes, URL-safe: no character needs quoting in a URL, a header or a shell. */
export function generatePassword(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/**
 * Reads a JSON secrets file, or creates it with `make()` when missing.
 * Invariants: the file is created exclusively (`wx`), so two processes
 * starting on one data directory cannot each write different secrets (the
 * loser reads the winner's); it is mode 0600 whatever the umask, and an older
 * file with wider permissions is narrowed.
 */
export function readOrCreateSecrets<T>(file: string, make: () => T, valid: (v: unknown) => v is T): { value: T; created: boolean } {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    const value = make();
    try {
      fs.writeFileSync(fd, `${JSON.stringify(value, null, 2)}\n`);
      fs.fchmodSync(fd, 0o600);
    } finally {
      fs.closeSync(fd);
    }
    return { value, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${(err as Error).message}); remove it to generate new secrets`, { context: { keys: [] } });
  }
  if (!valid(parsed)) throw new ConfigError(`${file} does not hold the expected secrets; remove it to generate new ones`, { context: { keys: [] } });
  return { value: parsed, created: false };
}

function isStored(v: unknown): v is StoredSecrets {
  const o = v as Partial<StoredSecrets> | null;
  return typeof o === 'object' && o !== null && typeof o.password === 'string' && o.password !== '' && typeof o.readonlyPassword === 'string' && o.readonlyPassword !== '';
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
export function resolveClickHouseCredentials(config: Pick<Config, 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_READONLY_USER' | 'CLICKHOUSE_READONLY_PASSWORD'>, dataDir: string): ResolvedClickHouseCredentials {
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
