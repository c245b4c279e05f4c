/**
 * The SDK's own MQTT transport, built through its documented constructor hooks (`new Mqtt(auth, mqttBase)`,
 * `new MqttBase(mqttProvider)`) so the runtime learns two things the SDK does not surface:
 *
 * - each CONNACK's `sessionPresent`. The SDK remembers "subscribed" per topic forever (its topic state
 *   machine is never reset on disconnect, mqtt_twin_client.js) and reconnects with clean=false, trusting
 *   the hub to restore the session. When the hub restarted and lost it, the SDK reconnects without
 *   re-subscribing: twin replies still arrive, desired patches never do (docs/iot-hub-behaviour.md §0.8, §3.4). Seeing
 *   `sessionPresent: false` on a reconnect is the only reliable signal to rebuild the client.
 * - raw desired patches, as the transport emits them (`twinDesiredPropertiesUpdate`), before the SDK merges
 *   them into its cache and loses the distinction between a patch and a GET result (twin.js).
 *
 * - direct-method requests nobody registered a handler for. The transport emits `method_<name>` for every
 *   request (its documented event), and the SDK only listens to names passed to `onMethod`, so an unknown
 *   name would go unanswered and the caller would wait for the hub's 504. Those reach `onUnhandledMethod`,
 *   which answers them (501, device-runtime/method-handlers.ts).
 *
 * MqttBase and mqtt.js are loaded from the SDK's own resolution so they are exactly the copies it uses.
 */
import { createRequire } from 'node:module';
import { Mqtt } from 'azure-iot-device-mqtt';

/** Declared by azure-iot-common, which this project does not depend on directly. */
type AuthenticationProvider = ConstructorParameters<typeof Mqtt>[0];

export interface TransportObserver {
  /** Every CONNACK of every MQTT connection this transport makes (first connect, retries, token renewals). */
  onConnack(sessionPresent: boolean): void;
  /** A desired-properties notification, parsed, with its `$version`. */
  onDesiredPatch(patch: unknown): void;
  /** The transport instance, once built by the SDK client (to await its method subscription). */
  onTransport?(transport: Mqtt): void;
  /** A method request no `onMethod` listener takes; answer it through `transport.sendMethodResponse`. */
  onUnhandledMethod?(request: RawMethodRequest, transport: Mqtt): void;
}

/** The transport's `method_<name>` event argument (azure-iot-device-mqtt's MethodMessage). */
export interface RawMethodRequest {
  methods: { methodName: string };
  requestId: string;
  body?: Buffer;
}

interface MqttConnectProvider {
  connect(
    uri: string,
    options: unknown,
  ): { on(event: 'connect', listener: (connack: unknown) => void): unknown };
}

const sdkRequire = createRequire(require.resolve('azure-iot-device-mqtt'));
const { MqttBase } = sdkRequire('azure-iot-mqtt-base') as {
  MqttBase: new (provider: MqttConnectProvider) => unknown;
};
const mqttJs = createRequire(sdkRequire.resolve('azure-iot-mqtt-base'))('mqtt') as MqttConnectProvider;

/** A transport constructor for `ModuleClient.fromAuthenticationProvider` / `fromEnvironment`. */
export type TransportConstructor = new (authenticationProvider: AuthenticationProvider) => Mqtt;

export function sessionAwareMqtt(observer: TransportObserver): TransportConstructor {
  const provider: MqttConnectProvider = {
    connect(uri, options) {
      const client = mqttJs.connect(uri, options);
      client.on('connect', (connack) => {
        observer.onConnack((connack as { sessionPresent?: boolean } | undefined)?.sessionPresent === true);
      });
      return client;
    },
  };
  return class SessionAwareMqtt extends Mqtt {
    constructor(authenticationProvider: AuthenticationProvider) {
      super(authenticationProvider, new MqttBase(provider));
      this.on('twinDesiredPropertiesUpdate', (patch: unknown) => observer.onDesiredPatch(patch));
      observer.onTransport?.(this);
    }

    override emit(event: string | symbol, ...args: any[]): boolean {
      if (typeof event === 'string' && event.startsWith('method_') && this.listenerCount(event) === 0) {
        if (!observer.onUnhandledMethod) return false;
        observer.onUnhandledMethod(args[0] as RawMethodRequest, this);
        return true;
      }
      return super.emit(event, ...args);
    }
  };
}
