/**
 * Parsed identity rows kept in memory next to SQLite (docs/local-hub-row-cache.md). A fleet's acks and a
 * configuration's apply read the same rows over and over; parsing their JSON again each time was the largest
 * store cost after the writes themselves (docs/benchmarks.md, fleet-wide configuration).
 *
 * Why it cannot go stale:
 * - the hub is the only writer of its database: sqlite-registry.ts opens it in exclusive locking mode, so a
 *   second process is refused instead of writing behind the cache;
 * - every write goes through SqliteRegistry, which updates the cache only after SQLite accepted the write;
 * - a transaction (or savepoint) that throws may have rolled back writes the cache already holds, so the
 *   registry clears the cache then (errors are rare; the next reads parse again);
 * - cached rows are deep-frozen: the store's rules are pure and build new objects, and a caller that tried
 *   to change a cached row in place would fail loudly (TypeError in strict mode) instead of changing what
 *   every later read returns.
 *
 * Bounded: the least recently used rows go first (a Map keeps insertion order; a hit moves the row to the end).
 */
import type { IdentityRow } from './sqlite-registry';

export const ROW_CACHE_DEFAULT_MAX = 20_000;

export class RowCache {
  private readonly rows = new Map<string, IdentityRow>();

  constructor(private readonly max: number = ROW_CACHE_DEFAULT_MAX) {}

  get(deviceId: string, moduleId: string): IdentityRow | undefined {
    const key = rowKey(deviceId, moduleId);
    const row = this.rows.get(key);
    if (row !== undefined) {
      this.rows.delete(key);
      this.rows.set(key, row);
    }
    return row;
  }

  /** Stores `row` (frozen here, so the caller must not change it afterwards) and returns it. */
  set(deviceId: string, moduleId: string, row: IdentityRow): IdentityRow {
    const key = rowKey(deviceId, moduleId);
    this.rows.delete(key);
    this.rows.set(key, deepFreeze(row));
    if (this.rows.size > this.max) this.rows.delete(this.rows.keys().next().value!);
    return row;
  }

  delete(deviceId: string, moduleId: string): void {
    this.rows.delete(rowKey(deviceId, moduleId));
  }

  /** A device and all its modules. */
  deleteDevice(deviceId: string): void {
    const prefix = rowKey(deviceId, '');
    for (const key of this.rows.keys()) if (key.startsWith(prefix)) this.rows.delete(key);
  }

  clear(): void {
    this.rows.clear();
  }

  get size(): number {
    return this.rows.size;
  }
}

/** NUL cannot occur in device or module ids (lib/id-rules.ts), so keys of different rows never collide. */
function rowKey(deviceId: string, moduleId: string): string {
  return `${deviceId}\u0000${moduleId}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
