import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildHeartbeat, HEARTBEAT_EVENT, INSTALL_ID_FILE, readOrCreateInstallId } from '../src';

test('the install id is a random UUID made once and kept in the data directory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-install-'));
  try {
    const first = readOrCreateInstallId(path.join(dir, 'data'));
    expect(first).toMatchObject({ persisted: true, created: true });
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(readOrCreateInstallId(path.join(dir, 'data'))).toEqual({ id: first.id, persisted: true, created: false });
    // Another data directory is another install, unrelated to this machine.
    expect(readOrCreateInstallId(path.join(dir, 'other')).id).not.toBe(first.id);
    // A damaged file is replaced, not trusted.
    fs.writeFileSync(path.join(dir, 'data', INSTALL_ID_FILE), 'garbage');
    expect(readOrCreateInstallId(path.join(dir, 'data')).id).not.toBe(first.id);
    // An unwritable place still gives an id, for this process only.
    fs.writeFileSync(path.join(dir, 'file'), '');
    expect(readOrCreateInstallId(path.join(dir, 'file', 'sub'))).toMatchObject({ persisted: false, created: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a heartbeat holds the install id, OS, architecture and versions, and nothing personal', () => {
  const hb = buildHeartbeat('0b0e9f6c-9a4c-4d0e-9d36-1f2b8b4c0a11', '1.2.3', 'embedded');
  expect(hb).toEqual({
    name: HEARTBEAT_EVENT,
    distinct_id: '0b0e9f6c-9a4c-4d0e-9d36-1f2b8b4c0a11',
    properties: { os: os.platform(), arch: os.arch(), tidemark_version: '1.2.3', node_version: process.versions.node, deployment: 'embedded' },
    context: { os: os.platform(), app_version: '1.2.3' },
  });
  const text = JSON.stringify(hb);
  for (const personal of [os.hostname(), os.userInfo().username, os.homedir(), process.cwd()]) expect(text).not.toContain(personal);
});
