/**
 * IoT Hub's MQTT naming rules: client ids, user names and topics (docs/iot-hub-behaviour.md §3.1, §3.2; Microsoft
 * "Communicate with an IoT hub using MQTT"). Pure functions; the broker hooks decide with them.
 */

export interface IdentityRef {
  deviceId: string;
  moduleId: string | null;
}

/** §3.1: clientId is `<deviceId>` or `<deviceId>/<moduleId>`; neither id may contain `/` (§5 id charset). */
export function parseClientId(clientId: string): IdentityRef | undefined {
  const parts = clientId.split('/');
  if (parts.some((part) => part === '') || parts.length > 2) return undefined;
  return { deviceId: parts[0]!, moduleId: parts[1] ?? null };
}

export function clientIdOf(identity: IdentityRef): string {
  return identity.moduleId === null ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`;
}

export function describeIdentity(identity: IdentityRef): string {
  return identity.moduleId === null
    ? `device ${JSON.stringify(identity.deviceId)}`
    : `module ${JSON.stringify(identity.moduleId)} of device ${JSON.stringify(identity.deviceId)}`;
}

export interface ParsedUsername {
  host: string;
  clientId: string;
  /** The query after `/?` (api-version, DeviceClientType, model-id …), decoded. */
  query: URLSearchParams;
}

/**
 * §3.1: `<HostName>/<clientId>/?api-version=<v>[&…]`. The host may carry a port (one-address hub) and
 * the client id may contain one `/` (modules), so the string is cut at the first `/` and at `/?`.
 */
export function parseUsername(username: string): ParsedUsername | undefined {
  const queryStart = username.indexOf('/?');
  if (queryStart < 0) return undefined;
  const head = username.slice(0, queryStart);
  const slash = head.indexOf('/');
  if (slash <= 0 || slash === head.length - 1) return undefined;
  const query = new URLSearchParams(username.slice(queryStart + 2));
  // docs/iot-hub-behaviour.md §3.1: the api-version parameter is required in the user name; its value is accepted
  // leniently.
  if (!query.get('api-version')) return undefined;
  return { host: head.slice(0, slash), clientId: head.slice(slash + 1), query };
}

/** What a device publishes; anything not listed is refused (§3.2 topic table). */
export type DevicePublish =
  | { kind: 'twin-get'; rid: string }
  | { kind: 'twin-patch-reported'; rid: string }
  | { kind: 'telemetry'; properties: Record<string, string> }
  | { kind: 'method-response'; rid: string; status: number }
  | { kind: 'refused'; reason: string };

const TWIN_GET = '$iothub/twin/GET/';
const TWIN_PATCH_REPORTED = '$iothub/twin/PATCH/properties/reported/';
const METHOD_RESPONSE = '$iothub/methods/res/';

export function eventsTopicPrefix(identity: IdentityRef): string {
  return identity.moduleId === null
    ? `devices/${identity.deviceId}/messages/events`
    : `devices/${identity.deviceId}/modules/${identity.moduleId}/messages/events`;
}

/** Classifies a PUBLISH from `identity`; telemetry is only accepted on the identity's own topic. */
export function classifyDevicePublish(topic: string, identity: IdentityRef): DevicePublish {
  for (const [prefix, kind] of [
    [TWIN_GET, 'twin-get'],
    [TWIN_PATCH_REPORTED, 'twin-patch-reported'],
  ] as const) {
    if (!topic.startsWith(prefix)) continue;
    const rid = requestId(topic.slice(prefix.length));
    if (rid === undefined) return { kind: 'refused', reason: `${prefix}?$rid=<request id> needs a $rid` };
    return { kind, rid };
  }
  if (topic.startsWith(METHOD_RESPONSE)) return classifyMethodResponse(topic.slice(METHOD_RESPONSE.length));
  const events = eventsTopicPrefix(identity);
  if (topic === events) return { kind: 'telemetry', properties: {} };
  if (topic.startsWith(`${events}/`)) {
    return { kind: 'telemetry', properties: decodePropertyBag(topic.slice(events.length + 1)) };
  }
  return { kind: 'refused', reason: 'topic is not one this identity may publish to' };
}

/** §8.1: `$iothub/methods/res/{status}/?$rid={rid}`, the status being the device's own (an integer). */
function classifyMethodResponse(rest: string): DevicePublish {
  const slash = rest.indexOf('/');
  const status = slash > 0 ? rest.slice(0, slash) : '';
  const rid = slash > 0 ? requestId(rest.slice(slash + 1)) : undefined;
  if (!/^-?\d{1,9}$/.test(status) || rid === undefined) {
    return {
      kind: 'refused',
      reason: `${METHOD_RESPONSE}<status>/?$rid=<request id> needs an integer status and a $rid`,
    };
  }
  return { kind: 'method-response', rid, status: Number(status) };
}

/**
 * docs/local-hub-security.md (Microsoft's MQTT guide): a device may give a will on its own telemetry topic
 * (`devices/<d>/messages/events/[<property bag>]`), which IoT Hub sends as telemetry when the
 * connection drops without DISCONNECT. A will on any other topic is refused at CONNECT: on a twin topic
 * it would write the twin as the identity after the connection is gone (issue #10 item 4).
 */
export function willProblem(
  will: { topic: string; qos?: number } | undefined,
  identity: IdentityRef,
): string | undefined {
  if (!will) return undefined;
  if ((will.qos ?? 0) > 1) return 'a will with QoS 2 is not supported (IoT Hub has no QoS 2)';
  if (classifyDevicePublish(will.topic, identity).kind === 'telemetry') return undefined;
  return `a will may only be sent to the identity's own telemetry topic ${eventsTopicPrefix(identity)}/`;
}

/** `?$rid=<id>[&…]` → id. The reply must echo it unchanged (§3.2 response topic). */
function requestId(rest: string): string | undefined {
  if (!rest.startsWith('?')) return undefined;
  const rid = new URLSearchParams(rest.slice(1)).get('$rid');
  return rid ? rid : undefined;
}

/**
 * The URL-encoded `k=v&k2=v2` property bag after `messages/events/` (system properties such as
 * `$.on`, `$.mid`, `$.ct` arrive as `%24.on=…`). Undecodable pairs are kept verbatim rather than
 * dropping the message: the body is what matters and the SDK encodes with encodeURIComponent anyway.
 */
export function decodePropertyBag(bag: string): Record<string, string> {
  const properties: Record<string, string> = {};
  // The device SDK ends the bag with a '/' (`…&%24.on=telemetry/`); it is a separator, not a value.
  for (const pair of bag.replace(/\/$/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    // defineProperty: a key named "__proto__" must stay an ordinary property.
    Object.defineProperty(properties, safeDecode(rawKey), {
      value: safeDecode(rawValue),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return properties;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** §3.2 subscribe column: the only filters an identity may hold, each exactly as the SDK sends it. */
export function allowedSubscriptions(identity: IdentityRef): readonly string[] {
  const messageFilter =
    identity.moduleId === null
      ? `devices/${identity.deviceId}/messages/devicebound/#`
      : `devices/${identity.deviceId}/modules/${identity.moduleId}/inputs/#`;
  return ['$iothub/twin/res/#', DESIRED_PATCH_FILTER, METHOD_REQUEST_FILTER, messageFilter];
}

export const DESIRED_PATCH_FILTER = '$iothub/twin/PATCH/properties/desired/#';
/** §8.1: what a device subscribes to before it can be sent a direct method. */
export const METHOD_REQUEST_FILTER = '$iothub/methods/POST/#';

/** `$iothub/methods/POST/{name}/?$rid={rid}` (§8.1). */
export function methodRequestTopic(methodName: string, rid: string): string {
  return `$iothub/methods/POST/${methodName}/?$rid=${encodeURIComponent(rid)}`;
}

/** `$iothub/twin/res/<status>/?$rid=<rid>[&$version=<v>]` (§3.2, §3.3). */
export function twinResponseTopic(status: number, rid: string, version?: number): string {
  const versionPart = version === undefined ? '' : `&$version=${version}`;
  return `$iothub/twin/res/${status}/?$rid=${encodeURIComponent(rid)}${versionPart}`;
}

/** `$iothub/twin/PATCH/properties/desired/?$version=<v>` (§3.3). */
export function desiredPatchTopic(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
}

/** Topics only the hub publishes to a connection; aedes may forward nothing else (§0.9). */
export function isHubToDeviceTopic(topic: string): boolean {
  return (
    topic.startsWith('$iothub/twin/res/') ||
    topic.startsWith('$iothub/twin/PATCH/properties/desired/') ||
    topic.startsWith('$iothub/methods/POST/')
  );
}
