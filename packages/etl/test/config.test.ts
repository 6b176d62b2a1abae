import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '@tidemark/core';
import { formatDuration, parseDuration } from '../src/config/duration';
import { loadEtlConfigFile, parseEtlConfig } from '../src/config/load';

const URL = 'postgres://etl@db.example:5432/shop';

function problems(doc: unknown): string {
  try {
    parseEtlConfig(doc, { file: 'etl.yaml', env: { SHOP_URL: URL } });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('ETL config', () => {
  test('a YAML file resolves with defaults; ${VAR} comes from the environment', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-etl-cfg-'));
    const file = path.join(dir, 'etl.yaml');
    fs.writeFileSync(
      file,
      [
        'sources:',
        '  - name: shop',
        '    url: ${SHOP_URL}',
        '    project: acme',
        '    targetPrefix: biz_',
        '    defaults:',
        '      cursor: { column: updated_at }',
        '    tables:',
        '      - name: orders',
        '        types: { amount: "Decimal(20, 4)" }',
        '        schedule: 15s',
        '      - name: customers',
        '        mode: cdc',
        '        exclude: [notes]',
        '      - name: roles',
        '        mode: full',
        '        schedule: { cron: "*/5 * * * *" }',
        '        target: roles_dim',
      ].join('\n'),
    );
    const cfg = loadEtlConfigFile(file, { SHOP_URL: URL });
    const [src] = cfg.sources;
    expect(src?.tables.every((t) => t.project === 'acme')).toBe(true);
    expect(src).toMatchObject({
      name: 'shop',
      project: 'acme',
      url: URL,
      schema: 'public',
      cdc: { slot: 'tidemark_shop', publication: 'tidemark_shop', managePublication: true, flushIntervalMs: 200 },
    });
    expect(src?.tables.map((t) => [t.key, t.mode, t.target])).toEqual([
      ['shop.public.orders', 'cursor', 'biz_orders'],
      ['shop.public.customers', 'cdc', 'biz_customers'],
      ['shop.public.roles', 'full', 'roles_dim'],
    ]);
    const [orders, customers, roles] = src?.tables ?? [];
    expect(orders).toMatchObject({
      cursor: { column: 'updated_at', overlapMs: 2000 },
      schedule: { everyMs: 15_000 },
      types: { amount: 'Decimal(20, 4)' },
      stallAfterMs: 300_000,
    });
    expect(orders?.reconcile).toEqual({ everyMs: 3_600_000, repair: true, maxRepair: 100_000 });
    expect(customers).toMatchObject({ exclude: ['notes'], schedule: { everyMs: 60_000 }, reconcile: { everyMs: 6 * 3_600_000 } });
    expect(roles).toMatchObject({ schedule: { cron: '*/5 * * * *' }, reconcile: false, unconstrainedNumeric: { precision: 38, scale: 9 } });
    fs.writeFileSync(path.join(dir, 'etl.json'), JSON.stringify({ sources: [{ name: 'j', url: URL, tables: [{ name: 't', mode: 'full' }] }] }));
    expect(loadEtlConfigFile(path.join(dir, 'etl.json')).sources[0]?.tables[0]).toMatchObject({ key: 'j.public.t', project: 'default' });
    fs.rmSync(dir, { recursive: true });
  });

  test('every problem is reported with the file and the path of the field', () => {
    const message = problems({
      sources: [
        {
          name: 'Shop!',
          url: 'mysql://nope',
          tables: [
            { name: 'orders', mode: 'curser' },
            { name: 'items', cursor: { column: 'updated_at', overlap: 'soon' }, types: { price: 'Money(2)' } },
            { name: 'lines', include: ['a'], exclude: ['b'], cursor: { column: 'u' }, sheduel: '5s' },
          ],
        },
      ],
    });
    expect(message).toMatch(/^invalid ETL config etl\.yaml \(\d+ problems\):/);
    expect(message).toContain('etl.yaml: sources[0].name: must be lower-case letters');
    expect(message).toContain('etl.yaml: sources[0].url: must be a postgres:// URL');
    expect(message).toContain('etl.yaml: sources[0].tables[0].mode: Invalid option: expected one of "cursor"|"cdc"|"full"');
    expect(message).toContain('etl.yaml: sources[0].tables[1].cursor.overlap: must be a duration');
    expect(message).toContain('etl.yaml: sources[0].tables[1].types.price: unsupported ClickHouse type "Money(2)"');
    expect(message).toContain('etl.yaml: sources[0].tables[2]: Unrecognized key: "sheduel"');
  });

  test('cross-field rules: cursor column, include/exclude, unique targets and tables, missing variables', () => {
    expect(problems({ sources: [{ name: 's', url: URL, tables: [{ name: 'orders' }] }] })).toContain(
      'sources[0].tables[0].cursor: mode cursor needs cursor.column',
    );
    expect(problems({ sources: [{ name: 's', url: URL, tables: [{ name: 'a', mode: 'full', include: ['x'], exclude: ['y'] }] }] })).toContain(
      'sources[0].tables[0].exclude: set include or exclude, not both',
    );
    expect(
      problems({
        sources: [
          { name: 's', url: URL, tables: [{ name: 'a', mode: 'full', target: 'dup' }] },
          { name: 't', url: URL, tables: [{ name: 'b', mode: 'full', target: 'dup' }] },
        ],
      }),
    ).toContain('sources[1].tables[0].target: target dup is also used by s.public.a');
    expect(
      problems({
        sources: [
          {
            name: 's',
            url: URL,
            tables: [
              { name: 'a', mode: 'full' },
              { name: 'a', mode: 'full' },
            ],
          },
        ],
      }),
    ).toContain('table public.a is listed twice');
    expect(problems({ sources: [{ name: 's', url: '${NOPE}', tables: [{ name: 'a', mode: 'full' }] }] })).toContain(
      'sources[0].url: environment variable NOPE is not set',
    );
    expect(problems({ sources: [{ name: 's', url: URL, tables: [{ name: 'a', mode: 'full', types: { x: 'Decimal(80, 2)' } }] }] })).toContain(
      'Decimal precision must be 1..76',
    );
    expect(problems({ sources: [] })).toContain('sources: at least one source');
    expect(problems({ sources: [{ name: 's', url: URL, tables: [{ name: 'a', mode: 'full', schedule: { every: '1m', cron: '* * * * *' } }] }] })).toContain(
      'set exactly one of every / cron',
    );
  });

  test('unreadable and unparsable files name ETL_CONFIG and the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-etl-cfg-'));
    expect(() => loadEtlConfigFile(path.join(dir, 'missing.yaml'))).toThrow(/ETL_CONFIG: cannot read .*missing\.yaml/);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'sources: [unclosed\n');
    expect(() => loadEtlConfigFile(path.join(dir, 'bad.yaml'))).toThrow(/ETL_CONFIG: .*bad\.yaml is not valid YAML/);
    fs.rmSync(dir, { recursive: true });
  });

  test('durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration(1234)).toBe(1234);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
    expect([formatDuration(90_000), formatDuration(1_500), formatDuration(7_200_000)]).toEqual(['90s', '1500ms', '2h']);
  });
});
