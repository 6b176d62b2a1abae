import { planColumns } from '../src/engine/evaluate';
import { parseRuleFile } from '../src/rules/load';
import { judge, ruleSchema, zodProblems } from '../src/rules/schema';
import { checkSqlText } from '../src/rules/validate';
import { formatDuration, parseDuration } from '../src/util/duration';

const base = { name: 'R', sql: 'SELECT 1 AS value' };

describe('durations', () => {
  test('parse and format', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration('m5')).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('rule schema', () => {
  test('defaults are applied and durations become milliseconds', () => {
    const r = ruleSchema.parse(base);
    expect(r).toMatchObject({
      interval: 60_000,
      for: 0,
      keep_firing_for: 0,
      severity: 'WARNING',
      enabled: true,
      no_data: { state: 'nodata' },
      error: { state: 'error' },
    });
  });

  test('every problem names its field', () => {
    const r = ruleSchema.safeParse({ ...base, interval: '500ms', severity: 'HIGH', labels: { 'bad-label': 'x' }, annotations: { summary: '{{ x' }, extra: 1 });
    expect(r.success).toBe(false);
    const issues = r.success ? [] : zodProblems(r.error, 'f', '').map((p) => `${p.field ?? ''}: ${p.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        ': Unrecognized key: "extra" (extra)',
        expect.stringMatching(/^severity: Invalid option/),
        'labels.bad-label: must be a label name ([A-Za-z_][A-Za-z0-9_]*) (the key)',
        'annotations.summary: invalid template: unclosed "{{" at 0',
      ]),
    );
    const i2 = ruleSchema.safeParse({ ...base, interval: '500ms' });
    expect(i2.success ? [] : i2.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['interval: must be at least 1s']);
  });

  test('threshold xor thresholds; thresholds ordered with the operator', () => {
    const msg = (c: unknown) => {
      const r = ruleSchema.safeParse({ ...base, condition: c });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(msg({ op: '>' })).toEqual(['condition.threshold: give exactly one of threshold or thresholds']);
    expect(msg({ op: '<', thresholds: { WARNING: 10, CRITICAL: 20 } })).toEqual([
      'condition.thresholds.CRITICAL: CRITICAL (20) must be at most WARNING (10) for op <',
    ]);
    expect(msg({ op: '==', thresholds: { WARNING: 1 } })).toEqual(['condition.thresholds: severity thresholds need an ordering operator (> >= < <=), not ==']);
    expect(msg({ op: '<', thresholds: { WARNING: 10, CRITICAL: 5 } })).toEqual([]);
  });

  test('judge: the highest crossed threshold is the severity; no value is never active; no condition means every row', () => {
    const graded = ruleSchema.parse({ ...base, condition: { op: '>', thresholds: { INFO: 50, WARNING: 80, CRITICAL: 95 } } });
    expect(judge(graded, 96)).toEqual({ active: true, severity: 'CRITICAL' });
    expect(judge(graded, 81)).toEqual({ active: true, severity: 'WARNING' });
    expect(judge(graded, 60)).toEqual({ active: true, severity: 'INFO' });
    expect(judge(graded, 10).active).toBe(false);
    expect(judge(graded, null).active).toBe(false);
    expect(judge(ruleSchema.parse({ ...base, severity: 'CRITICAL' }), null)).toEqual({ active: true, severity: 'CRITICAL' });
  });

  test('SQL text checks: one SELECT, no SETTINGS/FORMAT (comments and strings ignored); no placeholder needed, the engine scopes the project', () => {
    const p = (sql: string) => checkSqlText(ruleSchema.parse({ ...base, sql })).map((x) => x.message);
    expect(p('SELECT 1 AS value; DROP TABLE x')).toEqual(['must be exactly one statement (found 2)']);
    expect(p('INSERT INTO t VALUES (1)')).toEqual(['must be a SELECT (rules are read-only), not INSERT']);
    expect(p("SELECT 'SETTINGS' AS s, 1 AS value -- FORMAT JSON")).toEqual([]);
    expect(p('SELECT 1 AS value FORMAT JSON')).toEqual(['must not have a FORMAT clause: the engine reads the result itself']);
    expect(p('WITH x AS (SELECT 1) SELECT count() AS value FROM logs_raw_v1')).toEqual([]);
    expect(p('SELECT count() AS value FROM logs_raw_v1 WHERE project_id = {project_id:String}')).toEqual([]);
  });

  test('result columns: the value column, labels and the rest', () => {
    const r = ruleSchema.parse({ ...base, condition: { op: '>', threshold: 1 } });
    expect(
      planColumns(r, [
        { name: 'host', type: 'LowCardinality(String)' },
        { name: 'value', type: 'Nullable(Float64)' },
        { name: 'n', type: 'UInt64' },
        { name: 'at', type: "DateTime64(3, 'UTC')" },
        { name: 'kind', type: "Enum8('a' = 1)" },
      ]),
    ).toEqual({ value: 'value', labels: ['host', 'kind'], others: ['n', 'at'] });
    expect(() => planColumns(r, [{ name: 'host', type: 'String' }])).toThrow(/no numeric column/);
    expect(planColumns(ruleSchema.parse(base), [{ name: 'host', type: 'String' }])).toEqual({ value: null, labels: ['host'], others: [] });
    expect(() => planColumns(ruleSchema.parse({ ...base, value_column: 'host' }), [{ name: 'host', type: 'String' }])).toThrow(
      /value_column "host" has type String; it must be numeric/,
    );
  });
});

describe('rule files', () => {
  test('YAML errors, unknown keys and a missing project are reported with the file', () => {
    expect(parseRuleFile('a.yaml', 'rules: [\n').problems[0]?.message).toMatch(/^not valid YAML: /);
    expect(parseRuleFile('a.yaml', 'project: p\nrulez: []\n').problems).toEqual([{ file: 'a.yaml', message: 'Unrecognized key: "rulez" (rulez)' }]);
    expect(parseRuleFile('a.yaml', 'rules: []\n').problems).toEqual([
      { file: 'a.yaml', field: 'project', message: 'name the project the rules belong to (project: <id>)' },
    ]);
  });

  test('one bad rule does not stop the others; duplicates are reported', () => {
    const f = parseRuleFile(
      'r.yaml',
      `project: p
rules:
  - { name: A, sql: SELECT 1 AS value }
  - { name: B, sql: SELECT 1 AS value, for: soon }
  - { name: A, sql: SELECT 2 AS value }
  - { name: C, sql: SELECT 1 AS value, condition: { op: '>', threshold: 1 }, labels: { alertname: x } }
`,
    );
    expect(f.rules.map((r) => r.spec.name)).toEqual(['A']);
    expect(f.badRules).toEqual(['B', 'C']);
    expect(f.problems.map((p) => `${p.rule} ${p.field}: ${p.message}`)).toEqual([
      'B rules[1].for: "soon" is not a duration; write e.g. 30s, 5m, 1h30m or 7d',
      'A rules[2].name: rule "A" is defined twice in this file',
      'C rules[3].labels: alertname and severity are set by the engine; use name and severity/thresholds',
    ]);
  });
});
