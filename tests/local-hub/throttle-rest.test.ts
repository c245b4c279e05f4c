import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequestThrottle } from '../../local-hub/throttle/request-throttle';
import { assertLegacyError, RestTestServer } from '../support/rest-test-server';

describe('throttling over HTTP (S1, 1 unit, clock pinned)', () => {
  const hub = new RestTestServer();
  let now = Date.parse('2030-01-01T00:00:00Z');
  const throttle = createRequestThrottle({ tier: 'S1', units: 1, now: () => now });
  before(() => hub.start(throttle));
  after(async () => {
    throttle.close();
    await hub.stop();
  });

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
    now += 60_000;
    assert.equal((await hub.call('GET', '/devices/t1')).status, 200, 'a minute later the quota is back');
  });
});
