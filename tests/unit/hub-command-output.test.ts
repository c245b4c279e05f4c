/**
 * What the hub commands print (lib/hub-command-format.ts, lib/twin-view.ts, lib/telemetry-tail.ts) and
 * how failures are worded (lib/hub-command-errors.ts, lib/tls-trust.ts): keys masked unless asked for,
 * aligned tables, acknowledgements against the desired $version, and a sentence naming the id, the
 * address and the fix with the documented exit code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HUB_EXIT } from '../../lib/hub-command-args';
import { explainHubFailure, hubErrorCode } from '../../lib/hub-command-errors';
import {
  formatIdentityView,
  formatQueryResults,
  formatTable,
  HIDDEN_KEY,
  identityView,
} from '../../lib/hub-command-format';
import { formatTelemetryLine, parseTelemetryPage, telemetryRequestPath } from '../../lib/telemetry-tail';
import { untrustedCertificateReason } from '../../lib/tls-trust';
import { formatTwinSummary, summarizeTwin } from '../../lib/twin-view';

const KEY = 'c2VjcmV0LWtleS1zZWNyZXQta2V5LXNlY3JldC1rZXk=';
const device = {
  deviceId: 'd1',
  status: 'enabled',
  connectionState: 'Connected',
  lastActivityTime: '0001-01-01T00:00:00Z',
  authentication: { type: 'sas', symmetricKey: { primaryKey: KEY, secondaryKey: KEY } },
  capabilities: { iotEdge: false },
  etag: 'MQ==',
};

describe('identities', () => {
  test('keys are masked unless shown; shown keys come with the connection string', () => {
    const masked = identityView(device, false, () => assert.fail('no connection string when masked'));
    assert.equal(masked.authentication.primaryKey, HIDDEN_KEY);
    assert.equal(masked.connectionString, null);
    assert.equal(masked.lastActivityTime, null, 'IoT Hub year 1 means never');
    const text = formatIdentityView(masked);
    assert.ok(!text.includes(KEY));
    assert.match(text, /primary key {5}<hidden> \(--show-keys shows it\)/);
    const shown = identityView(device, true, (key) => `HostName=h;DeviceId=d1;SharedAccessKey=${key}`);
    assert.equal(shown.authentication.primaryKey, KEY);
    assert.equal(shown.connectionString, `HostName=h;DeviceId=d1;SharedAccessKey=${KEY}`);
  });

  test('a module has managedBy and no status; an X.509 identity has thumbprints and no keys', () => {
    const view = identityView(
      {
        deviceId: 'd1',
        moduleId: 'm1',
        authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB' } },
      },
      false,
      () => '',
    );
    assert.equal(view.status, undefined);
    assert.equal(view.managedBy, null);
    assert.equal(view.authentication.primaryKey, null);
    assert.match(formatIdentityView(view), /primary thumbprint +AB/);
  });

  test('tables align their columns; query results become a table or JSON lines', () => {
    assert.equal(formatTable(['A', 'BB'], [['long', 'x']], 'none'), 'A     BB\nlong  x');
    assert.equal(formatTable(['A'], [], 'none'), 'none');
    assert.equal(
      formatQueryResults([
        { deviceId: 'd', n: 1 },
        { deviceId: 'e', x: { a: 1 } },
      ]),
      'deviceId  n  x\nd         1\ne            {"a":1}\n(2 results)',
    );
    assert.equal(formatQueryResults([3, 'a']), '3\n"a"');
  });
});

describe('twin view', () => {
  const twin = {
    deviceId: 'd1',
    moduleId: 'm1',
    etag: 'AAA=',
    properties: {
      desired: { telemetryInterval: 30, mode: 'eco', limit: 5, $version: 4 },
      reported: {
        telemetryInterval: { value: 30, ac: 200, av: 4 },
        mode: { value: 'eco', ac: 400, av: 4, ad: 'mode must be on or off' },
        limit: { value: 3, ac: 200, av: 3 },
        battery: 87,
        $version: 9,
      },
    },
  };

  test('each desired property with its acknowledgement, then what is only reported', () => {
    const summary = summarizeTwin(twin);
    assert.equal(summary.desiredVersion, 4);
    assert.equal(summary.reportedVersion, 9);
    assert.deepEqual(
      summary.properties.map((p) => [p.name, p.state, p.reported]),
      [
        ['telemetryInterval', 'acknowledged', 30],
        ['mode', 'rejected', 'eco'],
        ['limit', 'pending', 3],
        ['battery', 'reported-only', 87],
      ],
    );
    const text = formatTwinSummary(summary);
    assert.match(text, /Twin of module "d1\/m1"/);
    assert.match(text, /desired \$version 4 {3}reported \$version 9/);
    assert.match(text, /telemetryInterval +30 +30 +acknowledged \(200 at v4\)/);
    assert.match(text, /mode +"eco" +"eco" +rejected \(400 at v4\): mode must be on or off/);
    assert.match(text, /limit +5 +3 +pending \(200 at v3\): acknowledged version 3; desired is at 4/);
    assert.match(text, /battery +- +87 +\(reported only\)/);
  });
});

describe('telemetry tail', () => {
  test('the request path carries the filters and bounds the wait', () => {
    assert.equal(
      telemetryRequestPath({ deviceId: 'd 1', moduleId: 'm', after: 7, waitMs: 99_999 }),
      '/local-hub/telemetry?api-version=2021-04-12&deviceId=d+1&moduleId=m&after=7&waitMs=30000',
    );
  });

  test('an answer is checked before use; a line per message', () => {
    assert.deepEqual(parseTelemetryPage('nope'), { problem: 'the telemetry answer is not JSON' });
    assert.match(String((parseTelemetryPage('{"messages":{}}') as { problem: string }).problem), /lacks/);
    const page = parseTelemetryPage(
      JSON.stringify({
        messages: [
          {
            sequence: 3,
            deviceId: 'd',
            moduleId: 'm',
            enqueuedTimeUtc: '2026-01-01T00:00:00.000Z',
            properties: { '$.on': 'telemetry' },
            body: { n: 1 },
            bodyEncoding: 'json',
          },
          {
            sequence: 4,
            deviceId: 'd',
            enqueuedTimeUtc: 't',
            properties: {},
            body: 'AAE=',
            bodyEncoding: 'base64',
          },
        ],
        next: 4,
      }),
    );
    assert.ok(!('problem' in page));
    assert.equal(
      formatTelemetryLine(page.messages[0]!),
      '2026-01-01T00:00:00.000Z  d/m  #3  {"n":1}  [$.on=telemetry]',
    );
    assert.equal(formatTelemetryLine(page.messages[1]!), 't  d  #4  base64:AAE=');
  });
});

describe('failures', () => {
  const local = { hostName: '127.0.0.1:8443', localDefault: true };

  test('unreachable: the address tried and how to start a hub (exit 5)', () => {
    const failure = explainHubFailure({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, local);
    assert.equal(failure.exitCode, HUB_EXIT.unreachable);
    assert.match(failure.message, /cannot reach the hub at 127\.0\.0\.1:8443 \(ECONNREFUSED\).*npm run hub/);
  });

  test('untrusted certificate: pass --ca (exit 5); recognised by code or by OpenSSL text', () => {
    const failure = explainHubFailure({ code: 'SELF_SIGNED_CERT_IN_CHAIN' }, local);
    assert.equal(failure.exitCode, HUB_EXIT.unreachable);
    assert.match(failure.message, /certificate is not trusted .*pass --ca <file>/);
    const sdkError = Object.assign(new Error('mqtt.js returned Failure on first connection'), {
      transportError: new Error(
        'Failure on first connection (Not authorized): unable to verify the first certificate',
      ),
    });
    assert.equal(untrustedCertificateReason(sdkError), 'unable to verify the first certificate');
    assert.equal(untrustedCertificateReason(new Error('connect ECONNREFUSED')), undefined);
  });

  test('not found names the id and the hub code (exit 4); a module call missing its device names the device', () => {
    const body = '{"Message":"ErrorCode:ModuleNotFound;Module m of device d not found"}';
    assert.equal(hubErrorCode(body), 'ModuleNotFound');
    const failure = explainHubFailure(
      { statusCode: 404, responseBody: body },
      { ...local, target: 'module "m" of device "d"', deviceId: 'd' },
    );
    assert.deepEqual(failure, {
      exitCode: HUB_EXIT.notFound,
      message: 'module "m" of device "d" does not exist on 127.0.0.1:8443 (404 ModuleNotFound)',
    });
    const noDevice = explainHubFailure(
      { statusCode: 404, responseBody: '{"Message":"ErrorCode:DeviceNotFound;x"}' },
      { ...local, target: 'module "m" of device "d"', deviceId: 'd' },
    );
    assert.match(noDevice.message, /^device "d" does not exist/);
  });

  test('refused credentials and other answers (exit 3)', () => {
    assert.match(explainHubFailure({ statusCode: 401 }, local).message, /well-known iothubowner key/);
    const other = explainHubFailure(
      { statusCode: 400, responseBody: '{"Message":"ErrorCode:ArgumentInvalid;bad"}', message: 'bad query' },
      { hostName: 'h.azure-devices.net', localDefault: false },
    );
    assert.deepEqual(other, {
      exitCode: HUB_EXIT.failed,
      message: 'the hub at h.azure-devices.net answered HTTP 400 ArgumentInvalid: bad query',
    });
  });
});
