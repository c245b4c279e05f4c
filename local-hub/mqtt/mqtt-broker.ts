/**
 * The hub's MQTT endpoint: an aedes broker whose hooks enforce IoT Hub's rules (docs/architecture.md: "aedes
 * is the broker; IoT Hub rules plug in through its hooks"). IoT Hub topics are per connection, so
 * nothing a device publishes is routed to other devices, and every hub reply or desired patch goes to
 * exactly one connection with `client.publish` (docs/iothub-facts.md §0.9, §3.7). The hooks live in
 * broker-hooks.ts; this file owns the broker's lifetime and the hub-initiated traffic.
 */
import type { Duplex } from 'node:stream';
import type { HubLogger } from '../hub-logger';
import type { DesiredChange, IdentityRevoked } from '../hub-state';
import { type Aedes, type Client, clientsOf, publishTo, subscriptionsOf } from './aedes-boundary';
import { createHooks, type MqttBrokerOptions, recordActivity } from './broker-hooks';
import { clientIdOf, DESIRED_PATCH_FILTER, desiredPatchTopic, type IdentityRef } from './iothub-topics';

export type { MqttBrokerOptions } from './broker-hooks';

export interface MqttBroker {
  /** Takes over a connection whose first byte is MQTT CONNECT (from the TLS dispatcher). */
  handle(connection: Duplex): void;
  /** Ends every MQTT connection and the broker; resolves when all are closed. */
  close(): Promise<void>;
}

export async function createMqttBroker(options: MqttBrokerOptions): Promise<MqttBroker> {
  const { Aedes: AedesClass } = await import('aedes');
  const identities = new WeakMap<Client, IdentityRef>();
  const hooks = createHooks(options, identities);
  const broker: Aedes = await AedesClass.createBroker({
    ...hooks,
    // IoT Hub client ids are `<deviceId>/<moduleId>` (up to 257 chars); the 23-char limit is MQTT 3.1.0's.
    maxClientsIdLength: 257,
  });
  watchConnections(broker, options, identities);
  const stopDesired = options.state.onDesiredChange((change) =>
    pushDesiredChange(broker, options.logger, change),
  );
  const stopRevoked = options.state.onIdentityRevoked((event) => dropRevoked(broker, options.logger, event));

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
        broker.close(() => resolve());
      });
      return closed;
    },
  };
}

function watchConnections(
  broker: Aedes,
  options: MqttBrokerOptions,
  identities: WeakMap<Client, IdentityRef>,
): void {
  const { state, logger } = options;
  const setConnected = (client: Client, connected: boolean) => {
    const identity = identities.get(client);
    if (!identity) return;
    try {
      state.setConnectionState(identity.deviceId, identity.moduleId, connected);
    } catch (error) {
      // The identity may have been deleted while connected: nothing left to mark.
      logger.debug('mqtt connection state not recorded', { clientId: client.id, error });
    }
  };
  // aedes closes an older connection with the same client id before registering the new one, so
  // the old 'clientDisconnect' always precedes the new 'clientReady' (§3.2: one connection per identity).
  broker.on('clientReady', (client) => setConnected(client, true));
  broker.on('clientDisconnect', (client) => {
    setConnected(client, false);
    logger.info('mqtt disconnected', { clientId: client.id });
  });
  broker.on('ping', (_packet, client) => {
    const identity = identities.get(client);
    if (identity) recordActivity(state, logger, identity);
  });
  broker.on('clientError', (client, error) => {
    logger.debug('mqtt client error', { clientId: client.id, error: error.message });
  });
  broker.on('connectionError', (_client, error) => {
    logger.debug('mqtt connection error', { error: error.message });
  });
}

/** §3.3, §6: a desired change reaches the identity's one connection, if connected and subscribed. */
function pushDesiredChange(broker: Aedes, logger: HubLogger, change: DesiredChange): void {
  const client = clientsOf(broker)[clientIdOf(change)];
  if (!client?.connected || !subscriptionsOf(client)[DESIRED_PATCH_FILTER]) return;
  publishTo(client, logger, desiredPatchTopic(change.patch.$version), JSON.stringify(change.patch));
  logger.debug('mqtt desired patch sent', { clientId: client.id, version: change.patch.$version });
}

/**
 * A deleted or disabled device takes its modules' connections with it (docs/iothub-facts.md §2: modules
 * inherit the device's status, and are deleted with it); new device keys only affect the device's own
 * connection.
 */
function dropRevoked(broker: Aedes, logger: HubLogger, event: IdentityRevoked): void {
  const clients = clientsOf(broker);
  const exact = clientIdOf(event);
  for (const id of Object.keys(clients)) {
    const wholeDevice = event.moduleId === null && event.reason !== 'credentialsChanged';
    const affected = id === exact || (wholeDevice && id.startsWith(`${event.deviceId}/`));
    if (!affected) continue;
    logger.info('mqtt connection closed: identity revoked', { clientId: id, reason: event.reason });
    clients[id]?.close();
  }
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
