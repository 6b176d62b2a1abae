import { clusterize, placeholderNames, renderVariables, splitStatements, statementKeyword } from '../src';

describe('splitStatements', () => {
  test('splits on top-level semicolons only', () => {
    expect(splitStatements('SELECT 1; SELECT \';\' AS s; SELECT `a;b` FROM t -- x;y\n; /* ; */ SELECT "q;"')).toEqual([
      'SELECT 1',
      "SELECT ';' AS s",
      'SELECT `a;b` FROM t -- x;y',
      '/* ; */ SELECT "q;"',
    ]);
  });
  test('escaped and doubled quotes stay inside the literal', () => {
    expect(splitStatements("SELECT 'it\\'s;'; SELECT 'a'';b'")).toEqual(["SELECT 'it\\'s;'", "SELECT 'a'';b'"]);
  });
  test('trailing semicolons, comments and blanks make no statement', () => {
    expect(splitStatements('SELECT 1;  -- done\n ; ')).toEqual(['SELECT 1']);
    expect(splitStatements('  -- only a comment\n')).toEqual([]);
  });
  test('statementKeyword skips comments and brackets', () => {
    expect(statementKeyword('/* hi */ -- x\n (select 1)')).toBe('SELECT');
    expect(statementKeyword('  set a = 1')).toBe('SET');
  });
});

describe('clusterize', () => {
  const c = { cluster: 'main' };
  test('adds ON CLUSTER after the object name and makes MergeTree engines Replicated', () => {
    expect(clusterize('CREATE TABLE IF NOT EXISTS events_raw_v1 (a UInt8) ENGINE = MergeTree ORDER BY a', c)).toBe(
      "CREATE TABLE IF NOT EXISTS events_raw_v1 ON CLUSTER 'main' (a UInt8) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY a",
    );
    expect(clusterize('CREATE TABLE t (v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY v', c)).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v)",
    );
    expect(clusterize('CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO dst AS SELECT 1', c)).toBe(
      "CREATE MATERIALIZED VIEW IF NOT EXISTS mv ON CLUSTER 'main' TO dst AS SELECT 1",
    );
    expect(clusterize('ALTER TABLE t ADD COLUMN x UInt8', c)).toBe("ALTER TABLE t ON CLUSTER 'main' ADD COLUMN x UInt8");
    expect(clusterize('CREATE TABLE x (a AggregateFunction(uniq, String)) ENGINE = AggregatingMergeTree() ORDER BY a', c)).toContain(
      "ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
    );
  });
  test('leaves non-MergeTree engines and plain statements alone', () => {
    expect(clusterize('CREATE TABLE q (a UInt8) ENGINE = Null', c)).toBe("CREATE TABLE q ON CLUSTER 'main' (a UInt8) ENGINE = Null");
    expect(clusterize('SELECT 1', c)).toBe('SELECT 1');
  });
});

describe('renderVariables and placeholders', () => {
  test('fills {{vars}} and refuses unknown ones', () => {
    expect(renderVariables('TTL ts + INTERVAL {{raw_retention_days}} DAY', { raw_retention_days: 30 })).toBe('TTL ts + INTERVAL 30 DAY');
    expect(() => renderVariables('{{nope}}', {})).toThrow(/unknown variable/);
  });
  test('placeholderNames lists {name:Type} bindings once each', () => {
    expect(placeholderNames('SELECT {a:UInt8}, {b: Array(String)}, {a:UInt8}')).toEqual(['a', 'b']);
  });
});
