import { ALLOWED_FUNCTIONS } from '../src/sql/allowed-functions.generated';
import { parseExplainAst, AstParseError } from '../src/sql/ast';
import { ALLOWED_TABLE_FUNCTIONS, isAllowedFunction } from '../src/sql/function-allowlist';
import { balancedCanonical, sqlString } from '../src/sql/tenant-query';

describe('function allowlist (generated from system.functions, committed)', () => {
  test('is not empty and has the everyday functions, aggregates with combinators and case-insensitive names', () => {
    expect(ALLOWED_FUNCTIONS.length).toBeGreaterThan(1000);
    for (const f of [
      'count',
      'COUNT',
      'Sum',
      'countIf',
      'uniqMerge',
      'quantilesTDigestMergeState',
      'sumOrNullIf',
      'toStartOfHour',
      'lower',
      'LOWER',
      'if',
      'multiIf',
      'in',
      'notIn',
      'tuple',
      'lambda',
      '_CAST',
      'arrayMap',
      'row_number',
      'lagInFrame',
    ]) {
      expect([f, isAllowedFunction(f)]).toEqual([f, true]);
    }
  });

  test('excludes every function that reaches the host, the network, dictionaries, settings or introspection', () => {
    const forbidden = [
      'file',
      'url',
      'remote',
      's3',
      'executable',
      'input',
      'mysql',
      'postgresql',
      'dictGet',
      'dictGetString',
      'dictGetOrDefault',
      'dictHas',
      'dictIsIn',
      'dictGetHierarchy',
      'dictGetChildren',
      'dictGetAll',
      'joinGet',
      'joinGetOrNull',
      'regionToName',
      'regionToCountry',
      'regionHierarchy',
      'aiGenerate',
      'aiClassify',
      'aiEmbed',
      'AIGenerate',
      'addressToLine',
      'addressToSymbol',
      'demangle',
      'mergeTreePartInfo',
      'logTrace',
      'tid',
      'catboostEvaluate',
      'naiveBayesClassifier',
      'getSetting',
      'getSettingOrDefault',
      'getServerSetting',
      'getMergeTreeSetting',
      'getMacro',
      'getClientHTTPHeader',
      'hasColumnInTable',
      'hostName',
      'hostname',
      'FQDN',
      'fullHostName',
      'currentUser',
      'user',
      'currentDatabase',
      'DATABASE',
      'currentRoles',
      'currentProfiles',
      'filesystemAvailable',
      'filesystemCapacity',
      'getOSKernelVersion',
      'buildId',
      'serverUUID',
      'tcpPort',
      'getServerPort',
      'uptime',
      'sleep',
      'sleepEachRow',
      'generateSerialID',
      'globalVariable',
      'showCertificate',
      'queryID',
      'initialQueryID',
      '__getScalar',
      '__applyFilter',
      'zookeeperSessionUptime',
      'transactionID',
    ];
    const allowedNow = forbidden.filter((f) => isAllowedFunction(f) || ALLOWED_FUNCTIONS.includes(f));
    expect(allowedNow).toEqual([]);
    // Nothing in the list is named like a dictionary, file, url or host function.
    expect(ALLOWED_FUNCTIONS.filter((f) => /^(dict|joinGet|file$|url$|host|getSetting|filesystem|sleep|ai[A-Z]|AI[A-Z]|region)/.test(f))).toEqual([]);
  });

  test('table functions: generators only', () => {
    expect([...ALLOWED_TABLE_FUNCTIONS].sort()).toEqual(['generateSeries', 'generate_series', 'numbers', 'numbers_mt', 'values', 'zeros', 'zeros_mt']);
  });
});

describe('EXPLAIN AST read as a tree', () => {
  test('nodes, names, aliases and children by indentation', () => {
    const roots = parseExplainAst([
      'SelectWithUnionQuery (children 1)',
      ' ExpressionList (children 1)',
      '  Function count (alias c) (children 1)',
      '   ExpressionList',
      '  Identifier system.one',
    ]);
    expect(roots).toHaveLength(1);
    const list = roots[0]!.children[0]!;
    expect(list.children.map((c) => [c.kind, c.name, c.alias])).toEqual([
      ['Function', 'count', 'c'],
      ['Identifier', 'system.one', undefined],
    ]);
  });

  test('refuses output it cannot read', () => {
    expect(() => parseExplainAst(['SelectQuery', '   Identifier x'])).toThrow(AstParseError);
    expect(() => parseExplainAst(['SelectQuery', '\tIdentifier x'])).toThrow(AstParseError);
    expect(() => parseExplainAst(["'not a node"])).toThrow(AstParseError);
  });

  test('canonical text balance and literal quoting', () => {
    expect(balancedCanonical("SELECT ')' AS a, `x)` FROM (SELECT 1)")).toBe(true);
    expect(balancedCanonical('SELECT 1) INTO OUTFILE (')).toBe(false);
    expect(balancedCanonical('SELECT 1; SELECT 2')).toBe(false);
    expect(balancedCanonical("SELECT 'a\\')'")).toBe(true);
    expect(sqlString("it's \\ ok")).toBe("'it\\'s \\\\ ok'");
  });
});
