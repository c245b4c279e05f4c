/**
 * The device side of the fan-out benchmark: N raw mqtt.js connections (the MQTT client the device
 * SDK wraps; cheaper than N ModuleClients, and the point is the hub's fan-out path), each subscribed
 * to the desired-patch topic (docs/iot-hub-behaviour.md §3.2), recording when each expected patch arrives.
 */
import * as mqtt from 'mqtt';
import { DESIRED_PATCH_FILTER } from '../local-hub/mqtt/iothub-topics';
import { runPool } from './pool';

export interface ClientIdentity {
  deviceId: string;
  moduleId: string;
  /** SAS token for the hub; omitted for the raw broker (no authentication). */
  password?: string;
}

export interface Endpoint {
  hostName: string;
  caCertificate: string;
}

/** Receipt times (ms, monotonic) per sequence number, for the current round. */
export class Receipts {
  private readonly times = new Map<number, number>();
  private waiter: { count: number; resolve: () => void } | undefined;

  record(seq: number): void {
    if (this.times.has(seq)) return;
    this.times.set(seq, now());
    if (this.waiter && this.times.size >= this.waiter.count) this.waiter.resolve();
  }

  get(seq: number): number | undefined {
    return this.times.get(seq);
  }

  get size(): number {
    return this.times.size;
  }

  reset(): void {
    this.times.clear();
  }

  /** Resolves when `count` receipts are in, or after `timeoutMs` (then fewer are recorded). */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.times.size >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        },
      };
    });
  }
}

/**
 * One module's raw MQTT connection as IoT Hub expects it (client id `<device>/<module>`, the api-version in
 * the user name), with no reconnects or keep-alive pings so a benchmark measures only what it sends.
 */
export function connectModuleClient(endpoint: Endpoint, identity: ClientIdentity): mqtt.MqttClient {
  const clientId = `${identity.deviceId}/${identity.moduleId}`;
  return mqtt.connect(`mqtts://${endpoint.hostName}`, {
    ca: endpoint.caCertificate,
    clientId,
    username: `${endpoint.hostName}/${clientId}/?api-version=2021-04-12`,
    ...(identity.password === undefined ? {} : { password: identity.password }),
    protocolVersion: 4,
    reconnectPeriod: 0,
    clean: true,
    keepalive: 0,
  });
}

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Payloads carry `fanOut.seq`; anything else (e.g. a full document) is ignored. */
function seqOf(payload: Buffer): number | undefined {
  try {
    const seq = (JSON.parse(payload.toString('utf8')) as { fanOut?: { seq?: unknown } }).fanOut?.seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

function connectOne(
  endpoint: Endpoint,
  identity: ClientIdentity,
  receipts: Receipts,
): Promise<mqtt.MqttClient> {
  const clientId = `${identity.deviceId}/${identity.moduleId}`;
  const client = connectModuleClient(endpoint, identity);
  client.on('message', (_topic, payload) => {
    const seq = seqOf(payload);
    if (seq !== undefined) receipts.record(seq);
  });
  return new Promise((resolve, reject) => {
    client.once('error', (error) => reject(new Error(`${clientId}: ${error.message}`)));
    client.once('connect', () => {
      client.subscribe(DESIRED_PATCH_FILTER, { qos: 0 }, (error, granted) => {
        if (error) return reject(new Error(`${clientId}: subscribe failed: ${error.message}`));
        if (granted?.[0]?.qos === 128) return reject(new Error(`${clientId}: subscription refused`));
        resolve(client);
      });
    });
  });
}

/** Connects every identity (a few at a time: TLS handshakes are CPU-bound) and subscribes it. */
export async function connectClients(
  endpoint: Endpoint,
  identities: readonly ClientIdentity[],
  receipts: Receipts,
): Promise<mqtt.MqttClient[]> {
  const clients: mqtt.MqttClient[] = [];
  try {
    await runPool(identities.length, 25, async (i) => {
      clients.push(await connectOne(endpoint, identities[i]!, receipts));
    });
  } catch (error) {
    await closeClients(clients);
    throw error;
  }
  return clients;
}

export async function closeClients(clients: readonly mqtt.MqttClient[]): Promise<void> {
  await Promise.all(
    clients.map((client) => new Promise<void>((resolve) => client.end(true, {}, () => resolve()))),
  );
}
