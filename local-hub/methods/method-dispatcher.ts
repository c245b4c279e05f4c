/**
 * Direct methods between the service API and device-facing transports (docs/iot-hub-behaviour.md §8.1).
 * An invocation is delivered to the identity's one connection when it is connected and subscribed to
 * method requests; otherwise it waits up to `connectTimeoutInSeconds` for that to happen, then fails
 * 404 DeviceNotOnline. Once delivered, the identity has `responseTimeoutInSeconds` to answer with the
 * same `$rid`, else 504 GatewayTimeout. Only the identity a request went to can answer it (request
 * ids are not secrets a device could not guess: an answer is matched by identity and id).
 * Transport-neutral: MQTT (and MQTT over WebSockets, the same broker) plugs in with `attach`.
 */
import type { JsonValue } from '../../lib/json-types';
import { HubError, hubErrors } from '../errors';
import type { HubLogger } from '../hub-logger';
import type { MethodRequest } from './method-request';

export interface MethodTarget {
  deviceId: string;
  moduleId: string | null;
}

/** What the service receives: the device's status and its JSON payload (`null` when it sent none). */
export interface MethodResult {
  status: number;
  payload: JsonValue;
}

export interface MethodTransport {
  /** Sends the request if the identity is connected and subscribed to methods; false otherwise. */
  deliver(target: MethodTarget, methodName: string, rid: string, body: string): boolean;
}

interface Call {
  target: MethodTarget;
  request: MethodRequest;
  rid: string;
  resolve(result: MethodResult): void;
  reject(error: HubError): void;
  timer: NodeJS.Timeout | undefined;
}

const keyOf = (t: MethodTarget) => `${t.deviceId}\u0000${t.moduleId ?? ''}`;
const describe = (t: MethodTarget) =>
  t.moduleId === null
    ? `device ${JSON.stringify(t.deviceId)}`
    : `module ${JSON.stringify(t.moduleId)} of device ${JSON.stringify(t.deviceId)}`;

export class MethodDispatcher {
  private transport: MethodTransport | undefined;
  /** Delivered, awaiting the answer: by request id. */
  private readonly delivered = new Map<string, Call>();
  /** Not yet deliverable, awaiting a connection: by identity. */
  private readonly waiting = new Map<string, Set<Call>>();
  private lastRid = 0;

  constructor(private readonly logger: HubLogger) {}

  attach(transport: MethodTransport): () => void {
    this.transport = transport;
    return () => {
      if (this.transport === transport) this.transport = undefined;
    };
  }

  invoke(target: MethodTarget, request: MethodRequest): Promise<MethodResult> {
    return new Promise<MethodResult>((resolve, reject) => {
      // IoT Hub's request ids are hexadecimal (§8.1); a counter keeps them unique in this hub.
      this.lastRid += 1;
      const call: Call = {
        target,
        request,
        rid: this.lastRid.toString(16),
        resolve,
        reject,
        timer: undefined,
      };
      if (this.tryDeliver(call)) return;
      if (request.connectTimeoutSeconds === 0) return reject(notOnline(target));
      this.wait(call);
    });
  }

  /** The identity connected or subscribed to methods: deliver what waits for it. */
  identityAvailable(target: MethodTarget): void {
    const calls = this.waiting.get(keyOf(target));
    if (!calls) return;
    for (const call of [...calls]) {
      const connectTimer = call.timer;
      // Delivery replaces the call's timer with the response timer.
      if (!this.tryDeliver(call)) return;
      clearTimeout(connectTimer);
      calls.delete(call);
    }
    if (calls.size === 0) this.waiting.delete(keyOf(target));
  }

  /**
   * An answer from `from`. False when no delivered request of that identity has this id (a late
   * answer after the timeout, or another identity's guess): it is ignored.
   */
  respond(from: MethodTarget, rid: string, status: number, body: Buffer): boolean {
    const call = this.delivered.get(rid);
    if (!call || keyOf(call.target) !== keyOf(from)) return false;
    this.delivered.delete(rid);
    clearTimeout(call.timer);
    const text = body.toString('utf8');
    try {
      call.resolve({ status, payload: text.trim() === '' ? null : (JSON.parse(text) as JsonValue) });
    } catch {
      call.reject(badResponse(call.target));
    }
    return true;
  }

  /** Fails everything in flight (the hub is closing). */
  close(): void {
    const error = hubErrors.serviceUnavailable('the local hub is shutting down');
    for (const call of this.delivered.values()) this.fail(call, error);
    for (const calls of this.waiting.values()) for (const call of calls) this.fail(call, error);
    this.delivered.clear();
    this.waiting.clear();
  }

  private tryDeliver(call: Call): boolean {
    const body = JSON.stringify(call.request.payload);
    if (!this.transport?.deliver(call.target, call.request.methodName, call.rid, body)) return false;
    this.delivered.set(call.rid, call);
    call.timer = setTimeout(() => {
      this.delivered.delete(call.rid);
      this.logger.debug('direct method timed out', { method: call.request.methodName, rid: call.rid });
      call.reject(
        hubErrors.gatewayTimeout(
          `${describe(call.target)} did not answer method ${JSON.stringify(call.request.methodName)} within ${call.request.responseTimeoutSeconds} s (responseTimeoutInSeconds)`,
        ),
      );
    }, call.request.responseTimeoutSeconds * 1000);
    return true;
  }

  private wait(call: Call): void {
    const key = keyOf(call.target);
    const calls = this.waiting.get(key) ?? new Set<Call>();
    calls.add(call);
    this.waiting.set(key, calls);
    call.timer = setTimeout(() => {
      calls.delete(call);
      if (calls.size === 0 && this.waiting.get(key) === calls) this.waiting.delete(key);
      call.reject(notOnline(call.target));
    }, call.request.connectTimeoutSeconds * 1000);
  }

  private fail(call: Call, error: HubError): void {
    clearTimeout(call.timer);
    call.reject(error);
  }
}

function notOnline(target: MethodTarget): HubError {
  return hubErrors.deviceNotOnline(
    `${describe(target)} is not connected with a subscription to direct methods ($iothub/methods/POST/#) (connectTimeoutInSeconds elapsed)`,
  );
}

/** The answer's body is not JSON: the local hub's choice, not a documented IoT Hub code (§7). */
function badResponse(target: MethodTarget): HubError {
  return new HubError(
    502,
    'BadDeviceResponse',
    502000,
    `${describe(target)} answered with a body that is not JSON`,
  );
}
