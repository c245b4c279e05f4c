/**
 * The web view's JSON endpoints (docs/local-hub-web-view.md), served through the REST pipeline like every
 * service route: api-version, a policy SAS token verified on every request (expiry included), the legacy
 * error shape. They compose what a page needs in one call and apply the pure rules of lib/ on the hub, so
 * the browser script stays a renderer. They never return a key: the page asks the registry routes
 * (`GET /devices/...`, RegistryRead) only when the user reveals one.
 */
import type { JsonObject } from '../../lib/json-types';
import { desiredAckStatuses } from '../../lib/twin-ack-status';
import type { Route, RouteCall, RouteResult } from '../rest/routes';
import type { DeviceIdentity, HubState, ModuleIdentity } from '../store';

export const WEB_VIEW_API = ['local-hub', 'view', 'api'] as const;

export function webViewRoutes(): Route[] {
  const twin = {
    method: 'GET',
    // Reading a twin needs ServiceConnect, as `GET /twins/...` does.
    access: 'serviceConnect',
    hasBody: false,
    handle: twinPage,
  } as const;
  return [
    {
      method: 'GET',
      pattern: [...WEB_VIEW_API, 'identities'],
      // What a twin query already shows (ids, status, connection state): any read right, as for queries.
      access: 'query',
      hasBody: false,
      handle: ({ state }) => ({ status: 200, body: { devices: identities(state) } }),
    },
    { ...twin, pattern: [...WEB_VIEW_API, 'twins', ':deviceId'] },
    { ...twin, pattern: [...WEB_VIEW_API, 'twins', ':deviceId', 'modules', ':moduleId'] },
  ];
}

interface AckCounts {
  acknowledged: number;
  pending: number;
  rejected: number;
}

function identities(state: HubState) {
  return state.listDevices().map((device) => ({
    ...identitySummary(state, device),
    status: device.status,
    statusReason: device.statusReason,
    modules: state.listModules(device.deviceId).map((module) => identitySummary(state, module)),
  }));
}

function identitySummary(state: HubState, identity: DeviceIdentity | ModuleIdentity) {
  const moduleId = 'moduleId' in identity ? identity.moduleId : null;
  const twin = state.getTwin(identity.deviceId, moduleId);
  const counts: AckCounts = { acknowledged: 0, pending: 0, rejected: 0 };
  for (const row of desiredAckStatuses(twin.properties.desired, twin.properties.reported)) {
    counts[row.status] += 1;
  }
  return {
    deviceId: identity.deviceId,
    ...(moduleId === null ? {} : { moduleId }),
    connectionState: identity.connectionState,
    connectionStateUpdatedTime: identity.connectionStateUpdatedTime,
    lastActivityTime: identity.lastActivityTime,
    authenticationType: identity.authentication.type,
    acks: counts,
    recentMessages: state.recentMessages(identity.deviceId, moduleId).length,
  };
}

function twinPage({ state, params }: RouteCall): RouteResult {
  const deviceId = params['deviceId']!;
  const moduleId = params['moduleId'] ?? null;
  const twin = state.getTwin(deviceId, moduleId);
  const { desired, reported } = twin.properties;
  return {
    status: 200,
    body: {
      deviceId,
      ...(moduleId === null ? {} : { moduleId }),
      status: twin.status,
      connectionState: twin.connectionState,
      lastActivityTime: twin.lastActivityTime,
      authenticationType: twin.authenticationType,
      etag: twin.etag,
      version: twin.version,
      tags: twin.tags ?? {},
      desired: withoutMetadata(desired),
      reported: withoutMetadata(reported),
      acks: desiredAckStatuses(desired, reported),
    },
  };
}

/** `$metadata` doubles the document with timestamps; the page shows values and `$version`. */
function withoutMetadata(section: JsonObject): JsonObject {
  const shown: JsonObject = {};
  for (const [key, value] of Object.entries(section)) {
    if (key === '$metadata') continue;
    // defineProperty: a property named "__proto__" stays an ordinary key.
    Object.defineProperty(shown, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return shown;
}
