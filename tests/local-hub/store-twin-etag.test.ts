/** Twin etags (local-hub/store/twin-records.ts): base64 of the 8-byte big-endian write counter (docs/iot-hub-behaviour.md §1.3). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { twinEtag } from '../../local-hub/store/twin-records';

test('the documented example and the 32-bit boundary', () => {
  assert.equal(twinEtag(7), 'AAAAAAAAAAc=');
  assert.equal(twinEtag(2 ** 32 - 1), 'AAAAAP////8=');
  assert.equal(twinEtag(2 ** 32 + 1), 'AAAAAQAAAAE=');
});

test('every safe counter gives the bytes of its 64-bit big-endian value', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (counter) => {
      const expected = Buffer.alloc(8);
      expected.writeBigUInt64BE(BigInt(counter));
      assert.equal(twinEtag(counter), expected.toString('base64'));
    }),
  );
});
