/**
 * The hub's only I/O: identities and twins in SQLite (docs/architecture.md "Durable by default").
 * WAL + synchronous=NORMAL: a write that returned is in the WAL, in the OS's hands, and survives kill -9
 * of the hub (docs/local-hub-durability.md says why not FULL).
 * One row per identity (module_id '' for the device itself), identity and twin as JSON columns:
 * the rules live in the pure modules, this file only stores what they produce.
 */
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDirectory, ensurePrivateFile } from '../private-files';
import type { StoredIdentity } from './identity-records';
import { RowCache } from './row-cache';
import type { StoredTwin } from './twin-records';

export const DATABASE_FILE = 'hub.sqlite';
const SCHEMA_VERSION = 1;

export interface IdentityRow {
  identity: StoredIdentity;
  twin: StoredTwin;
}

/** Which rows a scan visits: device rows (module_id '') or module rows. */
export type RowKind = 'device' | 'module';

/** A row with its place in scan order: its rowid (creation order; upserts keep the rowid). */
export interface PositionedRow extends IdentityRow {
  position: number;
}

interface RawRow {
  identity: string;
  twin: string;
}

/** A scanned row with its key, so a row the cache holds is not parsed again. */
interface KeyedRawRow extends RawRow {
  deviceId: string;
  moduleId: string;
}

/** What a listing or scan reads: the key too, so a row the cache holds is not parsed again. */
const KEYED_COLUMNS = 'device_id AS deviceId, module_id AS moduleId, identity, twin';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS identities (
  device_id TEXT NOT NULL,
  module_id TEXT NOT NULL,
  identity  TEXT NOT NULL,
  twin      TEXT NOT NULL,
  PRIMARY KEY (device_id, module_id)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

export class SqliteRegistry {
  private readonly db: Database.Database;
  private readonly stmt;
  /** Parsed rows (row-cache.ts): reads of a row written or read before parse nothing. */
  private readonly cache = new RowCache();
  /** Built once: better-sqlite3's wrapper costs 15x a call to build (nested calls become savepoints). */
  private readonly inTransaction: (fn: () => unknown) => unknown;

  private constructor(db: Database.Database) {
    this.db = db;
    this.inTransaction = db.transaction((fn: () => unknown) => fn());
    this.stmt = {
      get: db.prepare<[string, string], RawRow>(
        'SELECT identity, twin FROM identities WHERE device_id = ? AND module_id = ?',
      ),
      has: db
        .prepare<[string, string], number>('SELECT 1 FROM identities WHERE device_id = ? AND module_id = ?')
        .pluck(),
      putTwin: db.prepare<[string, string, string]>(
        'UPDATE identities SET twin = ? WHERE device_id = ? AND module_id = ?',
      ),
      upsert: db.prepare<[string, string, string, string]>(
        `INSERT INTO identities (device_id, module_id, identity, twin) VALUES (?, ?, ?, ?)
         ON CONFLICT (device_id, module_id) DO UPDATE SET identity = excluded.identity, twin = excluded.twin`,
      ),
      delete: db.prepare<[string, string]>('DELETE FROM identities WHERE device_id = ? AND module_id = ?'),
      deleteDevice: db.prepare<[string]>('DELETE FROM identities WHERE device_id = ?'),
      // rowid order = creation order (upserts keep the rowid).
      listDevices: db.prepare<[number], KeyedRawRow>(
        `SELECT ${KEYED_COLUMNS} FROM identities WHERE module_id = '' ORDER BY rowid LIMIT ?`,
      ),
      listModules: db.prepare<[string], KeyedRawRow>(
        `SELECT ${KEYED_COLUMNS} FROM identities WHERE device_id = ? AND module_id <> '' ORDER BY rowid`,
      ),
      // Keyset scans: a seek on the rowid b-tree, so a page costs the same wherever it starts.
      devicesAfter: db.prepare<[number], KeyedRawRow & { position: number }>(
        `SELECT rowid AS position, ${KEYED_COLUMNS} FROM identities WHERE module_id = '' AND rowid > ? ORDER BY rowid`,
      ),
      modulesAfter: db.prepare<[number], KeyedRawRow & { position: number }>(
        `SELECT rowid AS position, ${KEYED_COLUMNS} FROM identities WHERE module_id <> '' AND rowid > ? ORDER BY rowid`,
      ),
      deviceKeys: db.prepare<[], { deviceId: string }>(
        "SELECT device_id AS deviceId FROM identities WHERE module_id = '' ORDER BY rowid",
      ),
      moduleKeys: db.prepare<[], { deviceId: string; moduleId: string }>(
        "SELECT device_id AS deviceId, module_id AS moduleId FROM identities WHERE module_id <> '' ORDER BY rowid",
      ),
      nextCounter: db.prepare<[string], { value: number }>(
        `INSERT INTO counters (name, value) VALUES (?, 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`,
      ),
      stats: db.prepare<[], { total: number; enabled: number | null }>(
        `SELECT COUNT(*) AS total, SUM(json_extract(identity, '$.status') = 'enabled') AS enabled
         FROM identities WHERE module_id = ''`,
      ),
    };
  }

  static open(o: { dataDir: string } | { inMemory: true }): SqliteRegistry {
    let db: Database.Database;
    if ('dataDir' in o) {
      // The database holds every device key: private directory, and a 0600 file whose mode SQLite
      // gives its WAL and shared-memory files too (issue #10 item 11).
      ensurePrivateDirectory(o.dataDir);
      const file = path.join(o.dataDir, DATABASE_FILE);
      ensurePrivateFile(file);
      db = new Database(file);
      // A hub restarting right after the previous one stopped waits for its lock this long.
      db.pragma('busy_timeout = 5000');
      // One hub per data directory: the lock is taken at the first access and held until close, so a
      // second process is refused rather than writing behind this one's row cache (row-cache.ts).
      db.pragma('locking_mode = EXCLUSIVE');
      try {
        db.pragma('journal_mode = WAL');
      } catch (error) {
        db.close();
        throw isBusy(error)
          ? new Error(
              `Another local hub is using the data directory ${o.dataDir} (its database ${DATABASE_FILE} is locked); stop that hub, or give this one another data directory`,
            )
          : error;
      }
      // NORMAL, WAL's usual setting: a commit is written to the WAL (survives the hub being killed) and
      // fsynced at checkpoints. FULL fsynced every commit: 15x the cost per write (bench/scale.ts), held
      // on the hub's event loop, to also survive power loss, which a local development hub need not.
      db.pragma('synchronous = NORMAL');
    } else {
      db = new Database(':memory:');
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new Error(
        `The hub database was written by a newer version (schema ${version}, this hub knows ${SCHEMA_VERSION}); use a newer hub or another data directory`,
      );
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return new SqliteRegistry(db);
  }

  get(deviceId: string, moduleId: string | null): IdentityRow | undefined {
    const cached = this.cache.get(deviceId, moduleId ?? '');
    if (cached) return cached;
    const raw = this.stmt.get.get(deviceId, moduleId ?? '');
    return raw ? this.cache.set(deviceId, moduleId ?? '', parseRow(raw)) : undefined;
  }

  /** The twin alone (a reported patch needs nothing else). */
  getTwin(deviceId: string, moduleId: string | null): StoredTwin | undefined {
    return this.get(deviceId, moduleId)?.twin;
  }

  has(deviceId: string, moduleId: string | null): boolean {
    if (this.cache.get(deviceId, moduleId ?? '')) return true;
    return this.stmt.has.get(deviceId, moduleId ?? '') !== undefined;
  }

  /**
   * Writes the twin of an existing row, leaving its identity as stored (no need to serialize it again).
   * `twin` is kept as the cached row's twin: the caller must not change it afterwards.
   */
  putTwin(deviceId: string, moduleId: string | null, twin: StoredTwin): void {
    const { changes } = this.stmt.putTwin.run(JSON.stringify(twin), deviceId, moduleId ?? '');
    // Callers load the row in the same transaction first; a twin without its row would be a bug.
    if (changes !== 1) throw new Error(`no identity row ${deviceId}/${moduleId ?? ''} to write the twin of`);
    const cached = this.cache.get(deviceId, moduleId ?? '');
    if (cached) this.cache.set(deviceId, moduleId ?? '', { identity: cached.identity, twin });
  }

  /** Inserts or replaces a row; `row` is kept as the cached row: the caller must not change it afterwards. */
  put(row: IdentityRow): void {
    const { identity, twin } = row;
    this.stmt.upsert.run(
      identity.deviceId,
      identity.moduleId ?? '',
      JSON.stringify(identity),
      JSON.stringify(twin),
    );
    this.cache.set(identity.deviceId, identity.moduleId ?? '', { identity, twin });
  }

  delete(deviceId: string, moduleId: string | null): void {
    this.stmt.delete.run(deviceId, moduleId ?? '');
    this.cache.delete(deviceId, moduleId ?? '');
  }

  /** The device row and all its module rows. */
  deleteDevice(deviceId: string): void {
    this.stmt.deleteDevice.run(deviceId);
    this.cache.deleteDevice(deviceId);
  }

  listDevices(limit: number): IdentityRow[] {
    return this.stmt.listDevices.all(limit).map((raw) => this.parseKeyed(raw));
  }

  listModules(deviceId: string): IdentityRow[] {
    return this.stmt.listModules.all(deviceId).map((raw) => this.parseKeyed(raw));
  }

  /**
   * Visits the device (or module) rows after `position` in rowid order, reading and parsing one row
   * at a time, until `visit` returns false or the rows run out. A callback rather than an iterator:
   * the loop below always closes the statement, and an open one would refuse every write.
   * Rows the cache holds are not parsed again; scanned rows are not added to it (a scan of every twin
   * would push out the rows that are being worked on).
   */
  scanAfter(kind: RowKind, position: number, visit: (row: PositionedRow) => boolean): void {
    const stmt = kind === 'device' ? this.stmt.devicesAfter : this.stmt.modulesAfter;
    for (const raw of stmt.iterate(position)) {
      const row = this.cache.get(raw.deviceId, raw.moduleId) ?? parseRow(raw);
      if (!visit({ position: raw.position, identity: row.identity, twin: row.twin })) break;
    }
  }

  /** A listed row, from the cache when it holds it (listing adds nothing to it, like a scan). */
  private parseKeyed(raw: KeyedRawRow): IdentityRow {
    return this.cache.get(raw.deviceId, raw.moduleId) ?? parseRow(raw);
  }

  /** The ids of every device (or module) row in rowid order, nothing parsed (`moduleId` null for a device). */
  keys(kind: RowKind): { deviceId: string; moduleId: string | null }[] {
    if (kind === 'device')
      return this.stmt.deviceKeys.all().map(({ deviceId }) => ({ deviceId, moduleId: null }));
    return this.stmt.moduleKeys.all();
  }

  /** Hub-wide monotonic counter (identity etags), never reused, even after deletes. */
  nextCounter(name: string): number {
    return this.stmt.nextCounter.get(name)!.value;
  }

  deviceCounts(): { total: number; enabled: number } {
    const row = this.stmt.stats.get()!;
    return { total: row.total, enabled: row.enabled ?? 0 };
  }

  /** For tables kept next to the registry (sqlite-configurations.ts): same file, same transactions. */
  attach<T>(build: (db: Database.Database) => T): T {
    return build(this.db);
  }

  /**
   * Runs `fn` in one transaction (a savepoint when nested): everything or nothing is written (rolled back
   * on throw). A throw may have undone writes the cache already holds, so the cache is dropped then.
   */
  transaction<T>(fn: () => T): T {
    try {
      return this.inTransaction(fn) as T;
    } catch (error) {
      this.cache.clear();
      throw error;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function parseRow(raw: RawRow): IdentityRow {
  return { identity: JSON.parse(raw.identity), twin: JSON.parse(raw.twin) };
}
