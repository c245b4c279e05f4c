/**
 * The hub store opened in each of its two modes (in memory, SQLite in a fresh temp dir), so every
 * store test runs against both, plus the assertion for the domain errors the store throws.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HubLogger } from '../../local-hub/hub-logger';
import { type HubState, openHubState } from '../../local-hub/store';

export const STORE_MODES = ['memory', 'sqlite'] as const;
export type StoreMode = (typeof STORE_MODES)[number];

export interface StoreOptions {
  now?: () => Date;
  logger?: HubLogger;
}

export interface OpenedStore {
  state: HubState;
  /** Closes the store and removes its data dir (SQLite mode). */
  done: () => void;
}

export function openStore(mode: StoreMode, options: StoreOptions = {}): OpenedStore {
  if (mode === 'memory') {
    const state = openHubState({ inMemory: true, ...options });
    return { state, done: () => state.close() };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-store-'));
  const state = openHubState({ dataDir: dir, ...options });
  return {
    state,
    done: () => {
      state.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` on a fresh store, closing it (and removing its data dir) whatever happens. */
export function withStore(mode: StoreMode, fn: (state: HubState) => void, options: StoreOptions = {}): void {
  const { state, done } = openStore(mode, options);
  try {
    fn(state);
  } finally {
    done();
  }
}

/** Asserts a HubError with this status and code, whose message mentions every fragment. */
export function throwsHub(fn: () => unknown, status: number, code: string, ...fragments: string[]): void {
  assert.throws(fn, (err: any) => {
    assert.equal(err.status, status, `status of ${err.message}`);
    assert.equal(err.code, code);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should mention ${f}`);
    return true;
  });
}
