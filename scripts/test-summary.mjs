// Prints the closing line of the whole suite ("N passed, N failed, N skipped")
// from the per-package files written by scripts/jest-result-reporter.js.
import fs from 'node:fs';
import path from 'node:path';

const dir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '.test-results');
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of files.sort()) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
  const extra = r.failedFiles.length ? `  failing: ${r.failedFiles.join(', ')}` : '';
  process.stdout.write(`  ${r.name.padEnd(22)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${extra}\n`);
}
if (files.length === 0) {
  process.stdout.write('no test results were written\n');
  process.exit(1);
}
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 ? 1 : 0);
