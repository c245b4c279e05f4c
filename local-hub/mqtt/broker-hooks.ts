/**
 * IoT Hub's rules as aedes hooks (aedes style: rules through hooks, each citing the clause it
 * enforces): who may connect (authenticate-connection.ts), which wills it may leave, which filters an
 * identity may hold, what it may publish, and that aedes forwards nothing a device sent to any other
 * connection. Connections the hub ended (revoked, token expired) get nothing accepted any more
 * (connection-registry.ts). The clauses (§…) are sections of docs/iot-hub-behaviour.md.
 */
import type { HubLogger } from '../hub-logger';
import type { DeviceFacingHubState } from '../hub-state';
import { createLogBudget } from '../log-budget';
import type { MethodDispatcher } from '../methods/method-dispatcher';
import {
  type AedesPublishPacket,
  type Client,
  type PublishPacket,
  peerCertificateOf,
  publishTo,
  remoteOf,
  type Subscription,
} from './aedes-boundary';
import { authenticateConnection } from './authenticate-connection';
import type { ConnectionRegistry } from './connection-registry';
import {
  allowedSubscriptions,
  classifyDevicePublish,
  clientIdOf,
  type IdentityRef,
  isHubToDeviceTopic,
  willProblem,
} from './iothub-topics';
import { handleTwinGet, handleTwinPatchReported, type TwinReply } from './twin-requests';

export interface MqttBrokerOptions {
  state: DeviceFacingHubState;
  /** True for `host[:port]` names this hub answers to (user names and SAS `sr` must name it). */
  isOwnHostName(host: string): boolean;
  logger: HubLogger;
  /** Unix seconds; injectable so token expiry can be tested without waiting. */
  now?: () => number;
  /** Direct methods (§8.1): requests go out through the broker, answers come back here. */
  methods?: MethodDispatcher;
}

type AuthError = Error & { returnCode: number };
type Will = { topic: string; qos?: number } | undefined;

export function createHooks(options: MqttBrokerOptions, connections: ConnectionRegistry) {
  const { state, logger } = options;
  // Lines a client causes go through a budget: clients must not decide how much the hub writes (item 10).
  const clientLog = createLogBudget(logger);
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  // aedes hands the CONNECT packet (with its will) only to preConnect; authenticate decides on it.
  const wills = new WeakMap<Client, Will>();
  return {
    clientLog,

    preConnect(client: Client, packet: { will?: Will }, done: (error: Error | null, ok: boolean) => void) {
      wills.set(client, packet.will ?? undefined);
      done(null, true);
    },

    authenticate(
      client: Client,
      username: string | undefined,
      password: Buffer | undefined,
      done: (error: AuthError | null, success: boolean | null) => void,
    ) {
      let credentials = '';
      let result: ReturnType<typeof authenticateConnection>;
      try {
        result = authenticateConnection(
          { clientId: client.id, username, password, peerCertificate: peerCertificateOf(client), now: now() },
          {
            findIdentity: (d, m) => {
              const view = state.findIdentity(d, m);
              credentials = JSON.stringify(view ?? null);
              return view;
            },
            isOwnHostName: options.isOwnHostName,
          },
        );
      } catch (error) {
        // The registry failed (e.g. closing): CONNACK 3 "server unavailable", which the SDK retries (§3.4).
        logger.error('mqtt connect failed: registry unavailable', { clientId: client.id, error });
        return done(Object.assign(new Error('registry unavailable'), { returnCode: 3 }), false);
      }
      if (result.ok) {
        // docs/local-hub-security.md: a will is forwarded as telemetry of the identity; on any other topic it is refused here,
        // not silently dropped later (a will on a twin topic would write the twin as the identity).
        const problem = willProblem(wills.get(client), result.identity);
        if (problem) result = { ok: false, returnCode: 5, reason: problem };
      }
      if (!result.ok) {
        // The reason names the rule, never the password or token (working agreement: redact).
        clientLog.warn('mqtt connect refused', {
          clientId: client.id,
          returnCode: result.returnCode,
          reason: result.reason,
          remote: remoteOf(client),
        });
        return done(Object.assign(new Error(result.reason), { returnCode: result.returnCode }), false);
      }
      connections.admit(client, { identity: result.identity, expiresAt: result.expiresAt, credentials });
      clientLog.info('mqtt connect accepted', {
        clientId: client.id,
        auth: result.method,
        remote: remoteOf(client),
      });
      done(null, true);
    },

    authorizeSubscribe(
      client: Client,
      subscription: Subscription,
      done: (e: Error | null, s?: Subscription | null) => void,
    ) {
      const identity = connections.liveIdentity(client);
      // §3.7: only the documented filters of this identity; anything else is negated (SUBACK 128)
      // rather than an error, so a snooping attempt cannot see other identities' traffic.
      if (!identity || !allowedSubscriptions(identity).includes(subscription.topic)) {
        clientLog.warn('mqtt subscribe refused', { clientId: client.id, topic: subscription.topic });
        return done(null, null);
      }
      recordActivity(state, logger, identity);
      done(null, subscription);
    },

    authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void) {
      // Also the path of a will: a revoked or expired connection's will is refused here (item 4).
      const identity = connections.liveIdentity(client);
      if (!client || !identity) return done(new Error('publish from a connection the hub does not accept'));
      recordActivity(state, logger, identity);
      // §3.2: "publish QoS 2 → connection closed"; cb(err) closes it (§3.7).
      if (packet.qos === 2) return refusePublish(clientLog, client, packet, 'QoS 2 is not supported', done);
      // §3.2: IoT Hub never retains. aedes would store a copy per retained packet (each twin request a
      // new `$rid`, so a new topic) for the life of the broker (item 2).
      packet.retain = false;
      const request = classifyDevicePublish(packet.topic, identity);
      switch (request.kind) {
        case 'twin-get':
          reply(client, logger, handleTwinGet(state, identity, request.rid));
          return done(null);
        case 'twin-patch-reported':
          // Accepted once the patch is committed: the reply, then aedes' PUBACK, come after it.
          return handleTwinPatchReported(state, identity, request.rid, packet.payload as Buffer, (answer) => {
            reply(client, logger, answer);
            done(null);
          });
        case 'telemetry':
          recordTelemetry(state, logger, identity, request.properties, packet);
          return done(null);
        case 'method-response':
          // An answer nobody waits for (late, or not this identity's request) is accepted and dropped.
          if (!options.methods?.respond(identity, request.rid, request.status, packet.payload as Buffer)) {
            clientLog.debug('mqtt method answer matched no request', {
              clientId: client.id,
              rid: request.rid,
            });
          }
          return done(null);
        case 'refused':
          return refusePublish(clientLog, client, packet, request.reason, done);
      }
    },

    /**
     * aedes routes every accepted PUBLISH to matching subscribers. IoT Hub has no device-to-device
     * routing (§0.9), so only packets the hub itself sent (no `clientId`: `client.publish`) on
     * hub-to-device topics are forwarded; telemetry and twin requests stop here after PUBACK.
     */
    authorizeForward(_client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
      const sender = (packet as AedesPublishPacket & { clientId?: string }).clientId;
      return sender === undefined && isHubToDeviceTopic(packet.topic) ? packet : null;
    },
  };
}

function reply(client: Client, logger: HubLogger, twinReply: TwinReply): void {
  // §3.8: a client may send a GET before subscribing to `$iothub/twin/res/#`; the reply is sent to
  // its connection regardless (MQTT clients accept it), never broadcast.
  publishTo(client, logger, twinReply.topic, twinReply.payload);
  logger.debug('mqtt twin reply', { clientId: client.id, status: twinReply.status });
}

function refusePublish(
  logger: HubLogger,
  client: Client,
  packet: PublishPacket,
  reason: string,
  done: (error?: Error | null) => void,
): void {
  logger.warn('mqtt publish refused; closing the connection', {
    clientId: client.id,
    topic: packet.topic,
    reason,
  });
  done(new Error(`publish to ${packet.topic} refused: ${reason}`));
}

function recordTelemetry(
  state: DeviceFacingHubState,
  logger: HubLogger,
  identity: IdentityRef,
  properties: Record<string, string>,
  packet: PublishPacket,
): void {
  try {
    state.recordMessage({
      deviceId: identity.deviceId,
      moduleId: identity.moduleId,
      properties,
      body: Buffer.from(packet.payload),
      receivedAt: new Date().toISOString(),
    });
  } catch (error) {
    logger.warn('mqtt telemetry not recorded', { clientId: clientIdOf(identity), error });
  }
}

export function recordActivity(state: DeviceFacingHubState, logger: HubLogger, identity: IdentityRef): void {
  try {
    state.recordActivity(identity.deviceId, identity.moduleId);
  } catch (error) {
    logger.debug('mqtt activity not recorded', { clientId: clientIdOf(identity), error });
  }
}
