/**
 * `POST /twins/{deviceId}[/modules/{moduleId}]/methods` (docs/iot-hub-behaviour.md §8.1): the right is
 * ServiceConnect, the throttle IoT Hub's direct-method quota metered in 8 KB (§8.1). The answer is
 * `{"status": <the device's status>, "payload": <its JSON>}` with HTTP 200; an unknown identity is
 * 404 DeviceNotFound / ModuleNotFound at once, an offline one 404 DeviceNotOnline after the connect
 * timeout, a silent one 504 GatewayTimeout after the response timeout (method-dispatcher.ts).
 */
import { hubErrors } from '../errors';
import { parseMethodRequest } from '../methods/method-request';
import { unwrap } from '../store/store-context';
import { METHOD_METER_KB } from '../throttle/throttle-quotas';
import type { Route, RouteCall, RouteResult } from './routes';

export function methodRoutes(): Route[] {
  const base = {
    method: 'POST',
    access: 'serviceConnect',
    throttle: 'directMethod',
    hasBody: true,
    cost: methodCost,
    handle: invokeMethod,
  } as const;
  return [
    { ...base, pattern: ['twins', ':deviceId', 'methods'] },
    { ...base, pattern: ['twins', ':deviceId', 'modules', ':moduleId', 'methods'] },
  ];
}

async function invokeMethod(call: RouteCall): Promise<RouteResult> {
  const request = unwrap(parseMethodRequest(call.body));
  const deviceId = call.params['deviceId']!;
  const moduleId = call.params['moduleId'] ?? null;
  if (!call.state.findIdentity(deviceId, null)) throw hubErrors.deviceNotFound(deviceId);
  if (moduleId !== null && !call.state.findIdentity(deviceId, moduleId)) {
    throw hubErrors.moduleNotFound(deviceId, moduleId);
  }
  const result = await call.methods.invoke({ deviceId, moduleId }, request);
  return { status: 200, body: result };
}

/** One operation per started 8 KB of payload (§8.1 "metered in 8 KB"). */
function methodCost(body: unknown): number {
  const payload = typeof body === 'object' && body !== null ? (body as { payload?: unknown }).payload : null;
  const bytes = Buffer.byteLength(JSON.stringify(payload ?? null) ?? 'null');
  return Math.max(1, Math.ceil(bytes / (METHOD_METER_KB * 1024)));
}
