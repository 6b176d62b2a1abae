import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** File in the data directory holding the install id. Delete it to get a new, unrelated id. */
export const INSTALL_ID_FILE = 'install-id';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The anonymous install id: a random UUID made on first start and kept in
 * the data directory. Random on purpose, not derived from the machine
 * (host name, MAC address, disk serial): it cannot be traced back to a
 * machine or a person, and a new data directory is a new install. When the
 * data directory is not writable the id lives for this process only
 * (`persisted: false`).
 */
export function readOrCreateInstallId(dataDir: string): { id: string; persisted: boolean; created: boolean } {
  const file = path.join(dataDir, INSTALL_ID_FILE);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (UUID.test(existing)) return { id: existing, persisted: true, created: false };
  } catch {
    // absent (first start) or unreadable: make one
  }
  const id = crypto.randomUUID();
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    // Write then rename: a crash mid-write never leaves a half id that a later start would replace.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${id}\n`, { mode: 0o644 });
    fs.renameSync(tmp, file);
    return { id, persisted: true, created: true };
  } catch {
    return { id, persisted: false, created: true };
  }
}
