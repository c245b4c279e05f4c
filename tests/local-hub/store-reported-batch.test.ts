/**
 * Reported patches queued in one turn share one commit (local-hub/store/reported-batch.ts): each is answered
 * only after its commit, one refused patch leaves the others, and any other store call writes the queued
 * ones first (so it sees them, in arrival order).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HubState } from '../../local-hub/store';
import { openStore, STORE_MODES } from '../support/store-fixture';

type Outcome = { version: number } | { error: unknown };

function queue(state: HubState, moduleId: string, patch: unknown, outcomes: [string, Outcome][]): void {
  state.queueReported('d1', moduleId, patch, (outcome) => outcomes.push([moduleId, outcome]));
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

for (const mode of STORE_MODES) {
  describe(`reported patches in one turn (${mode})`, () => {
    test('answered after the turn, each with its own version; a refused one leaves the others', async () => {
      const { state, done } = openStore(mode);
      try {
        state.createDevice('d1', {});
        for (const m of ['m1', 'm2', 'm3']) state.createModule('d1', m, {});
        const outcomes: [string, Outcome][] = [];
        queue(state, 'm1', { fw: 1 }, outcomes);
        queue(state, 'm2', { 'bad key': 1 }, outcomes);
        queue(state, 'm3', { fw: 3 }, outcomes);
        queue(state, 'm1', { fw: 2 }, outcomes);
        assert.equal(outcomes.length, 0, 'nothing is answered before the commit');
        await nextTurn();
        assert.deepEqual(
          outcomes.map(([m, o]) => [m, 'version' in o ? o.version : (o.error as Error).name]),
          [
            ['m1', 2],
            ['m2', 'HubError'],
            ['m3', 2],
            ['m1', 3],
          ],
        );
        assert.equal((outcomes[1]![1] as { error: { status: number } }).error.status, 400);
        assert.deepEqual(state.getDeviceFacingTwin('d1', 'm1').reported, { fw: 2, $version: 3 });
        assert.deepEqual(state.getDeviceFacingTwin('d1', 'm2').reported, { $version: 1 });
        assert.deepEqual(state.getDeviceFacingTwin('d1', 'm3').reported, { fw: 3, $version: 2 });
      } finally {
        done();
      }
    });

    test('any other read or write first commits the queued patches (and answers them)', () => {
      const { state, done } = openStore(mode);
      try {
        state.createDevice('d1', {});
        state.createModule('d1', 'm1', {});
        const outcomes: [string, Outcome][] = [];
        queue(state, 'm1', { fw: 1 }, outcomes);
        assert.deepEqual(state.getTwin('d1', 'm1').properties.reported['fw'], 1);
        assert.deepEqual(outcomes, [['m1', { version: 2 }]]);
        queue(state, 'm1', { fw: 2 }, outcomes);
        state.patchTwin('d1', 'm1', { tags: { a: 1 } }, '*');
        assert.equal(outcomes.length, 2);
        assert.equal(state.getDeviceFacingTwin('d1', 'm1').reported['fw'], 2);
      } finally {
        done();
      }
    });

    test('a missing module is answered with its error; queued patches are written before a close', async () => {
      const { state, done } = openStore(mode);
      const outcomes: [string, Outcome][] = [];
      try {
        state.createDevice('d1', {});
        state.createModule('d1', 'm1', {});
        queue(state, 'nope', { fw: 1 }, outcomes);
        await nextTurn();
        assert.equal((outcomes[0]![1] as { error: { status: number } }).error.status, 404);
        queue(state, 'm1', { fw: 1 }, outcomes);
      } finally {
        done();
      }
      assert.deepEqual(outcomes[1], ['m1', { version: 2 }]);
      queue(state, 'm1', { fw: 2 }, outcomes);
      await nextTurn();
      assert.equal((outcomes[2]![1] as { error: { status: number } }).error.status, 500, 'closed');
    });
  });
}
