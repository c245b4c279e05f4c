/**
 * MQTT CONNECT edges the SDK never produces, checked with raw mqtt.js against an in-process hub:
 * user name and client id rules (docs/iot-hub-behaviour.md §3.1), SAS scope and keys (§1.5), X.509 variants (§2),
 * connection lifecycle (one connection per identity, revocation), and logs without secrets.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { LocalHub } from '../../local-hub/index';
import { certificateThumbprints, createSelfSignedClientCertificate } from '../../local-hub/tls/certificates';
import { connectRawMqtt, deviceSasToken, startTestHub } from '../support/local-hub-fixture';
import { waitFor, within } from '../support/runtime-wait';

const logLines: string[] = [];
let hub: LocalHub;

before(async () => {
  hub = await startTestHub({ logLevel: 'debug', logWrite: (line) => logLines.push(line) });
  for (const deviceId of ['d1', 'd10', 'lifecycle', 'x509-sha1', 'ca-device', 'revoke-me']) {
    const body =
      deviceId === 'x509-sha1'
        ? { authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB'.repeat(20) } } }
        : deviceId === 'ca-device'
          ? { authentication: { type: 'certificateAuthority' } }
          : {};
    hub.state.createDevice(deviceId, { deviceId, ...body });
  }
  hub.state.createModule('d1', 'm1', { deviceId: 'd1', moduleId: 'm1' });
  hub.state.createModule('revoke-me', 'm1', { deviceId: 'revoke-me', moduleId: 'm1' });
});
after(() => hub.close());

function keys(deviceId: string, moduleId: string | null = null) {
  const identity = hub.state.findIdentity(deviceId, moduleId);
  assert.ok(identity, `${deviceId}/${moduleId} exists`);
  return identity.authentication.symmetricKey as { primaryKey: string; secondaryKey: string };
}

function token(deviceId: string, key: string, moduleId?: string): string {
  return deviceSasToken({ hostName: hub.hostName, deviceId, key, ...(moduleId ? { moduleId } : {}) });
}

async function returnCode(o: Parameters<typeof connectRawMqtt>[1]): Promise<number> {
  const result = await connectRawMqtt(hub, o);
  result.client?.end(true);
  return result.returnCode;
}

async function connected(o: Parameters<typeof connectRawMqtt>[1]): Promise<MqttClient> {
  const result = await connectRawMqtt(hub, o);
  assert.equal(result.returnCode, 0, `${o.clientId} should connect`);
  return result.client!;
}

/** A twin GET round trip: once answered, the hub has fully registered the connection. */
async function twinGet(client: MqttClient): Promise<any> {
  const rid = `${Math.random()}`.slice(2);
  const reply = new Promise<Buffer>((resolve) =>
    client.on(
      'message',
      (topic: string, payload: Buffer) => topic.includes(`$rid=${rid}`) && resolve(payload),
    ),
  );
  client.publish(`$iothub/twin/GET/?$rid=${rid}`, ' ');
  return JSON.parse((await within(`the answer to twin GET $rid=${rid}`, reply)).toString());
}

/** Polls until `check` holds, within the wait's own deadline (no timing assertion). */
async function eventually(check: () => boolean, what: string): Promise<void> {
  await waitFor(what, () => (check() ? true : undefined));
}

describe('user name and client id', () => {
  test('a user name without api-version, for another host, or another client id: CONNACK 4', async () => {
    const password = token('d1', keys('d1').primaryKey);
    assert.equal(await returnCode({ clientId: 'd1', username: `${hub.hostName}/d1/`, password }), 4);
    assert.equal(
      await returnCode({ clientId: 'd1', username: 'other.hub:1/d1/?api-version=2021-04-12', password }),
      4,
    );
    assert.equal(
      await returnCode({ clientId: 'd1', username: `${hub.hostName}/d10/?api-version=2021-04-12`, password }),
      4,
    );
  });

  test('a client id with more than device/module: CONNACK 4', async () => {
    assert.equal(await returnCode({ clientId: 'd1/m1/x', password: token('d1', keys('d1').primaryKey) }), 4);
  });
});

describe('SAS scope and keys (docs/iot-hub-behaviour.md §1.5)', () => {
  test('the secondary key works too', async () => {
    (await connected({ clientId: 'd1', password: token('d1', keys('d1').secondaryKey) })).end(true);
  });

  test("a device-scoped token signed with the module's own key opens the module (segment prefix)", async () => {
    const password = token('d1', keys('d1', 'm1').primaryKey);
    (await connected({ clientId: 'd1/m1', password })).end(true);
  });

  test("a module-scoped token does not open its device, and d1's scope does not cover d10", async () => {
    assert.equal(
      await returnCode({ clientId: 'd1', password: token('d1', keys('d1', 'm1').primaryKey, 'm1') }),
      5,
    );
    assert.equal(await returnCode({ clientId: 'd10', password: token('d1', keys('d10').primaryKey) }), 5);
  });

  test('a policy token (skn) is refused on the device endpoint: CONNACK 5', async () => {
    const device = `${token('d1', keys('d1').primaryKey)}&skn=device`;
    assert.equal(await returnCode({ clientId: 'd1', password: device }), 5);
  });

  test('a password that is not a SAS token: CONNACK 4', async () => {
    assert.equal(await returnCode({ clientId: 'd1', password: 'hunter2' }), 4);
  });
});

describe('X.509 variants (docs/iot-hub-behaviour.md §2)', () => {
  test('a SHA-1 thumbprint registered with colons in lower case matches the certificate', async () => {
    const certificate = await createSelfSignedClientCertificate('x509-sha1');
    const sha1 = certificateThumbprints(certificate.certificatePem).sha1;
    const colons = sha1.toLowerCase().match(/../g)!.join(':');
    const current = hub.state.getDevice('x509-sha1');
    hub.state.updateDevice(
      'x509-sha1',
      {
        deviceId: 'x509-sha1',
        authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: colons } },
      },
      current.etag,
    );
    const client = await connected({
      clientId: 'x509-sha1',
      cert: certificate.certificatePem,
      key: certificate.privateKeyPem,
    });
    client.end(true);
  });

  test('no certificate and no password: CONNACK 4; a SAS password for an X.509 identity: CONNACK 5', async () => {
    assert.equal(await returnCode({ clientId: 'x509-sha1' }), 4);
    assert.equal(
      await returnCode({ clientId: 'x509-sha1', password: token('x509-sha1', keys('d1').primaryKey) }),
      5,
    );
  });

  test('certificateAuthority identities are refused with a log line that says why', async () => {
    const certificate = await createSelfSignedClientCertificate('ca-device');
    const code = await returnCode({
      clientId: 'ca-device',
      cert: certificate.certificatePem,
      key: certificate.privateKeyPem,
    });
    assert.equal(code, 5);
    assert.ok(
      logLines.some((line) => line.includes('clientId=ca-device') && line.includes('certificateAuthority')),
    );
  });
});

describe('connection lifecycle', () => {
  test('connection state follows connect and disconnect', async () => {
    const client = await connected({
      clientId: 'lifecycle',
      password: token('lifecycle', keys('lifecycle').primaryKey),
    });
    await twinGet(client);
    assert.equal(hub.state.getDevice('lifecycle').connectionState, 'Connected');
    client.end(true);
    await eventually(
      () => hub.state.getDevice('lifecycle').connectionState === 'Disconnected',
      'disconnected',
    );
  });

  test('a second connection with the same client id drops the first', async () => {
    const password = token('lifecycle', keys('lifecycle').primaryKey);
    const first = await connected({ clientId: 'lifecycle', password });
    const firstClosed = once(first, 'close');
    const second = await connected({ clientId: 'lifecycle', password });
    await firstClosed;
    first.end(true);
    await twinGet(second);
    assert.equal(
      hub.state.getDevice('lifecycle').connectionState,
      'Connected',
      'the newer one stays connected',
    );
    second.end(true);
  });

  test('disabling a device closes its connection and its modules; deleting a module closes it', async () => {
    const device = await connected({
      clientId: 'revoke-me',
      password: token('revoke-me', keys('revoke-me').primaryKey),
    });
    const module = await connected({
      clientId: 'revoke-me/m1',
      password: token('revoke-me', keys('revoke-me', 'm1').primaryKey, 'm1'),
    });
    await Promise.all([twinGet(device), twinGet(module)]);
    const closed = Promise.all([once(device, 'close'), once(module, 'close')]);
    const current = hub.state.getDevice('revoke-me');
    hub.state.updateDevice('revoke-me', { ...current, status: 'disabled' }, current.etag);
    await closed;
    device.end(true);
    module.end(true);
    assert.equal(
      await returnCode({ clientId: 'revoke-me', password: token('revoke-me', keys('revoke-me').primaryKey) }),
      5,
    );

    const sibling = await connected({
      clientId: 'd1/m1',
      password: token('d1', keys('d1', 'm1').primaryKey, 'm1'),
    });
    await twinGet(sibling);
    const siblingClosed = once(sibling, 'close');
    hub.state.deleteModule('d1', 'm1');
    await siblingClosed;
    sibling.end(true);
  });
});

test('no password, token or key ever reaches the log', () => {
  assert.ok(logLines.some((line) => line.includes('mqtt connect accepted')));
  assert.ok(logLines.some((line) => line.includes('mqtt connect refused')));
  const secrets = ['hunter2', ...['d1', 'd10', 'lifecycle'].flatMap((d) => Object.values(keys(d)))];
  for (const line of logLines) {
    // A signature would follow `sig=`; the redactor leaves `<redacted>` there at most.
    assert.doesNotMatch(line, /sig=(?!<redacted>)/, line);
    for (const secret of secrets) assert.ok(!line.includes(secret), `a secret leaked into: ${line}`);
  }
});
