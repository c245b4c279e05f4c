/**
 * `check` for every resource kind (lib/resource-checks.ts): every failure at once, each with its
 * property path; normalized inputs; secrets never echoed; preview unknowns passed through.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { wellKnownServiceConnectionString } from '../../lib/local-hub-defaults';
import {
  checkDeviceIdentityInputs,
  checkModuleIdentityInputs,
  checkTwinInputs,
  UNKNOWN_INPUT,
} from '../../lib/resource-checks';

const HUB = wellKnownServiceConnectionString();
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const SHA1 = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01';

const properties = (failures: { property: string }[]) => [...new Set(failures.map((f) => f.property))].sort();

describe('DeviceIdentity check', () => {
  test('reports every problem at once, each with its property path', () => {
    const { failures } = checkDeviceIdentityInputs({
      hubConnectionString: 'HostName=h;SharedAccessKey=c2VjcmV0LXZhbHVl',
      deviceId: 'bad id#',
      status: 'paused',
      statusReason: 'x'.repeat(129),
      authentication: { type: 'selfSigned', primaryThumbprint: 'zz', colour: 'red' },
      iotEdge: 'yes',
      extra: 1,
    });
    assert.deepEqual(properties(failures), [
      'authentication.colour',
      'authentication.primaryThumbprint',
      'deviceId',
      'extra',
      'hubConnectionString',
      'iotEdge',
      'status',
      'statusReason',
    ]);
    // Both id problems (space, and the MQTT wildcard) are reported.
    assert.equal(failures.filter((f) => f.property === 'deviceId').length, 2);
    const text = JSON.stringify(failures);
    assert.ok(!text.includes('c2VjcmV0LXZhbHVl'), 'the connection string key is echoed');
    assert.match(text, /SharedAccessKeyName/);
  });

  test('fills defaults and splits supplied keys out of authentication', () => {
    const { inputs, failures } = checkDeviceIdentityInputs({
      hubConnectionString: HUB,
      deviceId: 'd1',
      authentication: { type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B },
      statusReason: null,
    });
    assert.deepEqual(failures, []);
    assert.deepEqual(inputs, {
      hubConnectionString: HUB,
      deviceId: 'd1',
      status: 'enabled',
      authentication: { type: 'sas' },
      primaryKey: KEY_A,
      secondaryKey: KEY_B,
      iotEdge: false,
      adopt: false,
    });
  });

  test('normalizes thumbprints and checks key pairs without echoing keys', () => {
    const selfSigned = checkDeviceIdentityInputs({
      hubConnectionString: HUB,
      deviceId: 'd1',
      authentication: { type: 'selfSigned', primaryThumbprint: SHA1 },
    });
    assert.deepEqual(selfSigned.inputs['authentication'], {
      type: 'selfSigned',
      primaryThumbprint: SHA1.replace(/:/g, '').toUpperCase(),
    });
    const oneKey = checkDeviceIdentityInputs({
      hubConnectionString: HUB,
      deviceId: 'd1',
      primaryKey: 'not base64!',
    });
    assert.deepEqual(properties(oneKey.failures), ['authentication', 'authentication.primaryKey']);
    assert.ok(!JSON.stringify(oneKey.failures).includes('not base64!'));
    const keysOnCa = checkDeviceIdentityInputs({
      hubConnectionString: HUB,
      deviceId: 'd1',
      authentication: { type: 'certificateAuthority' },
      primaryKey: KEY_A,
      secondaryKey: KEY_B,
    });
    assert.deepEqual(properties(keysOnCa.failures), ['authentication.primaryKey']);
  });

  test('passes preview unknowns through unchecked', () => {
    const { inputs, failures } = checkDeviceIdentityInputs({
      hubConnectionString: UNKNOWN_INPUT,
      deviceId: UNKNOWN_INPUT,
      authentication: UNKNOWN_INPUT,
    });
    assert.deepEqual(failures, []);
    assert.equal(inputs['deviceId'], UNKNOWN_INPUT);
    assert.equal(inputs['authentication'], UNKNOWN_INPUT);
  });

  test('requires the connection string and the id', () => {
    const { failures } = checkDeviceIdentityInputs({});
    assert.deepEqual(properties(failures), ['deviceId', 'hubConnectionString']);
  });
});

describe('ModuleIdentity check', () => {
  test('validates both ids strictly and rejects device-only fields', () => {
    const { failures } = checkModuleIdentityInputs({
      hubConnectionString: HUB,
      deviceId: 'd+1',
      moduleId: '',
      status: 'enabled',
      managedBy: 7,
      hubCaCertificate: 'not a pem',
    });
    assert.deepEqual(properties(failures), [
      'deviceId',
      'hubCaCertificate',
      'managedBy',
      'moduleId',
      'status',
    ]);
  });
});

describe('twin check', () => {
  test('reports twin document problems with their paths, all at once', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 11; i++) deep = { n: deep };
    const { failures } = checkTwinInputs('module', {
      hubConnectionString: HUB,
      deviceId: 'd1',
      moduleId: 'm1',
      desired: { 'a.b': 1, $version: 3, big: 'x'.repeat(5000), deep, n: null },
      tags: { ok: true, ' space': 1 },
      waitForAck: { timeoutSeconds: 0, onTimeout: 'ignore', extra: 1 },
    });
    const props = properties(failures);
    for (const expected of [
      'desired["a.b"]',
      'desired["$version"]',
      'desired.big',
      'desired.n',
      'tags[" space"]',
      'waitForAck.timeoutSeconds',
      'waitForAck.onTimeout',
      'waitForAck.extra',
    ]) {
      assert.ok(props.includes(expected), `missing ${expected} in ${props.join(', ')}`);
    }
    assert.ok(
      props.some((p) => p.startsWith('desired.deep.n')),
      'depth problem missing',
    );
  });

  test('defaults desired and tags to {} and waitForAck.onTimeout to fail', () => {
    const { inputs, failures } = checkTwinInputs('module', {
      hubConnectionString: HUB,
      deviceId: 'd1',
      moduleId: 'm1',
      waitForAck: { timeoutSeconds: 30 },
    });
    assert.deepEqual(failures, []);
    assert.deepEqual(inputs, {
      hubConnectionString: HUB,
      deviceId: 'd1',
      moduleId: 'm1',
      desired: {},
      tags: {},
      waitForAck: { timeoutSeconds: 30, onTimeout: 'fail' },
    });
  });

  test('a device twin has no moduleId and no ack wait', () => {
    const { failures } = checkTwinInputs('device', {
      hubConnectionString: HUB,
      deviceId: 'd1',
      moduleId: 'm1',
      waitForAck: { timeoutSeconds: 30 },
    });
    assert.deepEqual(properties(failures), ['moduleId', 'waitForAck']);
  });
});
