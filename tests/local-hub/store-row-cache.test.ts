/**
 * The registry's parsed-row cache (local-hub/store/row-cache.ts) never answers differently from SQLite:
 * rolled-back writes are not served, rows are frozen, scans see cached writes, and the bound holds.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { openHubState } from '../../local-hub/store';
import { RowCache } from '../../local-hub/store/row-cache';
import { type IdentityRow, SqliteRegistry } from '../../local-hub/store/sqlite-registry';

/** A registry on a fresh data dir holding device d1 with module m1 (made through the hub's own operations). */
function withRegistry(run: (db: SqliteRegistry) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-row-cache-'));
  try {
    const state = openHubState({ dataDir: dir });
    state.createDevice('d1', {});
    state.createModule('d1', 'm1', {});
    state.close();
    const db = SqliteRegistry.open({ dataDir: dir });
    try {
      run(db);
    } finally {
      db.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function withTags(row: IdentityRow, tags: Record<string, number>): IdentityRow['twin'] {
  return { ...row.twin, tags, etagCounter: row.twin.etagCounter + 1 };
}

describe('row cache', () => {
  test('a rolled-back write is not served from the cache (transaction and savepoint)', () => {
    withRegistry((db) => {
      const before = db.get('d1', 'm1')!;
      assert.throws(
        () =>
          db.transaction(() => {
            db.putTwin('d1', 'm1', withTags(before, { a: 1 }));
            assert.deepEqual(db.get('d1', 'm1')!.twin.tags, { a: 1 }, 'the transaction sees its write');
            throw new Error('boom');
          }),
        /boom/,
      );
      assert.deepEqual(db.get('d1', 'm1'), before);

      // A savepoint rolled back inside a transaction that commits: only the outer write stays.
      db.transaction(() => {
        db.putTwin('d1', 'm1', withTags(before, { kept: 1 }));
        try {
          db.transaction(() => {
            db.putTwin('d1', null, withTags(db.get('d1', null)!, { gone: 1 }));
            db.delete('d1', 'm1');
            throw new Error('inner');
          });
        } catch {
          // the savepoint is rolled back; the outer transaction goes on
        }
      });
      assert.deepEqual(db.get('d1', 'm1')!.twin.tags, { kept: 1 });
      assert.deepEqual(db.get('d1', null)!.twin.tags, {});
    });
  });

  test('under the test suite rows read are frozen: a change in place throws instead of changing later reads', () => {
    // npm test sets it for every test and every hub they start (next test); set here too, for a run of this file alone.
    const before = process.env['LOCAL_HUB_FREEZE_ROWS'];
    process.env['LOCAL_HUB_FREEZE_ROWS'] = '1';
    try {
      withRegistry(assertFrozenRows);
    } finally {
      if (before === undefined) delete process.env['LOCAL_HUB_FREEZE_ROWS'];
      else process.env['LOCAL_HUB_FREEZE_ROWS'] = before;
    }
    function assertFrozenRows(db: SqliteRegistry) {
      const row = db.get('d1', 'm1')!;
      assert.throws(() => {
        (row.twin.tags as Record<string, unknown>)['x'] = 1;
      }, TypeError);
      assert.throws(() => {
        row.twin.desired.version = 99;
      }, TypeError);
      assert.deepEqual(db.get('d1', 'm1')!.twin.tags, {});
      assert.equal(db.get('d1', 'm1')!.twin.desired.version, 1);
    }
  });

  test('npm test turns freezing on for the whole suite; a cache outside it does not freeze', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
    assert.match(pkg.scripts.test, /LOCAL_HUB_FREEZE_ROWS=1 node /);
    const cache = new RowCache({ freeze: false });
    const row = { identity: {}, twin: { tags: {} } } as unknown as IdentityRow;
    assert.equal(Object.isFrozen(cache.set('d', '', row).twin), false);
    assert.equal(Object.isFrozen(new RowCache({ freeze: true }).set('d', '', row).twin), true);
  });

  test('scans, listings, has and deletes agree with what was written', () => {
    withRegistry((db) => {
      const module = db.get('d1', 'm1')!;
      db.putTwin('d1', 'm1', withTags(module, { ring: 1 }));
      const scanned: IdentityRow[] = [];
      db.scanAfter('module', 0, (row) => scanned.push(row) > 0);
      assert.deepEqual(
        scanned.map((r) => r.twin.tags),
        [{ ring: 1 }],
      );
      assert.deepEqual(
        db.listModules('d1').map((r) => r.twin.tags),
        [{ ring: 1 }],
      );
      assert.ok(db.has('d1', 'm1'));
      db.deleteDevice('d1');
      assert.equal(db.get('d1', 'm1'), undefined);
      assert.equal(db.get('d1', null), undefined);
      assert.ok(!db.has('d1', 'm1'));
    });
  });

  test('bounded: the row stored longest ago goes first; storing a row again makes it the newest', () => {
    const cache = new RowCache({ max: 2 });
    const row = (n: number) => ({ identity: { n }, twin: {} }) as unknown as IdentityRow;
    cache.set('a', '', row(1));
    cache.set('b', '', row(2));
    cache.set('a', '', row(5));
    cache.set('c', '', row(3));
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b', ''), undefined);
    assert.ok(cache.get('a', '') && cache.get('c', ''));
    cache.set('a', 'm', row(4));
    cache.deleteDevice('a');
    assert.equal(cache.get('a', ''), undefined);
    assert.equal(cache.get('a', 'm'), undefined);
  });
});
