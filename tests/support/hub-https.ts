/**
 * HTTPS requests to an in-process local hub, trusting its CA (verification stays on), with service SAS
 * tokens made like the service SDK makes them. For routes the official SDKs have no call for: the
 * local-hub-only telemetry window and the web view.
 */
import * as https from 'node:https';
import { type PolicyDefinition, WELL_KNOWN_POLICIES } from '../../lib/local-hub-defaults';
import { createSasToken } from '../../lib/sas-token';
import type { LocalHub } from '../../local-hub/index';
import { within } from './runtime-wait';

export interface HubReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when the reply says it is JSON. */
  json: any;
}

export function wellKnownPolicy(name: string): PolicyDefinition {
  const found = WELL_KNOWN_POLICIES.find((p) => p.keyName === name);
  if (!found) throw new Error(`no well-known policy ${name}`);
  return found;
}

/** `SharedAccessSignature sr=<hostName>&sig=…&se=…&skn=<policy>`, valid an hour unless `expiresAt` says otherwise. */
export function serviceToken(
  hub: Pick<LocalHub, 'hostName'>,
  policy: PolicyDefinition | string,
  options: { key?: string; expiresAt?: number } = {},
): string {
  const p = typeof policy === 'string' ? wellKnownPolicy(policy) : policy;
  return createSasToken({
    sr: hub.hostName,
    base64Key: options.key ?? p.primaryKey,
    expiresAt: options.expiresAt ?? Math.floor(Date.now() / 1000) + 3600,
    keyName: p.keyName,
  });
}

/** One request; `authorization` null sends none. Bounded by `timeoutMs` (default: the waits' default). */
export function hubGet(
  hub: Pick<LocalHub, 'hostName' | 'caCertificatePem'>,
  path: string,
  authorization: string | null,
  timeoutMs?: number,
): Promise<HubReply> {
  const [host, port] = hub.hostName.split(':');
  const reply = new Promise<HubReply>((resolve, reject) => {
    const req = https.request(
      {
        host,
        port: Number(port),
        path,
        method: 'GET',
        ca: hub.caCertificatePem,
        headers: authorization === null ? {} : { authorization },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          const isJson = (res.headers['content-type'] ?? '').includes('application/json');
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            text,
            json: isJson ? JSON.parse(text) : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
  return within(`the hub's answer to GET ${path}`, reply, timeoutMs);
}
