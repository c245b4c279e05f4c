import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeHub, parseHubArguments } from '../../local-hub/cli';
import type { LocalHub } from '../../local-hub/index';
import {
  classifyDevicePublish,
  decodePropertyBag,
  parseClientId,
  parseUsername,
} from '../../local-hub/mqtt/iothub-topics';

describe('IoT Hub MQTT naming rules', () => {
  test('the property bag drops the trailing separator the device SDK appends', () => {
    // What azure-iot-device-mqtt publishes for sendOutputEvent('telemetry', ...) with a content encoding.
    const bag = decodePropertyBag('%24.ce=utf-8&%24.ct=application%2Fjson&%24.on=telemetry/');
    assert.deepEqual(bag, { '$.ce': 'utf-8', '$.ct': 'application/json', '$.on': 'telemetry' });
  });

  test('client ids and user names', () => {
    assert.deepEqual(parseClientId('d1/m1'), { deviceId: 'd1', moduleId: 'm1' });
    assert.equal(parseClientId('d1//m1'), undefined);
    assert.equal(parseClientId('a/b/c'), undefined);
    const parsed = parseUsername('127.0.0.1:8443/d1/m1/?api-version=2021-04-12&DeviceClientType=x');
    assert.equal(parsed?.host, '127.0.0.1:8443');
    assert.equal(parsed?.clientId, 'd1/m1');
    assert.equal(parseUsername('127.0.0.1:8443/d1/m1/'), undefined, 'api-version is required');
  });

  test('a device may publish only its own twin requests and events', () => {
    const own = { deviceId: 'd1', moduleId: 'm1' };
    assert.equal(classifyDevicePublish('$iothub/twin/GET/?$rid=1', own).kind, 'twin-get');
    assert.equal(classifyDevicePublish('devices/d1/modules/m1/messages/events/', own).kind, 'telemetry');
    assert.equal(classifyDevicePublish('devices/d2/modules/m1/messages/events/', own).kind, 'refused');
  });
});

describe('npm run hub flags', () => {
  test('valid flags become options', () => {
    const options = parseHubArguments(['--port', '0', '--in-memory', '--throttle', 'S1', '--units', '2']);
    assert.notEqual(options, 'help');
    assert.deepEqual(options, { port: 0, inMemory: true, throttle: { tier: 'S1', units: 2 } });
  });

  test('--latency-ms becomes latencyMs; a bad value names the flag and the range', () => {
    assert.deepEqual(parseHubArguments(['--latency-ms', '40']), { latencyMs: 40 });
    assert.deepEqual(parseHubArguments(['--latency-ms', '0']), { latencyMs: 0 });
    for (const bad of ['-5', '1.5', 'slow', '600001']) {
      assert.throws(
        () => parseHubArguments([`--latency-ms=${bad}`]),
        /--latency-ms .* is not valid; expected an integer from 0 to 600000/,
      );
    }
  });

  test('every bad flag is reported at once, naming the valid values', () => {
    assert.throws(
      () => parseHubArguments(['--port', '70000', '--log-level', 'loud', '--in-memory', '--data-dir', 'x']),
      (error: Error) => {
        assert.match(error.message, /--port/);
        assert.match(error.message, /valid levels: debug, info, warn, error, silent/);
        assert.match(error.message, /--in-memory and --data-dir: choose one/);
        return true;
      },
    );
  });
});

describe('npm run hub banner', () => {
  test('prints well-known keys but never a key the user supplied', () => {
    const ownKey = 'c2VjcmV0LWtleS1zZWNyZXQta2V5LXNlY3JldC1rZXk=';
    const hub = {
      hostName: '127.0.0.1:1',
      dataDir: null,
      caCertificatePath: '/tmp/ca.pem',
      caCertificatePem: '',
      connectionStrings: {
        iothubowner:
          'HostName=127.0.0.1:1;SharedAccessKeyName=iothubowner;SharedAccessKey=Z/8R0s68EK9jUlDvChmz7lSNMT4T5Qfr315FT1BoWZQ=',
        service: `HostName=127.0.0.1:1;SharedAccessKeyName=service;SharedAccessKey=${ownKey}`,
      },
    } as unknown as LocalHub;
    const banner = describeHub(hub);
    assert.match(
      banner,
      /iothubowner: HostName=127\.0\.0\.1:1;SharedAccessKeyName=iothubowner;SharedAccessKey=Z\//,
    );
    assert.match(banner, /service: key overridden \(not printed\)/);
    assert.ok(!banner.includes(ownKey));
  });
});
