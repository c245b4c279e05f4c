import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertLegacyError, throttledS1Server } from '../support/rest-test-server';

describe('throttling over HTTP (S1, 1 unit, clock pinned)', () => {
  const { hub, advance } = throttledS1Server();

  test('a 100-device bulk uses the minute quota; the next call queues, the one after is 429', async () => {
    const devices = Array.from({ length: 100 }, (_, i) => ({ id: `t${i}`, importMode: 'create' }));
    assert.equal((await hub.call('POST', '/devices', { body: devices })).status, 200);
    // 100/min: one more token needs 600 ms, within the queue limit, so this one waits and succeeds.
    assert.equal((await hub.call('GET', '/devices/t0')).status, 200);
    const refused = await hub.call('GET', '/devices/t1');
    assertLegacyError(refused, 429, 'ThrottlingException', 'identity registry operations', 'S1');
    assert.equal(refused.headers['retry-after'], undefined, 'IoT Hub sends no Retry-After');
    assertLegacyError(await hub.call('PUT', '/devices/late', { body: {} }), 429, 'ThrottlingException');
    assert.equal((await hub.call('GET', '/twins/t1')).status, 200, 'twin reads have their own quota');
    assert.equal(
      (await hub.call('GET', '/statistics/devices')).json.totalDeviceCount,
      100,
      'the refused create wrote nothing',
    );
    advance(60_000);
    assert.equal((await hub.call('GET', '/devices/t1')).status, 200, 'a minute later the quota is back');
  });
});
