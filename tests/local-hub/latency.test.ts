/**
 * `--latency-ms` / `latencyMs`: every service REST answer, errors included, is written that many ms
 * after the request was handled. Only the configured delay is checked as a lower bound; no figure of
 * the hub's own speed is asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { type LocalHub, startLocalHub } from '../../local-hub/index';
import { startTestHub } from '../support/local-hub-fixture';

/** Node may fire a timer up to a millisecond early against the monotonic clock. */
const TIMER_SLACK_MS = 2;

async function elapsedMs(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function statusOf(work: () => Promise<unknown>): Promise<number> {
  try {
    await work();
    return 200;
  } catch (error) {
    return (
      (error as { responseBody?: unknown; response?: { statusCode?: number } }).response?.statusCode ?? 0
    );
  }
}

describe('local hub: added round-trip latency', () => {
  let slow: LocalHub;
  let fast: LocalHub;
  before(async () => {
    [slow, fast] = await Promise.all([startTestHub({ latencyMs: 200 }), startTestHub()]);
  });
  after(async () => {
    await Promise.all([slow?.close(), fast?.close()]);
  });

  const registryOf = (hub: LocalHub) =>
    createHubClient(hub.serviceConnectionString(), { caCertificate: hub.caCertificatePem }).registry;

  test('with latencyMs 200 every answer, success or error, takes at least 200 ms', async () => {
    const registry = registryOf(slow);
    // The first call also opens the TLS connection; the later ones reuse it.
    for (const deviceId of ['lat-1', 'lat-2']) {
      const ms = await elapsedMs(() => registry.create({ deviceId } as any));
      assert.ok(ms >= 200 - TIMER_SLACK_MS, `create ${deviceId} took ${ms.toFixed(1)} ms`);
    }
    let status = 0;
    const ms = await elapsedMs(async () => {
      status = await statusOf(() => registry.get('missing'));
    });
    assert.equal(status, 404);
    assert.ok(ms >= 200 - TIMER_SLACK_MS, `a 404 took ${ms.toFixed(1)} ms`);
    assert.equal(slow.state.findIdentity('lat-2', null)?.deviceId, 'lat-2', 'the delayed write happened');
  });

  test('with the default (0) nothing is added', async () => {
    const registry = registryOf(fast);
    await registry.create({ deviceId: 'warm' } as any);
    const times: number[] = [];
    for (const deviceId of ['fast-1', 'fast-2', 'fast-3']) {
      times.push(await elapsedMs(() => registry.create({ deviceId } as any)));
    }
    // A generous bound on the best of three: far under the 200 ms the other hub adds.
    assert.ok(Math.min(...times) < 200, `the fastest of three creates took ${Math.min(...times)} ms`);
  });

  test('an invalid latency is refused, naming the option', async () => {
    for (const latencyMs of [-1, 1.5, 600_001]) {
      await assert.rejects(
        startLocalHub({ port: 0, inMemory: true, logLevel: 'silent', latencyMs }),
        /latencyMs: .* is not valid; use an integer from 0 \(none\) to 600000/,
      );
    }
  });
});
