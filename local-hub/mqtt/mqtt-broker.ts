/**
 * The hub's MQTT endpoint: an aedes broker whose hooks enforce IoT Hub's rules (docs/architecture.md: "aedes
 * is the broker; IoT Hub rules plug in through its hooks"). IoT Hub topics are per connection, so
 * nothing a device publishes is routed to other devices, and every hub reply or desired patch goes to
 * exactly one connection with `client.publish` (docs/iot-hub-behaviour.md §0.9, §3.7). The hooks live in
 * broker-hooks.ts; this file owns the broker's lifetime and the hub-initiated traffic.
 */
import type { Duplex } from 'node:stream';
import type { HubLogger } from '../hub-logger';
import type { DesiredChange, IdentityRevoked } from '../hub-state';
import { type Aedes, type Client, clientsOf, publishTo, subscriptionsOf } from './aedes-boundary';
import { createHooks, type MqttBrokerOptions, recordActivity } from './broker-hooks';
import { ConnectionRegistry } from './connection-registry';
import { clientIdOf, DESIRED_PATCH_FILTER, desiredPatchTopic } from './iothub-topics';
import { connectMethodDelivery } from './method-delivery';
import { purgeStoredSession } from './stored-sessions';

export type { MqttBrokerOptions } from './broker-hooks';

export interface MqttBroker {
  /** Takes over a connection whose first byte is MQTT CONNECT (from the TLS dispatcher). */
  handle(connection: Duplex): void;
  /** Ends every MQTT connection and the broker; resolves when all are closed. */
  close(): Promise<void>;
}

export async function createMqttBroker(options: MqttBrokerOptions): Promise<MqttBroker> {
  const { Aedes: AedesClass } = await import('aedes');
  const connections = new ConnectionRegistry();
  const { clientLog, ...hooks } = createHooks(options, connections);
  const broker: Aedes = await AedesClass.createBroker({
    ...hooks,
    // IoT Hub client ids are `<deviceId>/<moduleId>` (up to 257 chars); the 23-char limit is MQTT 3.1.0's.
    // The same limit on 3.1.1 is applied by the authenticate hook (CONNACK 2).
    maxClientsIdLength: 257,
  });
  watchConnections(broker, options, connections, clientLog);
  const stopDesired = options.state.onDesiredChange((change) =>
    pushDesiredChange(broker, options.logger, change),
  );
  const stopRevoked = options.state.onIdentityRevoked((event) =>
    dropRevoked(broker, options.logger, connections, event),
  );
  const stopMethods = options.methods
    ? connectMethodDelivery(broker, options.methods, connections, options.logger)
    : () => undefined;

  let closed: Promise<void> | undefined;
  return {
    handle: (connection) => {
      const client = broker.handle(connection);
      grantAtMostQos1(client);
      refuseOversizePackets(client);
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        stopDesired();
        stopRevoked();
        stopMethods();
        broker.close(() => resolve());
      });
      return closed;
    },
  };
}

function watchConnections(
  broker: Aedes,
  options: MqttBrokerOptions,
  connections: ConnectionRegistry,
  clientLog: HubLogger,
): void {
  const { state, logger } = options;
  const setConnected = (client: Client, connected: boolean) => {
    const identity = connections.get(client)?.identity;
    if (!identity) return;
    try {
      state.setConnectionState(identity.deviceId, identity.moduleId, connected);
    } catch (error) {
      // The identity may have been deleted while connected: nothing left to mark.
      logger.debug('mqtt connection state not recorded', { clientId: client.id, error });
    }
  };
  // 'clientReady' comes after aedes' whole CONNECT sequence, and a socket that closes during it has
  // its 'clientDisconnect' first: the registry lets only a ready, still open connection take the
  // identity's state, and only the connection that holds it give it back (a replaced connection's
  // late close changes nothing).
  broker.on('clientReady', (client) => {
    if (revokedDuringConnect(client, options, connections)) {
      logger.info('mqtt connection closed: identity revoked while connecting', { clientId: client.id });
      purgeStoredSession(broker, client.id);
      connections.end(client);
      return;
    }
    if (!connections.takeHold(client)) return;
    setConnected(client, true);
    connections.armExpiry(client, () => {
      // IoT Hub closes an MQTT connection when its SAS token expires; the SDKs reconnect with a new
      // token before that (item 5; docs/local-hub-security.md).
      logger.info('mqtt connection closed: SAS token expired', { clientId: client.id });
      connections.end(client);
    });
  });
  broker.on('clientDisconnect', (client) => {
    if (connections.release(client)) setConnected(client, false);
    logger.info('mqtt disconnected', { clientId: client.id });
  });
  broker.on('ping', (_packet, client) => {
    const identity = connections.liveIdentity(client);
    if (identity) recordActivity(state, logger, identity);
  });
  broker.on('clientError', (client, error) => {
    clientLog.debug('mqtt client error', { clientId: client.id, error: error.message });
  });
  broker.on('connectionError', (_client, error) => {
    clientLog.debug('mqtt connection error', { error: error.message });
  });
}

/**
 * A delete, disable or re-key that committed between the authenticate hook and the end of CONNECT
 * found no registered client to drop: compare the identity with what it authenticated against.
 */
function revokedDuringConnect(
  client: Client,
  options: MqttBrokerOptions,
  connections: ConnectionRegistry,
): boolean {
  const info = connections.get(client);
  if (!info || info.ended) return false;
  try {
    const now = options.state.findIdentity(info.identity.deviceId, info.identity.moduleId);
    return JSON.stringify(now ?? null) !== info.credentials;
  } catch {
    return true;
  }
}

/** §3.3, §6: a desired change reaches the identity's one connection, if connected and subscribed. */
function pushDesiredChange(broker: Aedes, logger: HubLogger, change: DesiredChange): void {
  const client = clientsOf(broker)[clientIdOf(change)];
  if (!client?.connected || !subscriptionsOf(client)[DESIRED_PATCH_FILTER]) return;
  publishTo(client, logger, desiredPatchTopic(change.patch.$version), JSON.stringify(change.patch));
  logger.debug('mqtt desired patch sent', { clientId: client.id, version: change.patch.$version });
}

/**
 * A deleted or disabled device takes its modules' connections with it (docs/iot-hub-behaviour.md §2: modules
 * inherit the device's status, and are deleted with it); new device keys only affect the device's own
 * connection.
 * A delete or re-key also drops the identity's stored session (item 7): a new identity with the same
 * id, or a client with the new keys, starts without the old subscriptions.
 */
function dropRevoked(
  broker: Aedes,
  logger: HubLogger,
  connections: ConnectionRegistry,
  event: IdentityRevoked,
): void {
  const clients = clientsOf(broker);
  const exact = clientIdOf(event);
  const wholeDevice = event.moduleId === null && event.reason !== 'credentialsChanged';
  for (const id of Object.keys(clients)) {
    const affected = id === exact || (wholeDevice && id.startsWith(`${event.deviceId}/`));
    const client = clients[id];
    if (!affected || !client) continue;
    logger.info('mqtt connection closed: identity revoked', { clientId: id, reason: event.reason });
    connections.end(client);
  }
  if (event.reason !== 'disabled') purgeStoredSession(broker, exact);
}

/**
 * §3.2: IoT Hub has no QoS 2, and grants a QoS 2 subscription as QoS 1. aedes takes the SUBACK's
 * granted QoS from the SUBSCRIBE packet before `authorizeSubscribe` runs, so the request is lowered
 * as the packet is parsed. `broker.handle` returns the client before any byte is read, so this
 * listener sees every packet (`_parser` is internal; tests/local-hub/mqtt-twin.test.ts guards it).
 */
function grantAtMostQos1(client: Client): void {
  const parser = (client as unknown as { _parser: NodeJS.EventEmitter })._parser;
  parser.prependListener('packet', (packet: { cmd: string; subscriptions?: { qos: number }[] }) => {
    if (packet.cmd !== 'subscribe') return;
    for (const subscription of packet.subscriptions ?? []) {
      if (subscription.qos > 1) subscription.qos = 1;
    }
  });
}

/**
 * IoT Hub caps a device-to-cloud message at 256 KB (twin documents are far smaller); 64 KB more covers
 * the topic and property bag. aedes has no packet-size limit and its parser (mqtt-packet) buffers the
 * whole announced length, even before CONNECT is authenticated, so a client announcing 256 MB could
 * make the hub hold it. The announced length is known as soon as the fixed header is read: refuse it
 * there, and aedes closes the connection on the parser error.
 */
export const MAX_MQTT_PACKET_BYTES = 320 * 1024;

interface PacketParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(error: Error): void;
}

function refuseOversizePackets(client: Client): void {
  const parser = (client as unknown as { _parser: PacketParser })._parser;
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    const complete = parseLength();
    if (complete && parser.packet.length > MAX_MQTT_PACKET_BYTES) {
      parser._emitError(
        new Error(`packet of ${parser.packet.length} bytes exceeds the ${MAX_MQTT_PACKET_BYTES}-byte limit`),
      );
      return false;
    }
    return complete;
  };
}
