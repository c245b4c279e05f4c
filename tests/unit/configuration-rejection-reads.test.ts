/**
 * When a convergence poll also reads the rejections (lib/configuration-convergence.ts): only once the fleet
 * stopped progressing and has not all succeeded, never at the first poll.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shouldReadRejections } from '../../lib/configuration-convergence';

const counts = (applied: number, succeeded: number, targeted = 10) => ({ targeted, applied, succeeded });

test('read only when neither applied nor succeeded grew since the previous poll', () => {
  assert.equal(shouldReadRejections(undefined, counts(0, 0)), false, 'first poll');
  assert.equal(shouldReadRejections(counts(10, 2), counts(10, 5)), false, 'acks arriving');
  assert.equal(shouldReadRejections(counts(4, 0), counts(8, 0)), false, 'still applying');
  assert.equal(shouldReadRejections(counts(10, 5), counts(10, 5)), true, 'stalled');
  assert.equal(shouldReadRejections(counts(10, 9), counts(10, 8)), true, 'went back');
  assert.equal(shouldReadRejections(counts(10, 10), counts(10, 10)), false, 'all succeeded');
});
