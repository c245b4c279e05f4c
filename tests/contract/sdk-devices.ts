/**
 * Helpers for contract tests that drive the local hub with the official device SDK (azure-iot-device
 * with the Mqtt or MqttWs transport): open a device or module client trusting the hub's CA, register
 * a direct-method handler and wait until it is subscribed, close everything at the end.
 */
import {
  Client as DeviceClient,
  type DeviceMethodRequest,
  type DeviceMethodResponse,
  ModuleClient,
  SharedAccessKeyAuthenticationProvider,
} from 'azure-iot-device';
import { Mqtt, type MqttWs } from 'azure-iot-device-mqtt';
import { within } from '../support/runtime-wait';

export type SdkClient = DeviceClient | ModuleClient;
export type Transport = typeof Mqtt | typeof MqttWs;

export interface MethodCall {
  name: string;
  requestId: string;
  payload: unknown;
  /** Answers the call later (for handlers that return nothing at first). */
  send(status: number, payload: unknown): Promise<void>;
}

/** Short token lifetimes make the SDK renew its SAS token (a reconnect) every few seconds. */
export interface TokenRenewal {
  lifetimeSeconds: number;
  marginSeconds: number;
}

/** A client from a device or module connection string, opened, trusting `ca`. */
export async function openSdkClient(
  connectionString: string,
  ca: string,
  transport: Transport = Mqtt,
  renewal?: TokenRenewal,
): Promise<SdkClient> {
  const auth = SharedAccessKeyAuthenticationProvider.fromConnectionString(
    connectionString,
    renewal?.lifetimeSeconds,
    renewal?.marginSeconds,
  );
  const client = /;ModuleId=/.test(connectionString)
    ? ModuleClient.fromAuthenticationProvider(auth, transport)
    : DeviceClient.fromAuthenticationProvider(auth, transport);
  await within('setOptions({ ca })', client.setOptions({ ca } as any));
  await within('the device client to open', client.open());
  return client;
}

/**
 * Resolves when the client has renewed its SAS token: the SDK's MQTT layer reconnected with a new one
 * (docs/iot-hub-behaviour.md §3.4). Observed by wrapping that one call of the transport's MQTT layer, once; the SDK is unchanged.
 */
export function nextRenewal(client: SdkClient): Promise<void> {
  type Done = (error?: Error) => void;
  const base = (client as unknown as { _transport: { _mqtt: Record<string, unknown> } })._transport._mqtt;
  const original = base['updateSharedAccessSignature'] as (sas: string, done: Done) => void;
  const renewed = new Promise<void>((resolve, reject) => {
    base['updateSharedAccessSignature'] = (sas: string, done: Done) => {
      base['updateSharedAccessSignature'] = original;
      original.call(base, sas, (error?: Error) => {
        done(error);
        if (error) reject(error);
        else resolve();
      });
    };
  });
  return within('a SAS token renewal (a reconnect with the new token)', renewed);
}

/**
 * Registers `answer` for method `name` and resolves once the SDK's subscription to method requests has
 * been granted (the SDK subscribes on the first `onDeviceMethod`, asynchronously; a method invoked
 * before the SUBACK would find the device "not online"). `calls` records every request received.
 */
export async function handleMethod(
  client: SdkClient,
  name: string,
  answer: (call: MethodCall) => { status: number; payload?: unknown } | undefined,
  calls: MethodCall[] = [],
): Promise<MethodCall[]> {
  const register =
    client instanceof ModuleClient ? client.onMethod.bind(client) : client.onDeviceMethod.bind(client);
  register(name, (request?: DeviceMethodRequest, response?: DeviceMethodResponse) => {
    if (!request || !response) return;
    const call: MethodCall = {
      name: request.methodName,
      requestId: request.requestId,
      payload: request.payload,
      send: (status, payload) =>
        within(
          `the answer to ${request.methodName}`,
          new Promise<void>((resolve, reject) =>
            response.send(status, payload, (error?: Error) => (error ? reject(error) : resolve())),
          ),
        ),
    };
    calls.push(call);
    const reply = answer(call);
    if (reply) void call.send(reply.status, reply.payload ?? null).catch(() => undefined);
  });
  const subscribed = new Promise<void>((resolve, reject) => {
    // The transport emits nothing on SUBACK; its enableMethods callback is the only signal.
    const transport = (client as unknown as { _transport: { enableMethods(cb: (e?: Error) => void): void } })
      ._transport;
    transport.enableMethods((error) => (error ? reject(error) : resolve()));
  });
  await within(`the subscription to method ${name}`, subscribed);
  return calls;
}

/** Sends an answer for any request id through the SDK's own transport (what a forger could do). */
export function sendRawMethodAnswer(client: SdkClient, requestId: string, status: number, payload: unknown) {
  const transport = (
    client as unknown as { _transport: { sendMethodResponse(r: object, cb: (e?: Error) => void): void } }
  )._transport;
  return within(
    'a raw method answer',
    new Promise<void>((resolve, reject) =>
      transport.sendMethodResponse({ requestId, status, payload }, (error?: Error) =>
        error ? reject(error) : resolve(),
      ),
    ),
  );
}

export async function closeAll(clients: SdkClient[]): Promise<void> {
  await Promise.all(clients.map((c) => within('a device client to close', c.close()).catch(() => undefined)));
}
