/**
 * A SAS token whose signature has the wrong length — empty, short, long, not base64, or the right number
 * of characters but more bytes — is refused like any wrong signature: a clean 401 on REST, CONNACK 4 on
 * MQTT, and the hub keeps serving. The signature is compared in constant time, which needs equal
 * lengths (`timingSafeEqual` throws otherwise), so the length check is what keeps these from becoming a
 * 500 or a broken connection (found by the fuzz suite only once in thousands of requests). On MQTT a
 * token that does not parse (empty signature) is CONNACK 4 and a signature that does not match is 5
 * (local-hub/mqtt/authenticate-connection.ts); either is a clean refusal, a missing CONNACK is not.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeUriComponentStrict } from '../../lib/sas-token';
import type { LocalHub } from '../../local-hub/index';
import { connectRawMqtt, deviceSasToken, startTestHub } from '../support/local-hub-fixture';
import { assertLegacyError, OWNER_POLICY, RestTestServer } from '../support/rest-test-server';

/** A valid signature is base64 of 32 bytes: 44 characters. Each variant keeps the rest of the token. */
function wrongSignatures(valid: string): [string, string][] {
  return [
    ['empty', ''],
    ['one character short', valid.slice(0, -1)],
    ['four characters', 'AAAA'],
    ['one character long', `${valid}A`],
    ['twice as long', `${valid}${valid}`],
    ['44 characters, not base64', '!'.repeat(valid.length)],
    ['44 characters but 88 bytes', 'é'.repeat(valid.length)],
  ];
}

/** The token with its `sig` replaced (URL-encoded, as a client would send it). */
function withSignature(token: string, sig: string): string {
  return token.replace(/([?&\s])sig=[^&]*/, `$1sig=${encodeUriComponentStrict(sig)}`);
}

function signatureOf(token: string): string {
  return decodeURIComponent(/[?&\s]sig=([^&]*)/.exec(token)![1]!);
}

describe('REST: a service token with a signature of the wrong length', () => {
  const server = new RestTestServer();
  before(() => server.start());
  after(() => server.stop());

  test('is a 401 for every variant, and the hub keeps serving', async () => {
    const valid = server.token(OWNER_POLICY);
    assert.equal(signatureOf(valid).length, 44);
    for (const [what, sig] of wrongSignatures(signatureOf(valid))) {
      const reply = await server.call('GET', '/devices', { authorization: withSignature(valid, sig) });
      assert.equal(reply.status, 401, `${what}: ${reply.status} ${reply.text}`);
      assertLegacyError(reply, 401, 'IotHubUnauthorizedAccess');
    }
    assert.equal((await server.call('GET', '/devices', { authorization: valid })).status, 200);
  });
});

describe('MQTT: a device token with a signature of the wrong length', () => {
  const DEVICE = 'sig-length-device';
  let hub: LocalHub;
  let key: string;
  before(async () => {
    hub = await startTestHub();
    const identity = hub.state.createDevice(DEVICE, { deviceId: DEVICE });
    key = identity.authentication.symmetricKey.primaryKey!;
  });
  after(() => hub.close());

  test('is refused with a CONNACK (4 or 5) for every variant, and the hub keeps serving', async () => {
    const valid = deviceSasToken({ hostName: hub.hostName, deviceId: DEVICE, key });
    for (const [what, sig] of wrongSignatures(signatureOf(valid))) {
      const result = await connectRawMqtt(hub, { clientId: DEVICE, password: withSignature(valid, sig) });
      result.client?.end(true);
      assert.ok([4, 5].includes(result.returnCode), `${what}: CONNACK ${result.returnCode}`);
    }
    const accepted = await connectRawMqtt(hub, { clientId: DEVICE, password: valid });
    accepted.client?.end(true);
    assert.equal(accepted.returnCode, 0, 'a valid token still connects');
  });
});
