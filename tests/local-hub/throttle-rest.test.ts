import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type PolicyDefinition, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken } from '../../lib/sas-token';
import { createHubLogger } from '../../local-hub/hub-logger';
import { createRestHandler } from '../../local-hub/rest/rest-handler';
import { type HubState, openHubState } from '../../local-hub/store';
import { createRequestThrottle, type RequestThrottle } from '../../local-hub/throttle/request-throttle';

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

  async start(throttle?: RequestThrottle): Promise<void> {
    this.state = openHubState({ inMemory: true });
    const logger = createHubLogger({ level: 'debug', write: (line) => this.logLines.push(line) });
    const handler = createRestHandler({
      state: this.state,
      policies: WELL_KNOWN_POLICIES,
      isOwnHostName: (h) => h.toLowerCase() === this.host.toLowerCase(),
      logger,
      throttle,
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

describe('throttling over HTTP (S1, 1 unit, clock pinned)', () => {
  const hub = new RestFixture();
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
