import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  SharedAccessSignature as CommonSas,
  encodeUriComponentStrict as commonEncode,
} from 'azure-iot-common';
import { SharedAccessSignature as DeviceSas, SharedAccessKeyAuthenticationProvider } from 'azure-iot-device';
import { SharedAccessSignature as ServiceSas } from 'azure-iothub';
import fc from 'fast-check';
import { WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import {
  computeSasSignature,
  createSasToken,
  encodeUriComponentStrict,
  type ParsedSasToken,
  parseSasToken,
  sasResourceScope,
  sasScopeCovers,
  verifySasSignature,
} from '../../lib/sas-token';

const OWNER = WELL_KNOWN_POLICIES[0]!;
const DEVICE_KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 8).toString('base64');
const EXPIRY = 2_000_000_000;

function parsed(token: string): ParsedSasToken {
  const result = parseSasToken(token);
  if (!result.ok) assert.fail(`token did not parse: ${result.reason}`);
  return result.token;
}

/** Flips one base64 character of the signature, keeping it valid base64. */
function tamper(token: ParsedSasToken): ParsedSasToken {
  const first = token.sig[0] === 'A' ? 'B' : 'A';
  return { ...token, sig: first + token.sig.slice(1) };
}

describe('encodeUriComponentStrict', () => {
  test("escapes !'()* with upper-case hex, like the SDKs", () => {
    assert.equal(encodeUriComponentStrict("a!b'c(d)e*f"), 'a%21b%27c%28d%29e%2Af');
    assert.equal(
      encodeUriComponentStrict('hub.example:8443/devices/d1'),
      'hub.example%3A8443%2Fdevices%2Fd1',
    );
  });

  test('matches azure-iot-common for any string, except that the SDK writes "*" as lower-case %2a', () => {
    assert.equal(commonEncode('*'), '%2a');
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        (s) => encodeUriComponentStrict(s) === commonEncode(s).replaceAll('%2a', '%2A'),
      ),
    );
  });

  test('a device id containing "*" still verifies: the HMAC covers the SDK\'s literal sr', () => {
    const token = parsed(DeviceSas.create('hub', 'd*1', DEVICE_KEY, String(EXPIRY)).toString());
    assert.equal(token.sr, 'hub%2Fdevices%2Fd%2a1');
    assert.equal(verifySasSignature(token, DEVICE_KEY), true);
    assert.deepEqual(sasResourceScope(token.sr), { host: 'hub', deviceId: 'd*1' });
  });
});

describe('verifying tokens made by the official SDKs', () => {
  test('service token from azure-iothub SharedAccessSignature.create (raw host sr, skn)', () => {
    const host = '127.0.0.1:35289';
    const sdkToken = ServiceSas.create(host, OWNER.keyName, OWNER.primaryKey, String(EXPIRY)).toString();
    const token = parsed(sdkToken);
    assert.equal(token.sr, host);
    assert.equal(token.skn, OWNER.keyName);
    assert.equal(token.se, EXPIRY);
    assert.equal(verifySasSignature(token, OWNER.primaryKey), true);
    assert.equal(verifySasSignature(token, OWNER.secondaryKey), false, 'other key');
    assert.equal(verifySasSignature(tamper(token), OWNER.primaryKey), false, 'tampered sig');
    assert.equal(verifySasSignature({ ...token, se: EXPIRY + 1 }, OWNER.primaryKey), false, 'extended se');
    assert.deepEqual(sasResourceScope(token.sr), { host });
  });

  test('device token from azure-iot-device SharedAccessSignature.create (encoded sr, no skn)', () => {
    const sdkToken = DeviceSas.create('MyHub.example:8443', 'dev(1)', DEVICE_KEY, String(EXPIRY)).toString();
    const token = parsed(sdkToken);
    assert.equal(token.sr, 'MyHub.example%3A8443%2Fdevices%2Fdev%281%29');
    assert.equal(token.skn, undefined);
    assert.equal(verifySasSignature(token, DEVICE_KEY), true);
    assert.equal(verifySasSignature(token, OTHER_KEY), false);
    assert.equal(verifySasSignature(tamper(token), DEVICE_KEY), false);
    assert.deepEqual(sasResourceScope(token.sr), { host: 'MyHub.example:8443', deviceId: 'dev(1)' });
  });

  test('module token from the device SDK key provider, as ModuleClient sends it', async () => {
    const cs = `HostName=127.0.0.1:8443;DeviceId=d1;ModuleId=m1;SharedAccessKey=${DEVICE_KEY}`;
    const provider = SharedAccessKeyAuthenticationProvider.fromConnectionString(cs);
    try {
      const credentials = await provider.getDeviceCredentials();
      const token = parsed(credentials.sharedAccessSignature!);
      assert.equal(verifySasSignature(token, DEVICE_KEY), true);
      assert.equal(verifySasSignature(token, OTHER_KEY), false);
      assert.deepEqual(sasResourceScope(token.sr), {
        host: '127.0.0.1:8443',
        deviceId: 'd1',
        moduleId: 'm1',
      });
    } finally {
      provider.stop();
    }
  });

  test('policy token from azure-iot-common with a policy name needing encoding', () => {
    const sdkToken = CommonSas.create('hub', 'my policy', OWNER.primaryKey, EXPIRY).toString();
    const token = parsed(sdkToken);
    assert.equal(token.skn, 'my policy');
    assert.equal(verifySasSignature(token, OWNER.primaryKey), true);
  });
});

describe('verifySasSignature with a signature of the wrong length', () => {
  // Constant-time comparison needs equal lengths (timingSafeEqual throws a RangeError otherwise).
  test('answers false, never throws, for empty, short, long, non-base64 and multi-byte signatures', () => {
    const token = parsed(createSasToken({ sr: 'hub', base64Key: DEVICE_KEY, expiresAt: EXPIRY }));
    assert.equal(token.sig.length, 44);
    const variants = [
      '',
      token.sig.slice(0, -1),
      'AAAA',
      `${token.sig}A`,
      token.sig.repeat(2),
      '!'.repeat(44),
      'é'.repeat(44),
    ];
    for (const sig of variants) {
      assert.equal(verifySasSignature({ ...token, sig }, DEVICE_KEY), false, `sig ${JSON.stringify(sig)}`);
    }
  });
});

describe('createSasToken', () => {
  test('produces what the SDK produces, field for field', () => {
    const ours = createSasToken({
      sr: 'h:1',
      base64Key: OWNER.primaryKey,
      expiresAt: EXPIRY,
      keyName: 'iothubowner',
    });
    const sdk = ServiceSas.create('h:1', 'iothubowner', OWNER.primaryKey, String(EXPIRY)).toString();
    assert.deepEqual(parsed(ours), parsed(sdk));
    assert.match(ours, /^SharedAccessSignature sr=h:1&sig=[^&]+&se=2000000000&skn=iothubowner$/);
  });

  test('round-trips through parse and verify for any resource, key and expiry', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).map(encodeUriComponentStrict),
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (sr, keyBytes, expiresAt) => {
          const base64Key = Buffer.from(keyBytes).toString('base64');
          const token = parsed(createSasToken({ sr, base64Key, expiresAt }));
          assert.equal(token.sr, sr);
          assert.equal(token.sig, computeSasSignature(base64Key, sr, expiresAt));
          assert.equal(verifySasSignature(token, base64Key), true);
        },
      ),
    );
  });

  test('rejects a non-integer expiry', () => {
    assert.throws(
      () => createSasToken({ sr: 'h', base64Key: DEVICE_KEY, expiresAt: 1.5 }),
      /non-negative integer/,
    );
  });

  test('the signature covers the literal sr: the decoded form does not verify', () => {
    const token = parsed(DeviceSas.create('hub', 'd1', DEVICE_KEY, String(EXPIRY)).toString());
    assert.equal(verifySasSignature({ ...token, sr: decodeURIComponent(token.sr) }, DEVICE_KEY), false);
  });
});

describe('parseSasToken', () => {
  const sig = encodeUriComponentStrict(computeSasSignature(DEVICE_KEY, 'hub', EXPIRY));
  const secretSig = decodeURIComponent(sig);

  test('accepts any field order', () => {
    const token = parsed(`SharedAccessSignature se=${EXPIRY}&skn=p&sig=${sig}&sr=hub`);
    assert.deepEqual(token, { sr: 'hub', sig: secretSig, se: EXPIRY, skn: 'p' });
  });

  const rejected: Array<[string, string, RegExp]> = [
    ['wrong prefix', `SharedAccessSig sr=hub&sig=${sig}&se=1`, /must start with/],
    ['lower-case prefix', `sharedaccesssignature sr=hub&sig=${sig}&se=1`, /must start with/],
    ['missing sr', `SharedAccessSignature sig=${sig}&se=1`, /"sr" is missing/],
    ['empty sr', `SharedAccessSignature sr=&sig=${sig}&se=1`, /"sr" is missing or empty/],
    ['missing sig', 'SharedAccessSignature sr=hub&se=1', /"sig" is missing/],
    ['missing se', `SharedAccessSignature sr=hub&sig=${sig}`, /"se" is missing/],
    ['fractional se', `SharedAccessSignature sr=hub&sig=${sig}&se=1.5`, /"se" must be/],
    ['negative se', `SharedAccessSignature sr=hub&sig=${sig}&se=-1`, /"se" must be/],
    ['se with leading zero', `SharedAccessSignature sr=hub&sig=${sig}&se=01`, /"se" must be/],
    [
      'se beyond safe integers',
      `SharedAccessSignature sr=hub&sig=${sig}&se=99999999999999999999`,
      /"se" must be/,
    ],
    ['duplicate sr', `SharedAccessSignature sr=hub&sr=hub&sig=${sig}&se=1`, /"sr" appears more than once/],
    [
      'duplicate sig',
      `SharedAccessSignature sr=hub&sig=${sig}&sig=${sig}&se=1`,
      /"sig" appears more than once/,
    ],
    ['field without =', `SharedAccessSignature sr=hub&${sig}&se=1`, /no "="/],
    ['unknown field', `SharedAccessSignature sr=hub&sig=${sig}&se=1&x=${sig}`, /unknown name/],
    ['bad sig encoding', 'SharedAccessSignature sr=hub&sig=%E0%A4%A&se=1', /"sig" is not valid/],
  ];
  for (const [name, token, reason] of rejected) {
    test(`rejects ${name}, without echoing the signature`, () => {
      const result = parseSasToken(token);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.match(result.reason, reason);
      assert.ok(
        !result.reason.includes(sig) && !result.reason.includes(secretSig),
        'reason leaks the signature',
      );
    });
  }
});

describe('sasResourceScope', () => {
  test('hub, device and module scopes, encoded or raw', () => {
    assert.deepEqual(sasResourceScope('hub.example'), { host: 'hub.example' });
    assert.deepEqual(sasResourceScope('hub%2Fdevices%2Fd1'), { host: 'hub', deviceId: 'd1' });
    assert.deepEqual(sasResourceScope('hub/devices/d1/modules/m1'), {
      host: 'hub',
      deviceId: 'd1',
      moduleId: 'm1',
    });
    assert.deepEqual(
      sasResourceScope('hub/Devices/D1'),
      { host: 'hub', deviceId: 'D1' },
      'ids keep their case',
    );
  });

  test('undefined for malformed resources', () => {
    for (const sr of [
      '',
      'hub/',
      'hub/devices',
      'hub/devices/',
      'hub/things/d1',
      'hub/devices/d1/modules',
      'hub/devices/d1/x/m1',
      'hub/devices/d1/modules/m1/extra',
      '%E0%A4%A',
      '/devices/d1',
    ]) {
      assert.equal(sasResourceScope(sr), undefined, sr);
    }
  });
});

describe('sasScopeCovers', () => {
  const hub = { host: 'Hub.Example' };
  const d1 = { host: 'hub.example', deviceId: 'd1' };
  const d1m1 = { ...d1, moduleId: 'm1' };

  test('a host-only scope covers everything on that host, case-insensitively', () => {
    assert.equal(sasScopeCovers(hub, { host: 'hub.example' }), true);
    assert.equal(sasScopeCovers(hub, d1), true);
    assert.equal(sasScopeCovers(hub, d1m1), true);
    assert.equal(sasScopeCovers(hub, { host: 'other.example' }), false);
  });

  test('a device scope covers the device and its modules, by whole segment', () => {
    assert.equal(sasScopeCovers(d1, d1), true);
    assert.equal(sasScopeCovers(d1, d1m1), true);
    assert.equal(sasScopeCovers(d1, { host: 'hub.example', deviceId: 'd10' }), false);
    assert.equal(
      sasScopeCovers(d1, { host: 'hub.example', deviceId: 'D1' }),
      false,
      'ids are case-sensitive',
    );
    assert.equal(sasScopeCovers(d1, { host: 'hub.example' }), false, 'a device does not cover the hub');
  });

  test('a module scope covers only that module', () => {
    assert.equal(sasScopeCovers(d1m1, d1m1), true);
    assert.equal(sasScopeCovers(d1m1, d1), false);
    assert.equal(sasScopeCovers(d1m1, { ...d1, moduleId: 'm10' }), false);
  });
});
