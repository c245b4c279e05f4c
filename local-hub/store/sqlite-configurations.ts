/**
 * Configurations in the registry's SQLite file (docs/iot-hub-behaviour.md §8.4: persisted like the registry),
 * in the same transactions: one row per configuration (the stored record as JSON), and which
 * configuration was last applied to which twin. An applied row names the identity's generationId, so
 * a deleted and re-created identity is a new twin that gets the content again.
 */
import type Database from 'better-sqlite3';
import type { StoredConfiguration } from './configuration-records';
import type { SqliteRegistry } from './sqlite-registry';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS configurations (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS configuration_applied (
  device_id TEXT NOT NULL,
  module_id TEXT NOT NULL,
  generation_id TEXT NOT NULL,
  applied TEXT NOT NULL,
  PRIMARY KEY (device_id, module_id)
);
`;

export interface AppliedRef {
  deviceId: string;
  moduleId: string | null;
  generationId: string;
}

export class SqliteConfigurations {
  private readonly stmt;

  constructor(registry: SqliteRegistry) {
    this.stmt = registry.attach((db: Database.Database) => {
      db.exec(SCHEMA);
      return {
        get: db.prepare<[string], { record: string }>('SELECT record FROM configurations WHERE id = ?'),
        list: db.prepare<[], { record: string }>('SELECT record FROM configurations ORDER BY rowid'),
        put: db.prepare<[string, string]>(
          'INSERT INTO configurations (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record',
        ),
        delete: db.prepare<[string]>('DELETE FROM configurations WHERE id = ?'),
        applied: db.prepare<[string, string, string], { applied: string }>(
          'SELECT applied FROM configuration_applied WHERE device_id = ? AND module_id = ? AND generation_id = ?',
        ),
        allApplied: db.prepare<
          [],
          { device_id: string; module_id: string; generation_id: string; applied: string }
        >('SELECT device_id, module_id, generation_id, applied FROM configuration_applied'),
        setApplied: db.prepare<[string, string, string, string]>(
          `INSERT INTO configuration_applied (device_id, module_id, generation_id, applied) VALUES (?, ?, ?, ?)
           ON CONFLICT (device_id, module_id) DO UPDATE SET generation_id = excluded.generation_id, applied = excluded.applied`,
        ),
        clearApplied: db.prepare<[string, string]>(
          'DELETE FROM configuration_applied WHERE device_id = ? AND module_id = ?',
        ),
      };
    });
  }

  get(id: string): StoredConfiguration | undefined {
    const row = this.stmt.get.get(id);
    return row ? (JSON.parse(row.record) as StoredConfiguration) : undefined;
  }

  list(): StoredConfiguration[] {
    return this.stmt.list.all().map((row) => JSON.parse(row.record) as StoredConfiguration);
  }

  put(configuration: StoredConfiguration): void {
    this.stmt.put.run(configuration.id, JSON.stringify(configuration));
  }

  delete(id: string): void {
    this.stmt.delete.run(id);
  }

  /** The key of the configuration content applied to this twin (appliedKey), if any. */
  applied(ref: AppliedRef): string | undefined {
    return this.stmt.applied.get(ref.deviceId, ref.moduleId ?? '', ref.generationId)?.applied;
  }

  /**
   * Every applied mark at once, for a pass that looks up each twin (counting a configuration's metrics):
   * one query instead of one per twin. Look up with `appliedRefKey`.
   */
  allApplied(): Map<string, string> {
    const marks = new Map<string, string>();
    for (const row of this.stmt.allApplied.iterate()) {
      marks.set(
        appliedRefKey({ deviceId: row.device_id, moduleId: row.module_id, generationId: row.generation_id }),
        row.applied,
      );
    }
    return marks;
  }

  setApplied(ref: AppliedRef, key: string | undefined): void {
    if (key === undefined) this.stmt.clearApplied.run(ref.deviceId, ref.moduleId ?? '');
    else this.stmt.setApplied.run(ref.deviceId, ref.moduleId ?? '', ref.generationId, key);
  }
}

/** The key of `allApplied`'s map (moduleId '' or null for a device twin, as stored). */
export function appliedRefKey(ref: AppliedRef): string {
  return `${ref.deviceId}\u0000${ref.moduleId ?? ''}\u0000${ref.generationId}`;
}
