import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { DATABASE_FILE, openHubState } from '../../local-hub/store';
import { within } from '../support/runtime-wait';

const ROOT = path.resolve(__dirname, '../..');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hub-persist-'));
}

test('reopening the same data dir gives back the same keys, etags, versions and metadata', () => {
  const dir = tempDir();
  try {
    const first = openHubState({ dataDir: dir });
    const device = first.createDevice('d1', {});
    first.createModule('d1', 'm1', { managedBy: 'me' });
    first.patchTwin('d1', 'm1', { tags: { t: 1 }, properties: { desired: { a: { b: 2 } } } }, '*');
    first.patchReported('d1', 'm1', { r: true });
    first.createDevice('d2', { status: 'disabled' });
    const snapshot = {
      device: first.getDevice('d1'),
      module: first.getModule('d1', 'm1'),
      twin: first.getTwin('d1', 'm1'),
      deviceTwin: first.getTwin('d1', null),
      list: first.listDevices(),
      stats: first.statistics(),
    };
    first.close();

    const second = openHubState({ dataDir: dir });
    try {
      assert.deepEqual(
        {
          device: second.getDevice('d1'),
          module: second.getModule('d1', 'm1'),
          twin: second.getTwin('d1', 'm1'),
          deviceTwin: second.getTwin('d1', null),
          list: second.listDevices(),
          stats: second.statistics(),
        },
        snapshot,
      );
      // The etag counter carries on: an update never reuses an etag issued before the restart.
      const updated = second.updateDevice('d1', { authentication: device.authentication }, device.etag);
      const issued = new Set([device.etag, snapshot.module.etag, ...snapshot.list.map((d) => d.etag)]);
      assert.ok(!issued.has(updated.etag));
      assert.equal(second.patchTwin('d1', 'm1', { tags: { t: 2 } }, snapshot.twin.etag).etag, 'AAAAAAAAAAQ=');
    } finally {
      second.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the database runs in WAL mode in <dataDir>/hub.sqlite', () => {
  const dir = tempDir();
  try {
    const state = openHubState({ dataDir: dir });
    state.createDevice('d1', {});
    // Read once the hub let go of it: while it runs, it holds the database alone (next test).
    state.close();
    const db = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('one hub per data directory: a second one is refused with the reason, the first keeps working', () => {
  const dir = tempDir();
  try {
    const first = openHubState({ dataDir: dir });
    try {
      first.createDevice('d1', {});
      // Another process opening the file directly is refused too (no write can happen behind the hub's cache).
      const other = new Database(path.join(dir, DATABASE_FILE), { timeout: 0 });
      try {
        assert.throws(() => other.prepare('SELECT COUNT(*) FROM identities').get(), /database is locked/);
      } finally {
        other.close();
      }
      assert.throws(
        () => openHubState({ dataDir: dir }),
        (error: Error) => {
          assert.match(error.message, /Another local hub is using the data directory/);
          assert.ok(error.message.includes(dir), error.message);
          assert.match(error.message, /stop that hub, or give this one another data directory/);
          return true;
        },
      );
      first.createDevice('d2', {});
      assert.equal(first.listDevices().length, 2);
    } finally {
      first.close();
    }
    const again = openHubState({ dataDir: dir });
    try {
      assert.deepEqual(
        again.listDevices().map((d) => d.deviceId),
        ['d1', 'd2'],
      );
    } finally {
      again.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an acknowledged write survives SIGKILL of the process that made it', async () => {
  const dir = tempDir();
  // The child writes, prints what it was acknowledged, then idles until killed.
  const script = `
    const { openHubState } = require(${JSON.stringify(path.join(ROOT, 'local-hub/store/index.ts'))});
    const state = openHubState({ dataDir: ${JSON.stringify(dir)} });
    const device = state.createDevice('k1', {});
    const twin = state.patchTwin('k1', null, { properties: { desired: { x: 1 } } }, '*');
    process.stdout.write(JSON.stringify({ key: device.authentication.symmetricKey.primaryKey, etag: twin.etag }) + '\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const acknowledged = await within(
      'the writer to acknowledge its write',
      new Promise<{ key: string; etag: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
        });
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      }),
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    assert.equal(await within('the killed writer to exit', exited), null);
    const state = openHubState({ dataDir: dir });
    try {
      assert.equal(state.getDevice('k1').authentication.symmetricKey.primaryKey, acknowledged.key);
      const twin = state.getTwin('k1', null);
      assert.equal(twin.etag, acknowledged.etag);
      assert.equal(twin.properties.desired['x'], 1);
    } finally {
      state.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
