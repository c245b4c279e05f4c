/**
 * Direct methods over MQTT (docs/iot-hub-behaviour.md §8.1): the broker is the MethodDispatcher's transport.
 * A request goes to the identity's one connection, and only when it holds a subscription to
 * `$iothub/methods/POST/#` (IoT Hub answers DeviceNotOnline for a device that "isn't online or hasn't
 * registered the direct method callback"). A connection that becomes ready with that subscription (a
 * restored session after a token renewal) or subscribes to it later gets what waited for it.
 */
import type { HubLogger } from '../hub-logger';
import type { MethodDispatcher } from '../methods/method-dispatcher';
import { type Aedes, type Client, clientsOf, publishTo, subscriptionsOf } from './aedes-boundary';
import type { ConnectionRegistry } from './connection-registry';
import { clientIdOf, METHOD_REQUEST_FILTER, methodRequestTopic } from './iothub-topics';

export function connectMethodDelivery(
  broker: Aedes,
  methods: MethodDispatcher,
  connections: ConnectionRegistry,
  logger: HubLogger,
): () => void {
  const subscribed = (client: Client | undefined): client is Client =>
    client?.connected === true &&
    connections.liveIdentity(client) !== undefined &&
    Boolean(subscriptionsOf(client)[METHOD_REQUEST_FILTER]);

  const detach = methods.attach({
    deliver: (target, methodName, rid, body) => {
      const client = clientsOf(broker)[clientIdOf(target)];
      if (!subscribed(client)) return false;
      publishTo(client, logger, methodRequestTopic(methodName, rid), body);
      logger.debug('mqtt method request sent', { clientId: client.id, method: methodName, rid });
      return true;
    },
  });
  const available = (client: Client) => {
    const identity = connections.liveIdentity(client);
    if (identity && subscribed(client)) methods.identityAvailable(identity);
  };
  const onSubscribe = (subscriptions: { topic: string }[], client: Client) => {
    if (subscriptions.some((s) => s.topic === METHOD_REQUEST_FILTER)) available(client);
  };
  broker.on('clientReady', available);
  broker.on('subscribe', onSubscribe);
  return () => {
    detach();
    broker.off('clientReady', available);
    broker.off('subscribe', onSubscribe);
  };
}
