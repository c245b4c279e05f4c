/**
 * The fleet benchmark's module clients (bench/fleet-acks.ts) must acknowledge like the device runtime, or the
 * providers' waits (lib/pnp-ack.ts, the configuration's `ac = 200` metric) would never see them converge.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ackPatchFor, ridOf } from '../../bench/fleet-acks';
import { evaluateAcks } from '../../lib/pnp-ack';

describe('fleet benchmark acknowledgements', () => {
  test('a desired patch is acked per key at its $version, in the shape the ack wait accepts', () => {
    const ack = ackPatchFor(Buffer.from(JSON.stringify({ telemetryInterval: 31, $version: 7 })));
    assert.deepEqual(ack, { version: 7, patch: { telemetryInterval: { value: 31, ac: 200, av: 7 } } });
    assert.equal(evaluateAcks(ack!.patch, ['telemetryInterval'], 7).converged, true);
  });

  test('removed keys, metadata and payloads that are not desired patches get no ack', () => {
    assert.deepEqual(ackPatchFor(JSON.stringify({ a: null, b: { c: 1 }, $version: 3 }))?.patch, {
      b: { value: { c: 1 }, ac: 200, av: 3 },
    });
    assert.equal(ackPatchFor(JSON.stringify({ a: null, $version: 3 })), undefined);
    assert.equal(ackPatchFor(JSON.stringify({ a: 1 })), undefined);
    assert.equal(ackPatchFor('not json'), undefined);
    assert.equal(ackPatchFor('[1]'), undefined);
  });

  test('a twin response names the value its request id acked', () => {
    assert.deepEqual(ridOf('$iothub/twin/res/204/?$rid=31.4&$version=9'), { rid: '31.4', value: 31 });
    assert.deepEqual(ridOf('$iothub/twin/res/204/?$rid=x.4'), { rid: 'x.4', value: undefined });
    assert.equal(ridOf('$iothub/twin/res/204/'), undefined);
  });
});
