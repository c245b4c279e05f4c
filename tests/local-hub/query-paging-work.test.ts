/**
 * The work one query page costs in the store (footprint finding 6 of docs/benchmarks.md), counted
 * rather than timed: the rows it reads are the JSON documents it parses (an identity and a twin per
 * row, plus each module's device row). A page of 10 out of 5,000 rows must parse O(page), not
 * O(registry), wherever the page starts. Both store modes. Paging rules: docs/iot-hub-behaviour.md §0.10.
 */
import * as assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { BULK_MAX_ENTRIES, type HubState, type QueryPage } from '../../local-hub/store';
import { STORE_MODES, withStore } from '../support/store-fixture';

const DEVICES = 2500;
const MODULES = 2500;
/** Modules spread over this many devices, neighbours on different devices (no device-row reuse). */
const MODULE_DEVICES = 50;
const PAGE = 10;
/** Identity + twin for the row, identity + twin for a module's device row. */
const MAX_PARSES = 4 * (PAGE + 1);

function populate(state: HubState): void {
  const entries: Record<string, unknown>[] = [];
  for (let d = 0; d < DEVICES; d++) entries.push({ id: `w-d${d}`, importMode: 'create' });
  for (let m = 0; m < MODULES; m++) {
    entries.push({
      id: `w-d${m % MODULE_DEVICES}`,
      moduleId: `w-m${m}`,
      importMode: 'create',
      tags: { n: m },
    });
  }
  for (let i = 0; i < entries.length; i += BULK_MAX_ENTRIES) {
    assert.equal(state.bulk(entries.slice(i, i + BULK_MAX_ENTRIES)).isSuccessful, true);
  }
}

/** Runs one query page and counts the JSON documents parsed meanwhile. */
function parsesDuring(fn: () => QueryPage): { page: QueryPage; parses: number } {
  const spy = mock.method(JSON, 'parse');
  try {
    const page = fn();
    return { page, parses: spy.mock.callCount() };
  } finally {
    spy.mock.restore();
  }
}

const idsOf = (page: QueryPage) => page.items.map((t) => t['moduleId'] ?? t['deviceId']);

for (const mode of STORE_MODES) {
  describe(`query page cost is bounded by the page, not the registry (${mode})`, () => {
    test('first, middle and last pages of 10 out of 2,500 devices / 2,500 modules', () => {
      withStore(mode, (state) => {
        populate(state);
        for (const [source, prefix] of [
          ['devices', 'w-d'],
          ['devices.modules', 'w-m'],
        ] as const) {
          const sql = `SELECT * FROM ${source}`;
          const first = parsesDuring(() => state.queryTwins(sql, PAGE));
          assert.deepEqual(
            idsOf(first.page),
            Array.from({ length: PAGE }, (_, i) => `${prefix}${i}`),
          );
          assert.ok(first.page.continuationToken);
          assert.ok(first.parses <= MAX_PARSES, `${source} first page parsed ${first.parses} documents`);

          const skip = state.queryTwins(sql, 1250);
          const middle = parsesDuring(() => state.queryTwins(sql, PAGE, skip.continuationToken));
          assert.deepEqual(idsOf(middle.page)[0], `${prefix}1250`);
          assert.ok(middle.parses <= MAX_PARSES, `${source} middle page parsed ${middle.parses} documents`);

          const nearEnd = state.queryTwins(sql, 2495);
          const last = parsesDuring(() => state.queryTwins(sql, PAGE, nearEnd.continuationToken));
          assert.deepEqual(
            idsOf(last.page),
            [2495, 2496, 2497, 2498, 2499].map((i) => `${prefix}${i}`),
          );
          assert.equal(last.page.continuationToken, undefined, 'the last page has no token (§0.10)');
          assert.ok(last.parses <= MAX_PARSES, `${source} last page parsed ${last.parses} documents`);
        }
      });
    });

    test('a WHERE page reads rows only up to the match after the page', () => {
      withStore(mode, (state) => {
        populate(state);
        // 3 sparse matches, pages of 2: the first page reads modules 0..200 (201 rows and their
        // devices), never the 2,299 rows after its third match.
        const sql = 'SELECT * FROM devices.modules WHERE tags.n = 0 OR tags.n = 100 OR tags.n = 200';
        const first = parsesDuring(() => state.queryTwins(sql, 2));
        assert.deepEqual(idsOf(first.page), ['w-m0', 'w-m100']);
        assert.ok(first.page.continuationToken);
        assert.ok(first.parses <= 4 * 201, `parsed ${first.parses} documents`);
        const second = state.queryTwins(sql, 2, first.page.continuationToken);
        assert.deepEqual(idsOf(second), ['w-m200']);
        assert.equal(second.continuationToken, undefined);
      });
    });
  });
}
