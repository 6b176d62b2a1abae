#!/usr/bin/env node
/**
 * Writes src/api-types.generated.ts, the dashboard's types of the query API,
 * from the API's OpenAPI document (openapi-typescript). The document is
 * built offline from the API's route table (offlineOpenApiDocument in
 * packages/api/src/http/openapi.ts): no server runs. The web package does
 * not depend on the server packages, so this is a script run by hand after a
 * route changes (npm run api-types -w @tidemark/web, with packages/api built),
 * and packages/api's OpenAPI test fails while the committed file differs from
 * what this script would write.
 *
 *   --doc FILE   read the document from FILE instead of the built API
 *   --check      write nothing; exit 1 (and say so) when the file is not current
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(here, '..', 'src', 'api-types.generated.ts');
const HEADER = `/**
 * Generated from the query API's OpenAPI document (/openapi.json) by
 * packages/web/scripts/api-types.mjs: do not edit. After changing a route of
 * packages/api, rebuild it and run: npm run api-types -w @tidemark/web
 */
`;

const args = process.argv.slice(2);
const docAt = args.indexOf('--doc');
const check = args.includes('--check');

async function loadDocument() {
  if (docAt >= 0) return JSON.parse(fs.readFileSync(args[docAt + 1], 'utf8'));
  const require = createRequire(import.meta.url);
  const built = path.join(here, '..', '..', 'api', 'dist', 'http', 'openapi.js');
  if (!fs.existsSync(built)) throw new Error(`${built} is missing: build packages/api first (npx turbo run build --filter=@tidemark/api)`);
  return require(built).offlineOpenApiDocument();
}

/** The file's text for a document: the same document always gives the same text. */
export async function render(doc) {
  const ast = await openapiTS(doc, { alphabetize: true, exportType: false });
  return HEADER + astToString(ast);
}

const text = await render(await loadDocument());
if (check) {
  const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
  if (current !== text) {
    process.stderr.write(`${path.relative(process.cwd(), OUT)} is not current: run npm run api-types -w @tidemark/web (packages/api built)\n`);
    process.exit(1);
  }
  process.stdout.write(`${path.relative(process.cwd(), OUT)} is current\n`);
} else {
  fs.writeFileSync(OUT, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), OUT)}\n`);
}
