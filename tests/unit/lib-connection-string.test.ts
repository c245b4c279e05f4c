import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionString as DeviceConnectionString } from 'azure-iot-device';
import { ConnectionString as ServiceConnectionString } from 'azure-iothub';
import {
  buildDeviceConnectionString,
  buildServiceConnectionString,
  ConnectionStringError,
  parseConnectionString,
  parseDeviceConnectionString,
  parseServiceConnectionString,
  splitHostPort,
} from '../../lib/connection-string';
import { wellKnownServiceConnectionString } from '../../lib/local-hub-defaults';

const KEY = 'c2VjcmV0LWtleS12YWx1ZS13aXRoLXBhZGRpbmc=';

/** Runs `fn`, expects a ConnectionStringError matching `pattern`, and checks the key is not in it. */
function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConnectionStringError, 'a ConnectionStringError');
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes(KEY) && !err.message.includes(KEY.slice(0, 12)), 'message leaks the key');
    return true;
  });
}

describe('parseConnectionString', () => {
  test('splits on ; and the first =, keeping = in values; ignores empty segments', () => {
    assert.deepEqual(parseConnectionString(`HostName=h;SharedAccessKey=${KEY};`), {
      HostName: 'h',
      SharedAccessKey: KEY,
    });
    assert.deepEqual(parseConnectionString('A=b=c==;;B='), { A: 'b=c==', B: '' });
  });

  test('rejects empty strings, segments without a key, duplicates — naming no values', () => {
    rejects(() => parseConnectionString(''), /empty/);
    rejects(() => parseConnectionString('HostName=h;garbage'), /segment #2 is not Key=Value/);
    rejects(() => parseConnectionString(`=${KEY}`), /segment #1/);
    rejects(
      () => parseConnectionString(`SharedAccessKey=${KEY};SharedAccessKey=${KEY}`),
      /"SharedAccessKey" appears more than once/,
    );
  });
});

describe('service connection strings', () => {
  test('parses the well-known local string and round-trips through build', () => {
    const cs = wellKnownServiceConnectionString();
    const parsed = parseServiceConnectionString(cs);
    assert.equal(parsed.hostName, '127.0.0.1:8443');
    assert.equal(parsed.sharedAccessKeyName, 'serviceAndRegistryReadWrite');
    assert.equal(buildServiceConnectionString(parsed), cs);
  });

  test('what we build, the service SDK parses identically', () => {
    const built = buildServiceConnectionString({
      hostName: 'h.example:1',
      sharedAccessKeyName: 'p',
      sharedAccessKey: KEY,
    });
    const sdk = ServiceConnectionString.parse(built);
    assert.equal(sdk.HostName, 'h.example:1');
    assert.equal(sdk.SharedAccessKey, KEY);
  });

  test('a key pasted without its name is never printed as a key name', () => {
    const unpadded = KEY.replace(/=+$/, '');
    rejects(
      () => parseServiceConnectionString(`HostName=h;SharedAccessKeyName=p;${KEY}`),
      /keys present: HostName, SharedAccessKeyName, 1 unrecognised\)/,
    );
    rejects(
      () => parseConnectionString(`${unpadded}=;${unpadded}=`),
      /an unrecognised key appears more than once/,
    );
  });

  test('missing fields are named, with the keys present, never the values', () => {
    rejects(
      () => parseServiceConnectionString(`HostName=h;SharedAccessKey=${KEY}`),
      /no SharedAccessKeyName.*keys present: HostName, SharedAccessKey/,
    );
    rejects(
      () => parseServiceConnectionString(`HostName=h;SharedAccessKeyName=p;SharedAccessKey=`),
      /no SharedAccessKey or it is empty/,
    );
  });

  test('build refuses values that would corrupt the string', () => {
    rejects(
      () => buildServiceConnectionString({ hostName: 'h', sharedAccessKeyName: 'a;b', sharedAccessKey: KEY }),
      /SharedAccessKeyName must be non-empty and contain no ";"/,
    );
  });
});

describe('device connection strings', () => {
  test('module with key, gateway host; device with x509', () => {
    const module = `HostName=h:8443;DeviceId=d1;ModuleId=m1;SharedAccessKey=${KEY};GatewayHostName=gw`;
    assert.deepEqual(parseDeviceConnectionString(module), {
      hostName: 'h:8443',
      deviceId: 'd1',
      moduleId: 'm1',
      sharedAccessKey: KEY,
      gatewayHostName: 'gw',
    });
    assert.deepEqual(parseDeviceConnectionString('HostName=h;DeviceId=d1;x509=True'), {
      hostName: 'h',
      deviceId: 'd1',
      x509: true,
    });
  });

  test('build produces the documented shapes, which round-trip and the device SDK parses', () => {
    const withKey = { hostName: 'h:1', deviceId: 'd1', moduleId: 'm1', sharedAccessKey: KEY };
    const built = buildDeviceConnectionString(withKey);
    assert.equal(built, `HostName=h:1;DeviceId=d1;ModuleId=m1;SharedAccessKey=${KEY}`);
    assert.deepEqual(parseDeviceConnectionString(built), withKey);
    const sdk = DeviceConnectionString.parse(built);
    assert.equal(sdk.ModuleId, 'm1');
    assert.equal(sdk.SharedAccessKey, KEY);
    assert.equal(
      buildDeviceConnectionString({ hostName: 'h', deviceId: 'd', x509: true }),
      'HostName=h;DeviceId=d;x509=true',
    );
  });

  test('exactly one credential; x509 must be true; DeviceId required', () => {
    rejects(
      () => parseDeviceConnectionString('HostName=h;DeviceId=d'),
      /exactly one of SharedAccessKey or x509=true \(found neither\)/,
    );
    rejects(
      () => parseDeviceConnectionString(`HostName=h;DeviceId=d;SharedAccessKey=${KEY};x509=true`),
      /found both/,
    );
    rejects(
      () => parseDeviceConnectionString(`HostName=h;DeviceId=d;x509=false`),
      /x509 set to something other than "true"/,
    );
    rejects(() => parseDeviceConnectionString(`HostName=h;SharedAccessKey=${KEY}`), /no DeviceId/);
    rejects(() => buildDeviceConnectionString({ hostName: 'h', deviceId: 'd' }), /found neither/);
    rejects(
      () => buildDeviceConnectionString({ hostName: 'h', deviceId: 'd', sharedAccessKey: KEY, x509: true }),
      /found both/,
    );
  });
});

describe('splitHostPort', () => {
  test('host, host:port and bracketed IPv6', () => {
    assert.deepEqual(splitHostPort('myhub.azure-devices.net'), { host: 'myhub.azure-devices.net' });
    assert.deepEqual(splitHostPort('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(splitHostPort('[::1]:8443'), { host: '::1', port: 8443 });
    assert.deepEqual(splitHostPort('[::1]'), { host: '::1' });
    assert.deepEqual(splitHostPort('::1'), { host: '::1' });
  });

  test('rejects bad ports and shapes, saying what is valid', () => {
    rejects(() => splitHostPort('h:0'), /port 0; valid ports are 1-65535/);
    rejects(() => splitHostPort('h:65536'), /valid ports are 1-65535/);
    rejects(() => splitHostPort('h:'), /not host\[:port\]/);
    rejects(() => splitHostPort('h:x'), /not host\[:port\]/);
    rejects(() => splitHostPort(''), /not host\[:port\]/);
    rejects(() => splitHostPort('a:1:2x'), /not host\[:port\]/);
  });
});
