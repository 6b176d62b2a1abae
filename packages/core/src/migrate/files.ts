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
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql'));
  const out: MigrationFile[] = [];
  for (const f of files) {
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
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]?.version === out[i - 1]?.version) {
      throw new Error(`two migrations share version ${out[i]?.version}: ${out[i - 1]?.file} and ${out[i]?.file}`);
    }
  }
  return out;
}

/** Result of one migration run, for the CLI and logs. */
export interface MigrationReport {
  applied: { version: number; name: string; ms: number }[];
  alreadyApplied: number;
}
