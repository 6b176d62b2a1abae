import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { splitStatements } from '../sql/statements';

export interface MigrationFile {
  /** Number at the start of the file name; strictly increasing. */
  version: number;
  /** File name without the number and extension. */
  name: string;
  file: string;
  /** sha256 of the file text: an applied migration must never change. */
  checksum: string;
  statements: string[];
}

/**
 * Reads NNNN_name.sql files from a folder, in version order. Two files with
 * the same version are an error, so a merge can never silently drop one.
 */
export function readMigrations(dir: string): MigrationFile[] {
  return readMigrationDirs([dir]);
}

/**
 * Reads the NNNN_name.sql files of several folders as one sequence, in
 * version order across all of them: each package ships its own migrations,
 * but a database has one version history, so a version may occur only once
 * in the whole set (the error names both files).
 */
export function readMigrationDirs(dirs: readonly string[]): MigrationFile[] {
  const out = dirs.flatMap(readDir);
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1];
    const cur = out[i];
    if (prev && cur && prev.version === cur.version) {
      throw new Error(`two migrations share version ${cur.version}: ${prev.file} and ${cur.file}`);
    }
  }
  return out;
}

function readDir(dir: string): MigrationFile[] {
  const out: MigrationFile[] = [];
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
    const m = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/.exec(f);
    if (!m) throw new Error(`migration file ${path.join(dir, f)} must be named NNNN_description.sql`);
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    out.push({
      version: Number(m[1]),
      name: m[2] ?? f,
      file: path.join(dir, f),
      checksum: crypto.createHash('sha256').update(text).digest('hex'),
      statements: splitStatements(text),
    });
  }
  return out;
}

/** Result of one migration run, for the CLI and logs. */
export interface MigrationReport {
  applied: { version: number; name: string; ms: number }[];
  alreadyApplied: number;
}
