import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type PolicyDefinition, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken } from '../../lib/sas-token';
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
      raw?: string;
      headers?: Record<string, string>;
      apiVersion?: string | null;
      authorization?: string | null;
    } = {},
  ): Promise<Reply> {
    const version = o.apiVersion === undefined ? '2021-04-12' : o.apiVersion;
    const target = version === null ? path : `${path}${path.includes('?') ? '&' : '?'}api-version=${version}`;
    const text = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const headers: Record<string, string> = {
      ...(text !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      ...o.headers,
    };
    const authorization = o.authorization === undefined ? this.token() : o.authorization;
    if (authorization !== null) headers['authorization'] = authorization;
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

function nested(depth: number): Record<string, unknown> {
  let doc: Record<string, unknown> = { leaf: 1 };
  for (let i = depth; i >= 1; i--) doc = { [`l${i}`]: doc };
  return doc;
}

describe('service API bad input: 4xx in the legacy shape naming the problem, and the server keeps serving', () => {
  const hub = new RestFixture();
  before(async () => {
    await hub.start();
    hub.state.createDevice('seed', {});
  });
  after(() => hub.stop());

  /** After every bad request the same keep-alive connection still serves a normal request. */
  async function stillServing(): Promise<void> {
    const r = await hub.call('GET', '/twins/seed');
    assert.equal(r.status, 200);
  }

  test('malformed JSON: 400 IotHubFormatError with the position, never echoing the body', async () => {
    const raw = '{"authentication":{"symmetricKey":{"primaryKey":"U0VDUkVUS0VZU0VDUkVUS0VZ", }}}';
    const r = await hub.call('PUT', '/devices/newdev', { raw });
    assertLegacyError(r, 400, 'IotHubFormatError', `position ${raw.indexOf(' }') + 1}`, 'line 1');
    assert.ok(!r.text.includes('U0VDUkVUS0VZ'), 'the key in the body is not echoed');
    await stillServing();
    const truncated = await hub.call('PATCH', '/twins/seed', { raw: '{"tags": {"a": ' });
    assertLegacyError(truncated, 400, 'IotHubFormatError', 'position 15', 'unexpected end of input');
    await stillServing();
  });

  test('empty body, non-JSON content types and bodies over 256 KB', async () => {
    assertLegacyError(
      await hub.call('PUT', '/devices/newdev', { raw: '' }),
      400,
      'IotHubFormatError',
      'empty',
    );
    const plain = await hub.call('PUT', '/devices/newdev', {
      raw: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    assertLegacyError(plain, 415, 'GenericUnsupportedMediaType', 'application/json');
    const big = JSON.stringify({ tags: { blob: 'x'.repeat(300 * 1024) } });
    assertLegacyError(await hub.call('PATCH', '/twins/seed', { raw: big }), 413, 'MessageTooLarge', '262144');
    await stillServing();
  });

  test('twin content: over-size, depth 11, keys with "." or "$" — each 400 naming its path', async () => {
    const props = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, 'v'.repeat(4000)]));
    assertLegacyError(
      await hub.call('PATCH', '/twins/seed', { body: { properties: { desired: props } } }),
      400,
      'ArgumentInvalid',
      'properties.desired: desired is',
      '32768',
    );
    assertLegacyError(
      await hub.call('PATCH', '/twins/seed', { body: { tags: nested(11) } }),
      400,
      'ArgumentInvalid',
      'tags.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11',
    );
    assertLegacyError(
      await hub.call('PUT', '/twins/seed', {
        body: { tags: { $x: 1 }, properties: { desired: { 'a.b': 1 } } },
      }),
      400,
      'ArgumentInvalid',
      'tags["$x"]',
      'properties.desired["a.b"]',
    );
    assert.equal((await hub.call('PATCH', '/twins/seed', { body: { tags: nested(10) } })).status, 200);
    await stillServing();
  });

  test('invalid ids and malformed paths', async () => {
    assertLegacyError(
      await hub.call('PUT', '/devices/bad%20id', { body: {} }),
      400,
      'ArgumentInvalid',
      'deviceId',
    );
    assertLegacyError(
      await hub.call('PUT', `/devices/${'x'.repeat(129)}`, { body: {} }),
      400,
      'ArgumentInvalid',
      'deviceId',
      '129',
    );
    assertLegacyError(await hub.call('GET', '/devices/%E0%A4%A'), 400, 'ArgumentInvalid', 'percent-encoding');
    await stillServing();
  });

  test('hostile nesting is refused without crashing the server', async () => {
    const deep = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    assertLegacyError(
      await hub.call('PATCH', '/twins/seed', { raw: deep }),
      400,
      'IotHubFormatError',
      'nesting',
    );
    const unbalanced = '['.repeat(100000);
    assertLegacyError(await hub.call('PATCH', '/twins/seed', { raw: unbalanced }), 400, 'IotHubFormatError');
    await stillServing();
  });
});
