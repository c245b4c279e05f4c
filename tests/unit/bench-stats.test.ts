/**
 * The pure helpers behind the benchmarks' figures (bench/stats.ts, bench/quota-floor.ts): the
 * arithmetic the recorded ratios and the quota floor rest on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { quotaFloor } from '../../bench/quota-floor';
import { median, meetsTarget, pairedRatios, percentile, ratioLine, spreadOf } from '../../bench/stats';

describe('bench statistics', () => {
  test('median and nearest-rank percentiles', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(percentile(samples, 50), 50);
    assert.equal(percentile(samples, 99), 99);
    assert.equal(percentile(samples, 100), 100);
    assert.equal(percentile(samples, 0), 1);
    assert.throws(() => percentile(samples, 101), /within 0\.\.100/);
  });

  test('percentiles are monotonic and stay within the samples', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1 }), (xs) => {
        const p50 = percentile(xs, 50);
        const p99 = percentile(xs, 99);
        assert.ok(p50 <= p99);
        assert.ok(xs.includes(p50) && xs.includes(p99));
        const m = median(xs);
        assert.ok(m >= Math.min(...xs) && m <= Math.max(...xs));
      }),
    );
  });

  test('paired ratios need rounds of both sides', () => {
    assert.deepEqual(pairedRatios([2, 9], [1, 3]), [2, 3]);
    assert.throws(() => pairedRatios([1], [1, 2]), /1 candidate rounds vs 2 baseline rounds/);
  });

  test('targets in both directions, and the ratio line format', () => {
    assert.ok(meetsTarget(1.1, { direction: 'at-most', value: 1.1 }));
    assert.ok(!meetsTarget(1.2, { direction: 'at-most', value: 1.1 }));
    assert.ok(meetsTarget(25, { direction: 'at-least', value: 20 }));
    assert.ok(!meetsTarget(Number.NaN, { direction: 'at-least', value: 20 }));
    assert.equal(
      ratioLine('x', spreadOf([1.2, 1.0, 1.4]), { direction: 'at-most', value: 1.5 }),
      'ratio x: 1.20× (1.00–1.40) target ≤ 1.5× met',
    );
    assert.equal(ratioLine('y', spreadOf([3]), null), 'ratio y: 3.00× (no target)');
  });
});

describe('quota floor', () => {
  test('S1: the burst passes at once, the rest at 100/min/unit; the slowest class binds', () => {
    // 1,100 identity operations on 4 units: 400 at once, 700 at 400/min = 105 s; 1,000 twin updates
    // at 50/s after a burst of 50 = 19 s.
    const floor = quotaFloor('S1', 4, { identityRegistry: 1100, twinUpdate: 1000 });
    assert.equal(floor.bindingClass, 'identityRegistry');
    assert.ok(Math.abs(floor.seconds - 105) < 1e-9);
    assert.ok(Math.abs(floor.perClass.twinUpdate! - 19) < 1e-9);
  });

  test('work within the first bucket has no floor', () => {
    assert.equal(quotaFloor('S1', 1, { identityRegistry: 100, twinUpdate: 50 }).seconds, 0);
  });
});
