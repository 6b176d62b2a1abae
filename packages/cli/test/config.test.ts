import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, CONFIG_KEYS } from '@tidemark/core';
import { loadPlatformConfig, PLATFORM_CONFIG_KEYS, platformConfigSchema, SETTINGS_SLICES, settingOwner } from '../src/config';

const PACKAGES = path.join(__dirname, '..', '..');

describe('the platform configuration: core slice + one slice per role', () => {
  test('every key belongs to exactly one slice, and the platform schema has them all', () => {
    const sliceKeys = Object.values(SETTINGS_SLICES).flatMap((s) => Object.keys(s.shape));
    expect(new Set(sliceKeys).size).toBe(sliceKeys.length);
    expect(sliceKeys.filter((k) => (CONFIG_KEYS as string[]).includes(k))).toEqual([]);
    expect(Object.keys(platformConfigSchema.shape).sort()).toEqual([...CONFIG_KEYS, ...sliceKeys].sort());
    expect(PLATFORM_CONFIG_KEYS.length).toBe(CONFIG_KEYS.length + sliceKeys.length);
    expect(settingOwner('ALERTING_TICK_MS')).toBe('alerting');
    expect(settingOwner('CONSUMER_GROUP_ID')).toBe('collector');
    expect(settingOwner('BUSINESS_CURRENCY')).toBe('api');
    expect(settingOwner('KAFKA_BROKERS')).toBe('core');
    expect(settingOwner('NO_SUCH_KEY')).toBeUndefined();
  });

  test.each(Object.keys(SETTINGS_SLICES))('every key of the %s slice has a comment in its settings.ts', (role) => {
    const slice = SETTINGS_SLICES[role as keyof typeof SETTINGS_SLICES];
    const lines = fs.readFileSync(path.join(PACKAGES, role, 'src', 'settings.ts'), 'utf8').split('\n');
    for (const key of Object.keys(slice.shape)) {
      const at = lines.findIndex((l) => new RegExp(`^\\s*${key}:`).test(l));
      // The line right above the key closes its doc comment.
      expect({ key, commented: at > 0 && /\*\/\s*$/.test(lines[at - 1] ?? '') }).toEqual({ key, commented: true });
    }
  });

  test('role keys parse with their defaults, and bad ones are named across slices in one error', () => {
    const c = loadPlatformConfig({ ALERTING_TICK_MS: '250', BUSINESS_NET_ORDER_STATUSES: 'paid, shipped' });
    expect(c.ALERTING_TICK_MS).toBe(250);
    expect(c.BUSINESS_NET_ORDER_STATUSES).toEqual(['paid', 'shipped']);
    expect(c.CONSUMER_GROUP_ID).toBe('tidemark-ingest');
    expect(c.ETL_DEMO).toBe(false);
    let err: unknown;
    try {
      loadPlatformConfig({ ALERTING_TICK_MS: 'soon', API_AI_CURRENCY: 'dollars', COLLECTOR_MAX_ITEMS: '-1', API_PORT: 'x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).context.keys.sort()).toEqual(['ALERTING_TICK_MS', 'API_AI_CURRENCY', 'API_PORT', 'COLLECTOR_MAX_ITEMS']);
  });

  test("a TIDEMARK_CONFIG file may hold every role's keys; a key of no slice is named", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-platform-config-'));
    const file = path.join(dir, 'tidemark.yaml');
    try {
      fs.writeFileSync(file, 'API_PORT: 4100\nALERTING_TICK_MS: 500\nETL_DEMO: true\nMONITOR_PROJECT: ops\n');
      const c = loadPlatformConfig({ TIDEMARK_CONFIG: file });
      expect([c.API_PORT, c.ALERTING_TICK_MS, c.ETL_DEMO, c.MONITOR_PROJECT]).toEqual([4100, 500, true, 'ops']);
      fs.writeFileSync(file, 'ALERTING_TICK_MS: 500\nALERTING_TIKC_MS: 1\n');
      expect(() => loadPlatformConfig({ TIDEMARK_CONFIG: file })).toThrow(/ALERTING_TIKC_MS: unknown setting/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
