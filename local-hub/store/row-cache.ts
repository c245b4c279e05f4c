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
 * - nobody changes a cached row in place: the store's rules are pure and build new objects (sharing what a
 *   write leaves alone). Under the test suite (`LOCAL_HUB_FREEZE_ROWS=1`, set by `npm test`) cached rows are
 *   deep-frozen, so code that tried would fail loudly (TypeError in strict mode) in every test that reaches
 *   it. Not in production: freezing was a quarter of a device ack's store time.
 *
 * Bounded: the rows written or read from SQLite longest ago go first (a Map keeps insertion order; `set` moves
 * a row to the end). A cache hit does not move it: that would cost every read a delete and an insert.
 */
import type { IdentityRow } from './sqlite-registry';

export const ROW_CACHE_DEFAULT_MAX = 20_000;

/** Whether cached rows are deep-frozen (the test suite's safety net), unless a cache is told otherwise. */
export function freezeRowsFromEnvironment(): boolean {
  return process.env['LOCAL_HUB_FREEZE_ROWS'] === '1';
}

export class RowCache {
  private readonly rows = new Map<string, IdentityRow>();
  private readonly max: number;
  private readonly freeze: boolean;

  constructor(o: { max?: number; freeze?: boolean } = {}) {
    this.max = o.max ?? ROW_CACHE_DEFAULT_MAX;
    this.freeze = o.freeze ?? freezeRowsFromEnvironment();
  }

  get(deviceId: string, moduleId: string): IdentityRow | undefined {
    return this.rows.get(rowKey(deviceId, moduleId));
  }

  /** Stores `row` (the caller must not change it afterwards) and returns it. */
  set(deviceId: string, moduleId: string, row: IdentityRow): IdentityRow {
    const key = rowKey(deviceId, moduleId);
    this.rows.delete(key);
    this.rows.set(key, this.freeze ? deepFreeze(row) : row);
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

/** NUL cannot occur in device or module ids (their characters: lib/identity-ids.ts), so keys of different rows never collide. */
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
