/**
 * The data directory holds every device key (hub.sqlite and its WAL) and the CA key: it and every file
 * in it must be private to the user (issue #10 item 11), on a fresh directory and on one an older hub
 * left with group/world-readable modes. POSIX modes only: skipped on Windows.
 */
import * as assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { startTestHub } from '../support/local-hub-fixture';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function freshParent(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hub-perms-'));
  dirs.push(dir);
  return dir;
}

/** Every entry with group or other permission bits, as "name 0644". */
function notPrivate(dataDir: string): string[] {
  const found: string[] = [];
  const mode = (file: string) => statSync(file).mode & 0o777;
  if (mode(dataDir) & 0o077) found.push(`<data dir> ${mode(dataDir).toString(8)}`);
  for (const name of readdirSync(dataDir)) {
    const m = mode(path.join(dataDir, name));
    if (m & 0o077) found.push(`${name} ${m.toString(8)}`);
  }
  return found;
}

async function writeSomething(dataDir: string): Promise<string[]> {
  const hub = await startTestHub({ dataDir });
  try {
    hub.state.createDevice(`d${Date.now()}`, {});
    // While the hub is open the WAL and shared-memory files exist: check them too.
    assert.ok(readdirSync(dataDir).includes('hub.sqlite-wal'), readdirSync(dataDir).join(', '));
    return notPrivate(dataDir);
  } finally {
    await hub.close();
  }
}

describe('data directory permissions (item 11)', { skip: process.platform === 'win32' }, () => {
  test('a new data directory and its files (database, WAL, keys, certificates) are private', async () => {
    const previous = process.umask(0o022);
    try {
      const dataDir = path.join(freshParent(), 'data');
      assert.deepEqual(await writeSomething(dataDir), []);
    } finally {
      process.umask(previous);
    }
  });

  test('a data directory an older hub left readable is made private at start', async () => {
    const dataDir = path.join(freshParent(), 'data');
    await writeSomething(dataDir);
    chmodSync(dataDir, 0o755);
    for (const name of readdirSync(dataDir)) chmodSync(path.join(dataDir, name), 0o644);
    assert.deepEqual(await writeSomething(dataDir), []);
  });
});
