/**
 * Regenerates allowed-functions.generated.ts from a running engine:
 *   node packages/core/dist/sql/regenerate-functions.js <clickhouse url> [user] [password]
 * Writes the source file next to this one's source (src/sql); review the diff.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ClickHouse } from '../clickhouse/client';
import { generateAllowlistModule } from './function-allowlist';

async function main(): Promise<void> {
  const [url, username = 'default', password = ''] = process.argv.slice(2);
  if (!url) throw new Error('usage: regenerate-functions.js <clickhouse url> [user] [password]');
  const ch = new ClickHouse({ url, username, password, database: 'default' });
  try {
    const text = await generateAllowlistModule(ch);
    const target = path.join(__dirname, '..', '..', 'src', 'sql', 'allowed-functions.generated.ts');
    fs.writeFileSync(target, text);
    process.stdout.write(`wrote ${target}\n`);
  } finally {
    await ch.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
