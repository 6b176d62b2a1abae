import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';

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
