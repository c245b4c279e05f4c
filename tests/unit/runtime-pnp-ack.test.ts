import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildAck, evaluateAcks, isWritablePropertyAck } from '../../lib/pnp-ack';

describe('buildAck', () => {
  test('omits ad when absent so the JSON round-trips', () => {
    assert.deepEqual(buildAck(5, 200, 3), { value: 5, ac: 200, av: 3 });
    assert.ok(!('ad' in buildAck(5, 200, 3)));
    assert.deepEqual(buildAck(-5, 400, 4, 'bad'), { value: -5, ac: 400, av: 4, ad: 'bad' });
  });

  test('isWritablePropertyAck recognises only ack-shaped values', () => {
    assert.ok(isWritablePropertyAck({ value: 1, ac: 200, av: 2 }));
    assert.ok(!isWritablePropertyAck({ value: 1, ac: '200', av: 2 }));
    assert.ok(!isWritablePropertyAck({ ac: 200, av: 2 }));
    assert.ok(!isWritablePropertyAck({ value: 1, ac: 200, av: 2, ad: 7 }));
    assert.ok(!isWritablePropertyAck(5));
  });
});

describe('evaluateAcks', () => {
  const reported = {
    ok: { value: 1, ac: 200, av: 7 },
    newer: { value: 1, ac: 200, av: 9 },
    stale: { value: 1, ac: 200, av: 6 },
    bad: { value: -5, ac: 400, av: 7, ad: 'telemetryInterval must be positive' },
    unknown: { value: 1, ac: 404, av: 8 },
    staleFailure: { value: 1, ac: 400, av: 2, ad: 'old' },
    working: { value: 1, ac: 202, av: 7 },
    plain: 42,
  };

  test('converged when every owned key is acked 200 at or after the written version', () => {
    assert.deepEqual(evaluateAcks(reported, ['ok', 'newer'], 7), {
      converged: true,
      failures: [],
      pending: [],
    });
  });

  test('an empty ownership set is converged', () => {
    assert.equal(evaluateAcks({}, [], 3).converged, true);
  });

  test('failures carry code and description; stale or missing acks are pending', () => {
    const result = evaluateAcks(
      reported,
      ['ok', 'bad', 'unknown', 'stale', 'missing', 'staleFailure', 'plain'],
      7,
    );
    assert.equal(result.converged, false);
    assert.deepEqual(result.failures, [
      { key: 'bad', ac: 400, ad: 'telemetryInterval must be positive' },
      { key: 'unknown', ac: 404 },
    ]);
    assert.deepEqual(result.pending, ['stale', 'missing', 'staleFailure', 'plain']);
  });

  test('202 (PnP "in progress") stays pending rather than failing', () => {
    assert.deepEqual(evaluateAcks(reported, ['working'], 7), {
      converged: false,
      failures: [],
      pending: ['working'],
    });
  });
});
