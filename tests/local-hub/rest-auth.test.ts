import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type HubRight, type PolicyDefinition, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken, encodeUriComponentStrict } from '../../lib/sas-token';
import { createHubLogger } from '../../local-hub/hub-logger';
import { createRestHandler } from '../../local-hub/rest/rest-handler';
import { type HubState, openHubState } from '../../local-hub/store';

// --- a real HTTP server on 127.0.0.1:0 running the handler, and a signed client -------------------

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

const owner = WELL_KNOWN_POLICIES.find((p) => p.keyName === 'iothubowner')!;

class RestFixture {
  state!: HubState;
  server!: http.Server;
  host = '';
  logLines: string[] = [];
  private agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  async start(): Promise<void> {
    this.state = openHubState({ inMemory: true });
    const logger = createHubLogger({ level: 'debug', write: (line) => this.logLines.push(line) });
    const handler = createRestHandler({
      state: this.state,
      policies: WELL_KNOWN_POLICIES,
      isOwnHostName: (h) => h.toLowerCase() === this.host.toLowerCase(),
      logger,
    });
    this.server = http.createServer(handler);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    this.state.close();
  }

  token(policy: PolicyDefinition = owner): string {
    return createSasToken({
      sr: this.host,
      base64Key: policy.primaryKey,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      keyName: policy.keyName,
    });
  }

  call(
    method: string,
    path: string,
    o: {
      body?: unknown;
      headers?: Record<string, string>;
      apiVersion?: string | null;
      authorization?: string | null;
    } = {},
  ): Promise<Reply> {
    const version = o.apiVersion === undefined ? '2021-04-12' : o.apiVersion;
    const target = version === null ? path : `${path}${path.includes('?') ? '&' : '?'}api-version=${version}`;
    const text = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers: Record<string, string> = { ...o.headers };
    const authorization = o.authorization === undefined ? this.token() : o.authorization;
    if (authorization !== null) headers['authorization'] = authorization;
    if (text !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
    const [host, port] = this.host.split(':');
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host, port: Number(port), method, path: target, headers, agent: this.agent },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c) => {
            data += c;
          });
          res.on('end', () => {
            const isJson = (res.headers['content-type'] ?? '').includes('application/json');
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              text: data,
              json: isJson ? JSON.parse(data) : undefined,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }
}

/** The legacy error shape the Node SDK parses (fact sheet §1.4). */
function assertLegacyError(r: Reply, status: number, code: string, ...fragments: string[]): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(r.headers['iothub-errorcode'], code);
  const parts = r.json.Message.split(';');
  assert.equal(parts.length, 2, 'exactly one ; (the SDK splits on it)');
  assert.equal(parts[0], `ErrorCode:${code}`);
  for (const f of fragments) assert.ok(parts[1].includes(f), `"${parts[1]}" should mention ${f}`);
  assert.match(
    r.json.ExceptionMessage,
    /^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d$/,
  );
}

const policy = (name: string) => WELL_KNOWN_POLICIES.find((p) => p.keyName === name)!;

/** Each operation class with the rights that allow it (brief; IoT Hub permissions [S5]). */
const OPERATIONS: {
  name: string;
  allowedBy: HubRight[];
  run: (hub: RestFixture, p: PolicyDefinition) => Promise<Reply>;
}[] = [
  {
    name: 'identity read',
    allowedBy: ['RegistryRead', 'RegistryWrite'],
    run: (h, p) => h.call('GET', '/devices/seed', { authorization: h.token(p) }),
  },
  {
    name: 'identity list',
    allowedBy: ['RegistryRead', 'RegistryWrite'],
    run: (h, p) => h.call('GET', '/devices', { authorization: h.token(p) }),
  },
  {
    name: 'identity write',
    allowedBy: ['RegistryWrite'],
    run: (h, p) => h.call('PUT', `/devices/new-${p.keyName}`, { body: {}, authorization: h.token(p) }),
  },
  {
    name: 'identity delete',
    allowedBy: ['RegistryWrite'],
    run: (h, p) => h.call('DELETE', `/devices/del-${p.keyName}`, { authorization: h.token(p) }),
  },
  {
    name: 'bulk',
    allowedBy: ['RegistryWrite'],
    run: (h, p) =>
      h.call('POST', '/devices', {
        body: [{ id: `bulk-${p.keyName}`, importMode: 'create' }],
        authorization: h.token(p),
      }),
  },
  {
    name: 'twin read',
    allowedBy: ['ServiceConnect'],
    run: (h, p) => h.call('GET', '/twins/seed', { authorization: h.token(p) }),
  },
  {
    name: 'twin write',
    allowedBy: ['ServiceConnect'],
    run: (h, p) =>
      h.call('PATCH', '/twins/seed', { body: { tags: { by: p.keyName } }, authorization: h.token(p) }),
  },
  {
    name: 'twin replace',
    allowedBy: ['ServiceConnect'],
    run: (h, p) => h.call('PUT', '/twins/seed', { body: { tags: {} }, authorization: h.token(p) }),
  },
  {
    name: 'statistics',
    allowedBy: ['RegistryRead', 'RegistryWrite'],
    run: (h, p) => h.call('GET', '/statistics/devices', { authorization: h.token(p) }),
  },
  {
    name: 'query',
    allowedBy: ['RegistryRead', 'RegistryWrite', 'ServiceConnect'],
    run: (h, p) =>
      h.call('POST', '/devices/query', {
        body: { query: 'SELECT * FROM devices' },
        authorization: h.token(p),
      }),
  },
];

const GENERIC_401 = (r: Reply) => r.json.Message.split(';')[1];

describe('service API authorization', () => {
  const hub = new RestFixture();
  before(async () => {
    await hub.start();
    hub.state.createDevice('seed', {});
    hub.state.createDevice('other', {});
    for (const p of WELL_KNOWN_POLICIES) hub.state.createDevice(`del-${p.keyName}`, {});
  });
  after(() => hub.stop());

  for (const p of WELL_KNOWN_POLICIES) {
    test(`rights matrix for policy ${p.keyName} (${p.rights.join(', ')})`, async () => {
      for (const op of OPERATIONS) {
        const allowed = op.allowedBy.some((right) => p.rights.includes(right));
        const reply = await op.run(hub, p);
        if (allowed) {
          assert.ok(
            reply.status >= 200 && reply.status < 300,
            `${op.name} allowed for ${p.keyName}: ${reply.status} ${reply.text}`,
          );
        } else {
          assertLegacyError(reply, 401, 'IotHubUnauthorizedAccess');
        }
      }
    });
  }

  test('every authentication failure is the same 401; the reason is logged at debug only', async () => {
    const now = Math.floor(Date.now() / 1000);
    const ownerPolicy = policy('iothubowner');
    const devicePolicy = policy('device');
    const seedKey = hub.state.getDevice('seed').authentication.symmetricKey.primaryKey!;
    const cases: [string, string | null, string][] = [
      ['no header', null, 'no Authorization header'],
      ['not a SAS token', 'Bearer abc', 'SharedAccessSignature'],
      [
        'wrong key',
        createSasToken({
          sr: hub.host,
          base64Key: devicePolicy.primaryKey,
          expiresAt: now + 60,
          keyName: 'iothubowner',
        }),
        'signature does not match',
      ],
      [
        'expired',
        createSasToken({
          sr: hub.host,
          base64Key: ownerPolicy.primaryKey,
          expiresAt: now - 10,
          keyName: 'iothubowner',
        }),
        'expired',
      ],
      [
        'another hub',
        createSasToken({
          sr: 'other.azure-devices.net',
          base64Key: ownerPolicy.primaryKey,
          expiresAt: now + 60,
          keyName: 'iothubowner',
        }),
        'is not this hub',
      ],
      [
        'device-scoped token (device key, no skn)',
        createSasToken({
          sr: encodeUriComponentStrict(`${hub.host}/devices/seed`),
          base64Key: seedKey,
          expiresAt: now + 60,
        }),
        'device-scoped',
      ],
      [
        'unknown policy',
        createSasToken({
          sr: hub.host,
          base64Key: ownerPolicy.primaryKey,
          expiresAt: now + 60,
          keyName: 'nobody',
        }),
        'no shared access policy',
      ],
    ];
    const messages = new Set<string>();
    for (const [name, authorization, reason] of cases) {
      hub.logLines.length = 0;
      const reply = await hub.call('GET', '/devices/seed', { authorization });
      assertLegacyError(reply, 401, 'IotHubUnauthorizedAccess');
      messages.add(GENERIC_401(reply));
      assert.ok(
        hub.logLines.some((l) => l.includes('DEBUG') && l.includes(reason)),
        `${name}: debug log names "${reason}": ${hub.logLines.join(' / ')}`,
      );
      assert.ok(
        !reply.text.includes(reason) || reason === 'SharedAccessSignature',
        `${name}: reason not sent to the client`,
      );
    }
    assert.equal(messages.size, 1, 'one generic message for every failure');
  });

  test('the secondary key works; a policy token scoped to one device covers only that device', async () => {
    const owner = policy('iothubowner');
    const expiresAt = Math.floor(Date.now() / 1000) + 60;
    const secondary = createSasToken({
      sr: hub.host,
      base64Key: owner.secondaryKey,
      expiresAt,
      keyName: owner.keyName,
    });
    assert.equal((await hub.call('GET', '/devices/seed', { authorization: secondary })).status, 200);
    const scoped = createSasToken({
      sr: `${hub.host}/devices/seed`,
      base64Key: owner.primaryKey,
      expiresAt,
      keyName: owner.keyName,
    });
    assert.equal((await hub.call('GET', '/devices/seed', { authorization: scoped })).status, 200);
    assert.equal((await hub.call('GET', '/twins/seed', { authorization: scoped })).status, 200);
    assertLegacyError(
      await hub.call('GET', '/devices/other', { authorization: scoped }),
      401,
      'IotHubUnauthorizedAccess',
    );
    assertLegacyError(
      await hub.call('GET', '/devices', { authorization: scoped }),
      401,
      'IotHubUnauthorizedAccess',
    );
  });

  test('refused writes change nothing', async () => {
    const before = hub.state.getTwin('seed', null);
    const reply = await hub.call('PATCH', '/twins/seed', {
      body: { tags: { intruder: true } },
      authorization: hub.token(policy('registryReadWrite')),
    });
    assertLegacyError(reply, 401, 'IotHubUnauthorizedAccess');
    assert.deepEqual(hub.state.getTwin('seed', null), before);
  });
});
