/**
 * A raw HTTPS client for the hub's service REST API, for the reliability suites: it sends exactly
 * what a test asks for (forged tokens, odd headers, broken bodies), which the official Registry can
 * never express, and reports every answer as plain data. TLS is always verified against the hub's
 * CA (docs/architecture.md: never turn certificate verification off).
 */
import * as https from 'node:https';
import { type HubRight, type PolicyDefinition, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken } from '../../lib/sas-token';

export const API_VERSION = '2021-04-12';

export interface HubEndpoint {
  /** `127.0.0.1:<port>`. */
  hostName: string;
  caCertificatePem: string;
}

export interface RestReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RestRequest {
  method: string;
  /** Path with query, sent as is. */
  path: string;
  headers?: Record<string, string>;
  /** Objects are sent as JSON with a JSON content type; strings and buffers as given. */
  body?: unknown;
  /** `null` sends no Authorization header; default: an owner-policy token for this hub. */
  authorization?: string | null;
  /** On a new connection of its own instead of a pooled keep-alive one. */
  fresh?: boolean;
}

export interface RestCaller {
  request(request: RestRequest): Promise<RestReply>;
  /** Ends the keep-alive connections. */
  close(): void;
}

export function wellKnownPolicy(name: string): PolicyDefinition {
  const policy = WELL_KNOWN_POLICIES.find((p) => p.keyName === name);
  if (!policy) {
    const valid = WELL_KNOWN_POLICIES.map((p) => p.keyName).join(', ');
    throw new Error(`No well-known policy ${JSON.stringify(name)}; valid: ${valid}`);
  }
  return policy;
}

/** The well-known policies that lack every one of `rights`. */
export function policiesWithout(...rights: HubRight[]): PolicyDefinition[] {
  return WELL_KNOWN_POLICIES.filter((p) => !rights.some((right) => p.rights.includes(right)));
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A service token as the service SDK makes it (docs/iot-hub-behaviour.md §1.5: raw HostName as `sr`, `skn`). */
export function serviceToken(
  hostName: string,
  policy: PolicyDefinition,
  o: { sr?: string; expiresAt?: number; key?: string } = {},
): string {
  return createSasToken({
    sr: o.sr ?? hostName,
    base64Key: o.key ?? policy.primaryKey,
    expiresAt: o.expiresAt ?? nowSeconds() + 3600,
    keyName: policy.keyName,
  });
}

/** Appends `api-version` the way the SDK does. */
export function withApiVersion(path: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}api-version=${API_VERSION}`;
}

export function createRestCaller(hub: HubEndpoint, o: { maxSockets?: number } = {}): RestCaller {
  const agent = new https.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 8, ca: hub.caCertificatePem });
  const colon = hub.hostName.lastIndexOf(':');
  const host = hub.hostName.slice(0, colon);
  const port = Number(hub.hostName.slice(colon + 1));
  const owner = wellKnownPolicy('iothubowner');
  return {
    request: (r) => {
      const headers: Record<string, string> = { ...r.headers };
      const authorization =
        r.authorization === undefined ? serviceToken(hub.hostName, owner) : r.authorization;
      if (authorization !== null) headers['authorization'] = authorization;
      let payload: string | Buffer | undefined;
      if (typeof r.body === 'string' || Buffer.isBuffer(r.body)) payload = r.body;
      else if (r.body !== undefined) {
        payload = JSON.stringify(r.body);
        headers['content-type'] ??= 'application/json; charset=utf-8';
      }
      const connection = r.fresh ? { agent: false as const, ca: hub.caCertificatePem } : { agent };
      return send({ host, port, ...connection, method: r.method, path: r.path, headers }, payload);
    },
    close: () => agent.destroy(),
  };
}

function send(options: https.RequestOptions, payload: string | Buffer | undefined): Promise<RestReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
