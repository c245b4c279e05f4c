/**
 * A real HTTP server on 127.0.0.1:0 running `createRestHandler` over an in-memory store, and a client
 * that signs every request with a SAS token (lib/sas-token.ts) unless told otherwise. Shared by the
 * local-hub REST tests (api, auth matrix, bad input, throttling).
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { type PolicyDefinition, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken } from '../../lib/sas-token';
import { createHubLogger } from '../../local-hub/hub-logger';
import { createRestHandler } from '../../local-hub/rest/rest-handler';
import { type HubState, openHubState } from '../../local-hub/store';
import { createRequestThrottle, type RequestThrottle } from '../../local-hub/throttle/request-throttle';
import { within } from './runtime-wait';

export interface RestReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The parsed body when the reply says it is JSON. */
  json: any;
}

export interface RestCallOptions {
  /** Sent as JSON (with a JSON content type). */
  body?: unknown;
  /** Sent as is, instead of `body` (with a JSON content type unless `headers` says otherwise). */
  raw?: string;
  headers?: Record<string, string>;
  /** Default '2021-04-12'; `null` sends no api-version. */
  apiVersion?: string | null;
  /** Default: an owner token for this server; `null` sends no Authorization header. */
  authorization?: string | null;
}

export const policyNamed = (name: string): PolicyDefinition =>
  WELL_KNOWN_POLICIES.find((p) => p.keyName === name)!;

export const OWNER_POLICY = policyNamed('iothubowner');

export class RestTestServer {
  state!: HubState;
  server!: http.Server;
  /** `127.0.0.1:<port>` once started. */
  host = '';
  /** Every line the hub logged (debug level). */
  logLines: string[] = [];
  // One keep-alive socket: the bad-input tests prove the same connection keeps serving.
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
    await within('the REST test server to close', new Promise((resolve) => this.server.close(resolve)));
    this.state.close();
  }

  token(policy: PolicyDefinition = OWNER_POLICY): string {
    return createSasToken({
      sr: this.host,
      base64Key: policy.primaryKey,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
      keyName: policy.keyName,
    });
  }

  call(method: string, path: string, o: RestCallOptions = {}): Promise<RestReply> {
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
    return within(
      `the hub's answer to ${method} ${path}`,
      send({ host, port: Number(port), method, path: target, headers, agent: this.agent }, text),
    );
  }
}

function send(options: http.RequestOptions, text: string | undefined): Promise<RestReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
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
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** The legacy error shape the Node SDK parses (docs/iot-hub-behaviour.md §1.4). */
export function assertLegacyError(r: RestReply, status: number, code: string, ...fragments: string[]): void {
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

/**
 * A RestTestServer behind IoT Hub's S1 × 1 quotas on a pinned clock, started before and stopped after the
 * calling `describe`'s tests: `advance(ms)` moves the throttle's clock.
 */
export function throttledS1Server(): { hub: RestTestServer; advance: (ms: number) => void } {
  const hub = new RestTestServer();
  let now = Date.parse('2030-01-01T00:00:00Z');
  const throttle = createRequestThrottle({ tier: 'S1', units: 1, now: () => now });
  before(() => hub.start(throttle));
  after(async () => {
    throttle.close();
    await hub.stop();
  });
  return {
    hub,
    advance: (ms) => {
      now += ms;
    },
  };
}
