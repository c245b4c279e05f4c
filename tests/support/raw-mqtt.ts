/**
 * Raw MQTT 3.1.1 access to the local hub for attempts the device SDK never makes (other identities'
 * tokens and topics, malformed user names, mutated packets). Two levels:
 *  - `rawMqttConnect`: mqtt.js (the client the device SDK itself uses) with exactly the CONNECT fields
 *    given, resolving with the connection or the CONNACK refusal code;
 *  - `RawMqttSession` + `encodeMqttPacket`: bytes on a TLS socket and the packets the hub sends back.
 * TLS is always verified against the hub's CA (docs/iot-hub-behaviour.md §3.6); only loopback is dialled.
 */
import { once } from 'node:events';
import * as tls from 'node:tls';
import * as mqtt from 'mqtt';
import type { Packet } from 'mqtt-packet';
import { createSasToken, encodeUriComponentStrict } from '../../lib/sas-token';

// mqtt-packet (aedes' own parser and generator) is CommonJS; loaded once.
const mqttPacket: typeof import('mqtt-packet') = require('mqtt-packet');

export interface MqttEndpoint {
  /** `127.0.0.1:<port>`. */
  hostName: string;
  caCertificatePem: string;
}

export interface IdentityIds {
  deviceId: string;
  moduleId?: string;
}

export const clientIdOf = (ids: IdentityIds): string =>
  ids.moduleId === undefined ? ids.deviceId : `${ids.deviceId}/${ids.moduleId}`;

/** §3.1: `<HostName>/<clientId>/?api-version=<v>`. */
export function mqttUsername(hostName: string, clientId: string, query = 'api-version=2021-04-12'): string {
  return `${hostName}/${clientId}/?${query}`;
}

/** §1.5: a device/module token as the device SDK makes it (strictly encoded `sr`, no `skn`). */
export function deviceToken(
  hostName: string,
  ids: IdentityIds,
  key: string,
  expiresAt = Math.floor(Date.now() / 1000) + 3600,
): string {
  const resource = `${hostName}/devices/${ids.deviceId}${ids.moduleId === undefined ? '' : `/modules/${ids.moduleId}`}`;
  return createSasToken({ sr: encodeUriComponentStrict(resource), base64Key: key, expiresAt });
}

export interface RawConnectOptions {
  clientId: string;
  /** Default: the well-formed user name for `clientId`; `null` sends none. */
  username?: string | null;
  password?: string;
  /** TLS client certificate (X.509 identities). */
  cert?: string;
  key?: string;
  /** Default true; false asks for a persistent session (MQTT 3.1.1 §3.1.2.4). */
  clean?: boolean;
  /** A will message (MQTT 3.1.1 §3.1.2.5). */
  will?: { topic: string; payload: string; qos?: 0 | 1; retain?: boolean };
}

export type RawConnectResult =
  | { kind: 'connected'; client: mqtt.MqttClient; sessionPresent: boolean }
  /** CONNACK with a non-zero return code (MQTT 3.1.1 §3.2.2.3). */
  | { kind: 'refused'; returnCode: number }
  /** The connection ended without a CONNACK. */
  | { kind: 'closed'; message: string };

/** One CONNECT attempt, never retried; resolves with what the hub answered. */
export function rawMqttConnect(hub: MqttEndpoint, o: RawConnectOptions): Promise<RawConnectResult> {
  const client = mqtt.connect(`mqtts://${hub.hostName}`, {
    ca: hub.caCertificatePem,
    clientId: o.clientId,
    ...(o.username === null ? {} : { username: o.username ?? mqttUsername(hub.hostName, o.clientId) }),
    ...(o.password === undefined ? {} : { password: o.password }),
    ...(o.cert === undefined ? {} : { cert: o.cert, key: o.key }),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 15_000,
    clean: o.clean ?? true,
    ...(o.will === undefined
      ? {}
      : { will: { qos: 0, retain: false, ...o.will, payload: Buffer.from(o.will.payload) } }),
  });
  return new Promise((resolve) => {
    client.once('connect', (connack: { sessionPresent?: boolean }) => {
      // Later errors on an open raw session (the hub closing it on purpose) are outcomes, not crashes.
      client.on('error', () => {});
      resolve({ kind: 'connected', client, sessionPresent: connack.sessionPresent === true });
    });
    client.once('error', (error: Error & { code?: unknown }) => {
      client.end(true);
      const code = typeof error.code === 'number' ? error.code : undefined;
      resolve(
        code === undefined
          ? { kind: 'closed', message: error.message }
          : { kind: 'refused', returnCode: code },
      );
    });
    client.once('close', () => {
      client.end(true);
      resolve({ kind: 'closed', message: 'connection closed before CONNACK' });
    });
  });
}

/** SUBSCRIBE and the granted QoS per filter (128 = refused, MQTT 3.1.1 §3.9.3). */
export function subscribeRaw(client: mqtt.MqttClient, topics: string[]): Promise<number[]> {
  return new Promise((resolve, reject) =>
    client.subscribe(topics, { qos: 0 }, (error, granted) =>
      error ? reject(error) : resolve(granted.map((g) => g.qos)),
    ),
  );
}

/** Ends an mqtt.js client and waits until it is closed. */
export async function endRaw(client: mqtt.MqttClient): Promise<void> {
  await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
}

/** MQTT packet bytes exactly as aedes' own generator writes them. */
export function encodeMqttPacket(packet: Packet): Buffer {
  return mqttPacket.generate(packet);
}

/** A TLS connection to the hub's single port, verified against its CA, after the handshake. */
export async function openMqttSocket(hub: MqttEndpoint): Promise<tls.TLSSocket> {
  const colon = hub.hostName.lastIndexOf(':');
  const socket = tls.connect({
    host: hub.hostName.slice(0, colon),
    port: Number(hub.hostName.slice(colon + 1)),
    ca: hub.caCertificatePem,
  });
  // A reset by the hub is an expected outcome for raw sessions, never an unhandled error.
  socket.on('error', () => {});
  await Promise.race([
    once(socket, 'secureConnect'),
    once(socket, 'close').then(() => {
      throw new Error('the hub closed the TLS connection during the handshake');
    }),
  ]);
  return socket;
}

export type WaitOutcome = 'received' | 'closed' | 'timeout';

/**
 * Bytes on one TLS connection plus what the hub sends back, parsed with aedes' own parser. Every wait
 * takes a bound, so a fuzz loop never hangs on a connection the hub keeps open.
 */
export class RawMqttSession {
  private readonly counts = new Map<string, number>();
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private listeners: (() => void)[] = [];
  private ended = false;
  /** The first packets the hub sent (for assertions: e.g. the CONNACK return code). */
  readonly received: Packet[] = [];
  /** Set if the hub ever sent bytes that are not valid MQTT. */
  hubProtocolError: string | undefined;
  /** Called with every packet the hub sends (e.g. to inspect twin replies). */
  onPacket: ((packet: Packet) => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: tls.TLSSocket) {
    this.parser.on('packet', (packet: Packet) => {
      if (this.received.length < 16) this.received.push(packet);
      this.onPacket?.(packet);
      this.counts.set(packet.cmd, this.count(packet.cmd) + 1);
      this.notify();
    });
    this.parser.on('error', (error: Error) => {
      this.hubProtocolError ??= error.message;
    });
    socket.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.notify();
        resolve();
      }),
    );
  }

  static async open(hub: MqttEndpoint): Promise<RawMqttSession> {
    return new RawMqttSession(await openMqttSocket(hub));
  }

  get isClosed(): boolean {
    return this.ended;
  }

  count(cmd: string): number {
    return this.counts.get(cmd) ?? 0;
  }

  write(bytes: Buffer): void {
    if (!this.ended) this.socket.write(bytes);
  }

  /** Half-closes: the hub reads everything written, then sees end of stream. */
  end(): void {
    if (!this.ended) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Until `count(cmd) >= atLeast`, the connection closes, or `timeoutMs` passes. */
  waitFor(cmd: string, atLeast: number, timeoutMs: number): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.count(cmd) >= atLeast) return finish('received');
        if (this.ended) return finish('closed');
        return false;
      };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      const finish = (outcome: WaitOutcome): true => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(outcome);
        return true;
      };
      if (!check()) this.listeners.push(check);
    });
  }

  /** Until the connection is closed, or `timeoutMs` passes (then destroyed); true if the hub closed it. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const closedInTime = await Promise.race([
      this.closed.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!closedInTime) {
      this.destroy();
      await this.closed;
    }
    return closedInTime;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
