/**
 * One connection of the module to the hub: an azure-iot-device ModuleClient over the SDK's MQTT transport,
 * opened and subscribed in the documented order (docs/iot-hub-behaviour.md §6: connect, subscribe to desired
 * notifications, then GET). Every SDK call is bounded by a timeout, because a twin request whose reply was
 * lost with the connection never calls back (mqtt_twin_client.js keeps it pending forever).
 *
 * The connection reports what the runtime must react to and decides nothing itself: `onLost` means "this
 * client cannot be trusted any more, build a new one"; `onResumed` means "the SDK reconnected by itself
 * and the hub kept our subscriptions, so only a re-GET is needed".
 */

import { Message, ModuleClient, SharedAccessKeyAuthenticationProvider, type Twin } from 'azure-iot-device';
import type { Mqtt } from 'azure-iot-device-mqtt';
import type { JsonObject, JsonValue } from '../lib/json-types';
import { ConnectionClosedError, describeError, TwinRequestError, withTimeout } from './errors';
import type { ConnectionSource } from './runtime-config';
import { type RawMethodRequest, sessionAwareMqtt, type TransportConstructor } from './session-aware-mqtt';

export interface ConnectionOptions {
  source: ConnectionSource;
  /** PEM of an extra CA to trust (docs/iot-hub-behaviour.md §3.6: the SDK's `ca` option). */
  ca?: string;
  timeoutMs: number;
  sasTokenLifetimeSeconds: number;
  sasTokenRenewalMarginSeconds: number;
  /** Direct methods registered with the SDK (`onMethod`); others still reach `onMethodCall` (to be refused). */
  methodNames?: readonly string[];
}

/** A direct-method request, with the one way to answer it (docs/iot-hub-behaviour.md §8.1). */
export interface IncomingMethodCall {
  name: string;
  requestId: string;
  /** The request's JSON payload; `null` when the body was empty or not JSON (an unregistered name). */
  payload: JsonValue;
  /** Publishes the answer; rejects if the connection is gone (the hub then answers the caller 504). */
  respond(status: number, payload: JsonValue): Promise<void>;
}

export interface ConnectionEvents {
  onDesiredPatch(patch: unknown): void;
  /** The SDK reconnected (retry or token renewal) and the hub still had the session. */
  onResumed(): void;
  /** The client is unusable (the SDK gave up, or the hub lost the session); `reason` is redacted. */
  onLost(reason: string): void;
  onWarning(message: string): void;
  /** A direct method was called (registered or not); the runtime must answer it. */
  onMethodCall?(call: IncomingMethodCall): void;
}

export interface TwinSnapshot {
  desired: JsonObject;
  reported: JsonObject;
}

export interface ModuleConnection {
  /** A fresh GET of the whole twin (device-facing shape: desired + reported, each with `$version`). */
  getTwin(): Promise<TwinSnapshot>;
  /** Merge-patches reported properties; resolves once the hub accepted it (204). */
  reportProperties(patch: JsonObject): Promise<void>;
  sendTelemetry(outputName: string, body: JsonObject): Promise<void>;
  /** Closes the client; never rejects (a dead connection closes as well as it can). */
  close(): Promise<void>;
}

export async function openModuleConnection(
  options: ConnectionOptions,
  events: ConnectionEvents,
): Promise<ModuleConnection> {
  let connacks = 0;
  let closed = false;
  let transportInstance: Mqtt | undefined;
  const transport = sessionAwareMqtt({
    onTransport: (instance) => {
      transportInstance = instance;
    },
    onUnhandledMethod: (request, instance) => {
      if (!closed) events.onMethodCall?.(unregisteredCall(request, instance, options.timeoutMs));
    },
    onConnack(sessionPresent) {
      connacks += 1;
      // The first CONNACK belongs to open() below; later ones are the SDK's own reconnects.
      if (closed || connacks === 1) return;
      if (sessionPresent) events.onResumed();
      else events.onLost('the SDK reconnected but the hub no longer had the MQTT session (subscriptions)');
    },
    onDesiredPatch: (patch) => {
      if (!closed) events.onDesiredPatch(patch);
    },
  });
  const client = await createClient(options, transport);
  const { timed, abandon } = boundedOperations(options.timeoutMs);
  const close = async () => {
    closed = true;
    abandon();
    client.removeAllListeners('disconnect');
    await withTimeout('close', options.timeoutMs, client.close()).catch(() => undefined);
  };
  client.on('error', (error: Error) => events.onWarning(`client error: ${describeError(error)}`));
  client.on('disconnect', (error?: Error) => {
    if (!closed) events.onLost(`the SDK stopped reconnecting: ${describeError(error ?? 'disconnected')}`);
  });
  try {
    if (options.ca) await timed('setOptions', client.setOptions({ ca: options.ca }));
    await timed('open', client.open());
    const twin = await timed('getTwin', client.getTwin());
    twin.on('error', (error: Error) => events.onWarning(`twin error: ${describeError(error)}`));
    // A listener is what makes the SDK re-enable desired updates after a retryable disconnect
    // (internal_client.js); patches themselves are taken raw from the transport.
    twin.on('properties.desired', () => undefined);
    await timed('subscribe to desired properties', enableDesiredUpdates(twin));
    if (options.methodNames && options.methodNames.length > 0 && transportInstance) {
      // Subscribed first and awaited, so a method invoked once the runtime says "connected" finds the
      // module online (the hub answers 404 DeviceNotOnline before the SUBACK, §8.1); the SDK's own
      // enable in onMethod then finds the subscription in place.
      await timed('subscribe to direct methods', enableMethods(transportInstance));
      for (const name of options.methodNames) {
        client.onMethod(name, (request, response) => {
          if (closed || !request || !response) return;
          events.onMethodCall?.({
            name: request.methodName,
            requestId: request.requestId,
            payload: (request.payload as JsonValue | undefined) ?? null,
            respond: (status, payload) => timed(`answer to ${name}`, response.send(status, payload)),
          });
        });
      }
    }
    return connectionOver(client, twin, timed, close);
  } catch (error) {
    await close();
    throw error;
  }
}

type Timed = <T>(operation: string, work: Promise<T>) => Promise<T>;

/**
 * Every SDK call gets a timeout, and `abandon()` (on close) settles all calls still waiting at once, so the
 * runner is not held up for a full timeout by a request whose reply died with the old connection.
 */
function boundedOperations(timeoutMs: number): { timed: Timed; abandon: () => void } {
  let abandon: () => void = () => undefined;
  const abandoned = new Promise<never>((_, reject) => {
    abandon = () => reject(new ConnectionClosedError());
  });
  abandoned.catch(() => undefined);
  const timed: Timed = (operation, work) =>
    withTimeout(operation, timeoutMs, Promise.race([work, abandoned]));
  return { timed, abandon };
}

async function createClient(
  options: ConnectionOptions,
  transport: TransportConstructor,
): Promise<ModuleClient> {
  if (options.source.kind === 'edge') return ModuleClient.fromEnvironment(transport);
  const authentication = SharedAccessKeyAuthenticationProvider.fromConnectionString(
    options.source.connectionString,
    options.sasTokenLifetimeSeconds,
    options.sasTokenRenewalMarginSeconds,
  );
  return ModuleClient.fromAuthenticationProvider(authentication, transport);
}

function enableMethods(transport: Mqtt): Promise<void> {
  return new Promise((resolve, reject) => {
    transport.enableMethods((error) => (error ? reject(error) : resolve()));
  });
}

/** A request for a name the SDK has no listener for: parsed and answered through the transport itself. */
function unregisteredCall(request: RawMethodRequest, transport: Mqtt, timeoutMs: number): IncomingMethodCall {
  let payload: JsonValue = null;
  try {
    if (request.body && request.body.length > 0) payload = JSON.parse(request.body.toString('utf8'));
  } catch {
    payload = null;
  }
  const name = request.methods.methodName;
  return {
    name,
    requestId: request.requestId,
    payload,
    respond: (status, answer) =>
      withTimeout(
        `answer to ${name}`,
        timeoutMs,
        new Promise<void>((resolve, reject) =>
          transport.sendMethodResponse(
            { requestId: request.requestId, status, payload: answer } as never,
            (error) => (error ? reject(error) : resolve()),
          ),
        ),
      ),
  };
}

function enableDesiredUpdates(twin: Twin): Promise<void> {
  return new Promise((resolve, reject) => {
    twin.enableTwinDesiredPropertiesUpdates((error) => (error ? reject(error) : resolve()));
  });
}

function connectionOver(
  client: ModuleClient,
  twin: Twin,
  timed: Timed,
  close: () => Promise<void>,
): ModuleConnection {
  return {
    async getTwin() {
      const fresh = await timed('twin GET', twin.get()).catch(rethrowAs('twin GET'));
      const { desired, reported } = fresh.properties;
      // The SDK's cached `reported` carries an `update` function next to the data; JSON drops it.
      return { desired: toJson(desired), reported: toJson(reported) };
    },
    async reportProperties(patch) {
      const update = (
        twin.properties.reported as { update: (p: JsonObject, cb: (e?: Error) => void) => void }
      ).update;
      const sent = new Promise<void>((resolve, reject) =>
        update(patch, (error) => (error ? reject(error) : resolve())),
      );
      await timed('reported PATCH', sent).catch(rethrowAs('reported PATCH'));
    },
    async sendTelemetry(outputName, body) {
      const message = new Message(JSON.stringify(body));
      message.contentType = 'application/json';
      message.contentEncoding = 'utf-8';
      await timed('telemetry send', client.sendOutputEvent(outputName, message));
    },
    close,
  };
}

function toJson(section: unknown): JsonObject {
  return JSON.parse(JSON.stringify(section ?? {})) as JsonObject;
}

/**
 * The SDK turns a twin reply with an `errorCode` body into a plain `Error(message)` (mqtt_twin_client.js);
 * transport failures come as named subclasses (NotConnectedError, ...). Only the former is the hub saying no.
 */
function rethrowAs(operation: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof Error && error.constructor === Error) throw new TwinRequestError(operation, error);
    throw error;
  };
}
