import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, CONFIG_KEYS, configSchema, loadConfig, parseConfig, redactConfig } from '../src';

describe('loadConfig', () => {
  test('defaults give the embedded setup', () => {
    const c = loadConfig({});
    expect(c.CLICKHOUSE_URL).toBeUndefined();
    expect(c.META_DATABASE_URL).toBeUndefined();
    expect(c.KAFKA_BROKERS).toBeUndefined();
    expect(c.EMBEDDED_CLICKHOUSE_PORT).toBe(8123);
    expect(c.CLICKHOUSE_DATABASE).toBe('tidemark');
    expect(c.RAW_RETENTION_DAYS).toBe(90);
  });

  test('env strings are coerced; empty means unset', () => {
    const c = loadConfig({ API_PORT: '5000', TIDEMARK_DEMO: 'yes', KAFKA_BROKERS: '', REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(c.API_PORT).toBe(5000);
    expect(c.TIDEMARK_DEMO).toBe(true);
    expect(c.KAFKA_BROKERS).toBeUndefined();
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  test('every bad key is named in one error', () => {
    let err: unknown;
    try {
      loadConfig({ API_PORT: 'eighty', CLICKHOUSE_URL: 'not a url', LOG_LEVEL: 'loud', CLICKHOUSE_DATABASE: 'drop table;', CLICKHOUSE_PASSWORD: 'hunter2' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.context.keys.sort()).toEqual(['API_PORT', 'CLICKHOUSE_DATABASE', 'CLICKHOUSE_URL', 'LOG_LEVEL']);
    for (const key of e.context.keys) expect(e.message).toContain(`${key}:`);
    expect(e.message).toContain('"eighty"');
  });

  test('secrets never appear in the error', () => {
    expect(() => loadConfig({ CLICKHOUSE_PASSWORD: 123 as unknown as string, API_PORT: 'x' })).toThrow(ConfigError);
    try {
      loadConfig({ META_DATABASE_URL: 'nope', CLICKHOUSE_READONLY_PASSWORD: undefined, API_PORT: '-1' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter');
    }
  });

  test('a YAML config file is read, env wins over it, and unknown keys in it are errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-config-'));
    const file = path.join(dir, 'tidemark.yaml');
    fs.writeFileSync(file, 'API_PORT: 4100\nCOLLECTOR_PORT: 4101\n');
    const c = loadConfig({ TIDEMARK_CONFIG: file, COLLECTOR_PORT: '4200' });
    expect(c.API_PORT).toBe(4100);
    expect(c.COLLECTOR_PORT).toBe(4200);
    fs.writeFileSync(file, 'API_PORT: 4100\nAPI_PROT: 1\n');
    expect(() => parseConfig(configSchema, { TIDEMARK_CONFIG: file })).toThrow(/API_PROT: unknown setting/);
    // An embedded engine's process reads core's keys of the platform's file and leaves the rest to the platform's parse.
    expect(loadConfig({ TIDEMARK_CONFIG: file }).API_PORT).toBe(4100);
    fs.writeFileSync(file, 'API_PORT: [unclosed\n');
    expect(() => loadConfig({ TIDEMARK_CONFIG: file })).toThrow(/TIDEMARK_CONFIG: .* is not valid YAML/);
    expect(() => loadConfig({ TIDEMARK_CONFIG: path.join(dir, 'missing.yaml') })).toThrow(/cannot read/);
    fs.rmSync(dir, { recursive: true });
  });

  test('overrides (command-line flags) win over env', () => {
    expect(loadConfig({ API_PORT: '1' }, { API_PORT: '2' }).API_PORT).toBe(2);
  });

  test('redactConfig hides passwords and URL credentials', () => {
    const c = loadConfig({ CLICKHOUSE_PASSWORD: 's3cret', META_DATABASE_URL: 'postgres://u:pw@db:5432/meta' });
    const r = redactConfig(c);
    expect(r.CLICKHOUSE_PASSWORD).toBe('<redacted>');
    expect(r.META_DATABASE_URL).toBe('postgres://<redacted>@db:5432/meta');
    expect(JSON.stringify(r)).not.toMatch(/s3cret|pw@/);
  });

  test('every key of the schema has a comment in the schema source', () => {
    const src = fs.readFileSync(path.join(__dirname, '..', 'src', 'config', 'schema.ts'), 'utf8');
    const lines = src.split('\n');
    for (const key of CONFIG_KEYS) {
      const at = lines.findIndex((l) => new RegExp(`^\\s*${key}:`).test(l));
      // The line right above the key closes its doc comment.
      expect({ key, commented: at > 0 && /\*\/\s*$/.test(lines[at - 1] ?? '') }).toEqual({ key, commented: true });
    }
    expect(Object.keys(configSchema.shape).length).toBe(CONFIG_KEYS.length);
  });
});
