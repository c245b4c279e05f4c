/**
 * The web view's classification of desired properties against the device's PnP acks (lib/twin-ack-status.ts):
 * pending, rejected and acknowledged, by `av` against the desired `$version`, `ac` and the acked value.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { desiredAckStatuses } from '../../lib/twin-ack-status';

const statusOf = (desired: Record<string, unknown>, reported: Record<string, unknown>) =>
  desiredAckStatuses(desired, reported).map((s) => [s.key, s.status, s.reason]);

describe('desiredAckStatuses', () => {
  test('no ack, or a value that is not an ack, is pending', () => {
    assert.deepEqual(statusOf({ $version: 3, a: 1, b: 2 }, { b: 2 }), [
      ['a', 'pending', 'no acknowledgement reported yet'],
      ['b', 'pending', 'no acknowledgement reported yet'],
    ]);
  });

  test('an ack for an older version is pending, for this or a later version acknowledged', () => {
    assert.deepEqual(statusOf({ $version: 5, a: 1 }, { a: { value: 1, ac: 200, av: 4 } }), [
      ['a', 'pending', 'acknowledged version 4; desired is at 5'],
    ]);
    assert.deepEqual(statusOf({ $version: 5, a: 1 }, { a: { value: 1, ac: 200, av: 5 } }), [
      ['a', 'acknowledged', undefined],
    ]);
    assert.deepEqual(statusOf({ $version: 5, a: 1 }, { a: { value: 1, ac: 200, av: 9 } }), [
      ['a', 'acknowledged', undefined],
    ]);
  });

  test('ac >= 400 at this version is rejected with the description', () => {
    const [status] = desiredAckStatuses(
      { $version: 7, telemetryInterval: -5 },
      { telemetryInterval: { value: -5, ac: 400, av: 7, ad: 'must be from 0.1 to 86400; got -5' } },
    );
    assert.equal(status!.status, 'rejected');
    assert.equal(status!.reason, 'must be from 0.1 to 86400; got -5');
    assert.deepEqual(status!.ack, { value: -5, ac: 400, av: 7, ad: 'must be from 0.1 to 86400; got -5' });
    assert.deepEqual(statusOf({ $version: 7, x: 1 }, { x: { value: 1, ac: 500, av: 7 } }), [
      ['x', 'rejected', 'rejected with code 500'],
    ]);
  });

  test('a rejection of an older version is pending: the device has not seen the new value yet', () => {
    assert.deepEqual(statusOf({ $version: 8, a: 2 }, { a: { value: 1, ac: 400, av: 7, ad: 'bad' } }), [
      ['a', 'pending', 'acknowledged version 7; desired is at 8'],
    ]);
  });

  test('202 (in progress), a different value, or a non-2xx code is pending', () => {
    assert.deepEqual(statusOf({ $version: 2, a: 1 }, { a: { value: 1, ac: 202, av: 2 } }), [
      ['a', 'pending', 'the device is still applying it (202)'],
    ]);
    assert.deepEqual(statusOf({ $version: 2, a: { n: 1 } }, { a: { value: { n: 2 }, ac: 200, av: 2 } }), [
      ['a', 'pending', 'the acknowledged value is not the desired one'],
    ]);
    assert.deepEqual(statusOf({ $version: 2, a: 1 }, { a: { value: 1, ac: 304, av: 2 } }), [
      ['a', 'pending', 'acknowledged with code 304'],
    ]);
  });

  test('object values compare as JSON; metadata keys are skipped; a missing $version counts as 0', () => {
    assert.deepEqual(
      statusOf(
        { a: { y: 2, x: 1 }, $metadata: {}, $version: 0 },
        { a: { value: { x: 1, y: 2 }, ac: 200, av: 0 }, $version: 4 },
      ),
      [['a', 'acknowledged', undefined]],
    );
    assert.deepEqual(statusOf({ a: 1 }, { a: { value: 1, ac: 200, av: 0 } }), [
      ['a', 'acknowledged', undefined],
    ]);
  });

  test('a reported key named __proto__ is read as an ordinary key', () => {
    const reported = JSON.parse('{"__proto__": {"value": 1, "ac": 200, "av": 1}}') as Record<string, unknown>;
    const desired = JSON.parse('{"__proto__": 1, "$version": 1}') as Record<string, unknown>;
    assert.deepEqual(statusOf(desired, reported), [['__proto__', 'acknowledged', undefined]]);
  });
});
