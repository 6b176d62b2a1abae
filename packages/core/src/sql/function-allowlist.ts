/**
 * The function allowlist of user-supplied SQL (console, alert rules), and
 * the policy that generates it from the engine's own catalogue.
 *
 * Why an allowlist generated from system.functions, reviewed and committed,
 * rather than a denylist checked at run time: ClickHouse adds functions in
 * every release (26.x brought aiGenerate & co., which call out to the
 * network). A denylist lets each new one through until someone notices; a
 * committed list lets nothing through that was not in the engine when the
 * list was reviewed. The policy below is by category (ClickHouse documents
 * one per function): whole categories that only compute on their arguments
 * are taken, categories that reach outside the query's own rows (the host,
 * the server's configuration, dictionaries, models on disk, the network,
 * other queries) are not, and the catch-all "Other" category is reviewed
 * name by name. Aliases (alias_to) take their target's category.
 *
 * Regenerate after an engine upgrade (review the diff before committing):
 *   node packages/core/dist/sql/regenerate-functions.js http://127.0.0.1:8123 [user] [password]
 * The unit test sql-function-allowlist.test.ts checks that the committed
 * list contains no host-reaching, dictionary or introspection function.
 */
import type { ClickHouse } from '../clickhouse/client';
import { AGGREGATE_COMBINATORS, ALLOWED_AGGREGATES, ALLOWED_FUNCTIONS, CASE_INSENSITIVE } from './allowed-functions.generated';

/** Categories whose functions compute only on their arguments. */
export const ALLOWED_CATEGORIES: readonly string[] = [
  'Aggregate Functions',
  'Arithmetic',
  'Arrays',
  'Bit',
  'Bitmap',
  'Comparison',
  'Conditional',
  'Dates and Times',
  'Distance',
  'Encoding',
  'Encryption', // encrypt/decrypt with keys the query itself supplies
  'Financial',
  'Geo',
  'Geo Polygon',
  'Hash',
  'IP Address',
  'JSON',
  'Logical',
  'Map',
  'Mathematical',
  'Null',
  'NumericIndexedVector',
  'QBit',
  'Random Number',
  'Rounding',
  'String',
  'String Replacement',
  'String Search',
  'String Splitting',
  'Time Series',
  'Time Window',
  'Tuple',
  'Type Conversion',
  'URL', // parses URL strings (domain, path, ...); nothing is fetched
  'UUID',
];

/**
 * Categories left out, and why (documentation; the generator takes only
 * ALLOWED_CATEGORIES):
 * - Dictionary, Embedded Dictionary: dictGet* and regionTo* read server-side
 *   dictionaries, which are not tenant-filtered.
 * - AI: aiGenerate, aiClassify, ... call a model over the network.
 * - Introspection: addresses, symbols, part info of the server.
 * - Machine Learning: naiveBayesClassifier reads models configured on the server.
 * - Internal: engine internals (__getScalar, ...); the two the parser itself
 *   emits for ordinary SQL are in PARSER_EMITTED.
 */
export const LEFT_OUT_CATEGORIES: readonly string[] = ['Dictionary', 'Embedded Dictionary', 'AI', 'Introspection', 'Machine Learning', 'Internal'];

/**
 * The "Other" category, reviewed name by name: these compute on their
 * arguments or on the block being processed. Not taken from "Other", for
 * example: file (reads a server file), joinGet*, hasColumnInTable,
 * getSetting*, getServerSetting, getMergeTreeSetting, getMacro, hostName,
 * FQDN, currentUser/Database/Roles/Profiles, getClientHTTPHeader,
 * filesystem*, catboostEvaluate (a model file), sleep/sleepEachRow (hold the
 * engine), uptime, version, serverUUID, tcpPort, getServerPort, queryID,
 * transaction*, zookeeperSessionUptime, generateSerialID (writes Keeper),
 * globalVariable, showCertificate, throwIf-free formatQuery family (not needed).
 */
export const REVIEWED_OTHER: readonly string[] = [
  'MACNumToString',
  'MACStringToNum',
  'MACStringToOUI',
  'bar',
  'blockSize',
  'byteSize',
  'colorOKLABToSRGB',
  'colorOKLCHToSRGB',
  'colorSRGBToOKLAB',
  'colorSRGBToOKLCH',
  'countDigits',
  'defaultValueOfArgumentType',
  'defaultValueOfTypeName',
  'finalizeAggregation',
  'formatReadableDecimalSize',
  'formatReadableQuantity',
  'formatReadableSize',
  'formatReadableTimeDelta',
  'getSizeOfEnumType',
  'getSubcolumn',
  'identity',
  'ignore',
  'initializeAggregation',
  'isConstant',
  'isDecimalOverflow',
  'lowCardinalityIndices',
  'lowCardinalityKeys',
  'materialize',
  'minSampleSizeContinuous',
  'minSampleSizeConversion',
  'neighbor',
  'parseReadableSize',
  'parseReadableSizeOrNull',
  'parseReadableSizeOrZero',
  'parseTimeDelta',
  'rowNumberInAllBlocks',
  'rowNumberInBlock',
  'runningAccumulate',
  'runningDifference',
  'runningDifferenceStartingWithFirstValue',
  'throwIf',
  'toColumnTypeName',
  'toTypeName',
  'transform',
  'variantElement',
  'variantType',
  'visibleWidth',
];

/**
 * Functions the parser emits for ordinary syntax that system.functions does
 * not list or files under Internal: `x -> ...` (lambda), `EXISTS (...)`,
 * `GROUPING(...)`, `{p:T}` and `x::T` (_CAST), `CASE x WHEN` (caseWithExpression).
 */
export const PARSER_EMITTED: readonly string[] = ['lambda', 'exists', 'grouping', '_CAST', 'caseWithExpression'];

/** Table functions allowed in FROM: generators of rows that read nothing. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'generateSeries',
  'generate_series',
  'values',
]);

const allowed = new Set<string>([...ALLOWED_FUNCTIONS, ...PARSER_EMITTED]);
const allowedLower = new Set<string>(CASE_INSENSITIVE.map((n) => n.toLowerCase()));
const aggregates = new Set<string>(ALLOWED_AGGREGATES);
const aggregatesLower = new Set<string>(ALLOWED_AGGREGATES.filter((n) => CASE_INSENSITIVE.includes(n)).map((n) => n.toLowerCase()));
// Longest first, so "MergeState" is stripped before "State".
const combinators = [...AGGREGATE_COMBINATORS].sort((a, b) => b.length - a.length);

/**
 * Is `name` (as written in the SQL) an allowed scalar, aggregate or window
 * function? Aggregates may carry combinators (countIf, uniqMerge,
 * quantilesTDigestMergeState, sumOrNullIf, ...), which only change how the
 * same aggregate is applied.
 */
export function isAllowedFunction(name: string): boolean {
  if (allowed.has(name) || allowedLower.has(name.toLowerCase())) return true;
  let base = name;
  for (let guard = 0; guard < 8; guard++) {
    const suffix = combinators.find((c) => base.length > c.length && base.endsWith(c));
    if (!suffix) return false;
    base = base.slice(0, -suffix.length);
    if (aggregates.has(base) || aggregatesLower.has(base.toLowerCase())) return true;
  }
  return false;
}

export interface FunctionCatalogueRow {
  name: string;
  is_aggregate: number;
  case_insensitive: number;
  alias_to: string;
  categories: string;
}

/** Applies the policy to the engine's catalogue: the allowlist, sorted. */
export function selectAllowedFunctions(rows: FunctionCatalogueRow[]): { functions: string[]; aggregates: string[]; caseInsensitive: string[] } {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const categoryOf = (r: FunctionCatalogueRow): string => {
    if (r.categories) return r.categories;
    const target = r.alias_to ? byName.get(r.alias_to) : undefined;
    return target ? target.categories : '';
  };
  const ok = (r: FunctionCatalogueRow): boolean => {
    if (r.name.startsWith('_')) return false;
    const cat = categoryOf(r);
    if (
      cat
        .split(',')
        .map((c) => c.trim())
        .some((c) => LEFT_OUT_CATEGORIES.includes(c))
    )
      return false;
    if (
      cat
        .split(',')
        .map((c) => c.trim())
        .every((c) => ALLOWED_CATEGORIES.includes(c)) &&
      cat !== ''
    )
      return true;
    return REVIEWED_OTHER.includes(r.name) || (r.alias_to !== '' && REVIEWED_OTHER.includes(r.alias_to));
  };
  const picked = rows.filter(ok);
  const sort = (xs: string[]): string[] => [...new Set(xs)].sort();
  return {
    functions: sort(picked.map((r) => r.name)),
    aggregates: sort(picked.filter((r) => r.is_aggregate === 1).map((r) => r.name)),
    caseInsensitive: sort(picked.filter((r) => r.case_insensitive === 1).map((r) => r.name)),
  };
}

/** Reads the engine's catalogue and renders the module allowed-functions.generated.ts. */
export async function generateAllowlistModule(ch: ClickHouse): Promise<string> {
  const rs = await ch.client.query({
    query: "SELECT name, is_aggregate, case_insensitive, alias_to, categories FROM system.functions WHERE origin = 'System' ORDER BY name",
    format: 'JSONEachRow',
  });
  const rows = await rs.json<FunctionCatalogueRow>();
  const comb = await (
    await ch.client.query({ query: 'SELECT name FROM system.aggregate_function_combinators ORDER BY name', format: 'JSONEachRow' })
  ).json<{ name: string }>();
  const version = await (await ch.client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
  const sel = selectAllowedFunctions(rows);
  const list = (xs: string[]): string => `[\n${xs.map((x) => `  ${JSON.stringify(x)},`).join('\n')}\n]`;
  return [
    '// Generated by packages/core/src/sql/regenerate-functions.ts from system.functions of',
    `// ClickHouse ${version[0]?.v ?? '?'} with the policy in function-allowlist.ts. Review the diff; do not edit by hand.`,
    `export const ALLOWED_FUNCTIONS: readonly string[] = ${list(sel.functions)};`,
    `export const ALLOWED_AGGREGATES: readonly string[] = ${list(sel.aggregates)};`,
    `export const CASE_INSENSITIVE: readonly string[] = ${list(sel.caseInsensitive)};`,
    `export const AGGREGATE_COMBINATORS: readonly string[] = ${list(comb.map((c) => c.name).filter((c) => c !== 'Null'))};`,
    '',
  ].join('\n');
}
