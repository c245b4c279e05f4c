/**
 * What one durable commit costs on this machine right now, with the hub's settings (WAL,
 * synchronous=FULL: local-hub/store/sqlite-registry.ts) and with WAL's usual synchronous=NORMAL. The
 * hub runs better-sqlite3 synchronously on its event loop, so this is time nothing else in the hub
 * can use; it varies a lot with other disk traffic, hence measured in the same run as the figures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { median } from './stats';

function commitMs(synchronous: 'FULL' | 'NORMAL', commits: number): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sqlite-'));
  const db = new Database(path.join(dir, 'commit.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)');
    const put = db.prepare<[string, string]>('INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)');
    const row = 'x'.repeat(600);
    const samples: number[] = [];
    for (let i = 0; i < commits; i++) {
      const started = process.hrtime.bigint();
      db.transaction(() => put.run(`k${i % 50}`, row))();
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(samples);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function describeCommitCost(commits = 100): string {
  return (
    `SQLite commit (WAL, one row) on ${os.tmpdir()} now: synchronous=FULL ${commitMs('FULL', commits).toFixed(2)} ms, ` +
    `NORMAL ${commitMs('NORMAL', commits).toFixed(2)} ms (median of ${commits})`
  );
}
