/**
 * The hub's domain errors and the one factory that renders them on the wire.
 *
 * The store and the REST pipeline throw `HubError`s (never HTTP responses); `writeHubErrorResponse`
 * is the only place that knows the wire shape. docs/iot-hub-behaviour.md §0.2 / §1.4: the Node service SDK only
 * understands the *legacy* body `{"Message":"ErrorCode:<Name>;<text>","ExceptionMessage":"..."}`
 * (it splits `Message` on ';'), plus the `iothub-errorcode` header that the .NET SDK reads.
 * Numeric codes (docs/iot-hub-behaviour.md §1.4 table) are what device-facing transports put in
 * `{"errorCode":400004,"message":"..."}` MQTT twin responses (§3.3).
 */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';

export class HubError extends Error {
  override readonly name = 'HubError';

  constructor(
    /** HTTP status. */
    readonly status: number,
    /** IoT Hub error code name, e.g. `DeviceNotFound`. */
    readonly code: string,
    /** IoT Hub numeric error code, e.g. 404001. */
    readonly numericCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function isHubError(e: unknown): e is HubError {
  return e instanceof HubError;
}

const make = (status: number, code: string, numericCode: number) => (message: string) =>
  new HubError(status, code, numericCode, message);

const argumentInvalid = make(400, 'ArgumentInvalid', 400004);
const formatError = make(400, 'IotHubFormatError', 400006);
const unauthorized = make(401, 'IotHubUnauthorizedAccess', 401002);
const deviceNotFound = make(404, 'DeviceNotFound', 404001);
const moduleNotFound = make(404, 'ModuleNotFound', 404010);
// Direct methods (docs/iot-hub-behaviour.md §8): the identity was not connected within connectTimeoutInSeconds,
// or did not answer within responseTimeoutInSeconds.
const deviceNotOnline = make(404, 'DeviceNotOnline', 404103);
const gatewayTimeout = make(504, 'GatewayTimeout', 504101);
// The name as the SDKs know it; the numeric code is not published (docs/iot-hub-behaviour.md §7), and only
// device-facing replies carry it, which a configuration never reaches.
const configurationNotFound = make(404, 'ConfigurationNotFound', 404000);
const deviceAlreadyExists = make(409, 'DeviceAlreadyExists', 409001);
const moduleAlreadyExists = make(409, 'ModuleAlreadyExistsOnDevice', 409301);
const preconditionFailed = make(412, 'PreconditionFailed', 412001);
const messageTooLarge = make(413, 'MessageTooLarge', 413001);
const throttled = make(429, 'ThrottlingException', 429001);
const throttleBacklogLimitExceeded = make(429, 'ThrottleBacklogLimitExceeded', 429002);
const serverError = make(500, 'ServerError', 500001);
const serviceUnavailable = make(503, 'ServiceUnavailable', 503001);
// Generic class codes (status × 1000) for pipeline failures that have no specific IoT Hub code;
// the SDKs only branch on the HTTP status for these (docs/iot-hub-behaviour.md §1.4 translateError table).
const routeNotFound = make(404, 'GenericNotFound', 404000);
const methodNotAllowed = make(405, 'GenericMethodNotAllowed', 405000);
const unsupportedMediaType = make(415, 'GenericUnsupportedMediaType', 415000);

export const hubErrors = {
  argumentInvalid,
  formatError,
  unauthorized,
  deviceNotFound: (deviceId: string) => deviceNotFound(`Device ${JSON.stringify(deviceId)} not found`),
  moduleNotFound: (deviceId: string, moduleId: string) =>
    moduleNotFound(`Module ${JSON.stringify(moduleId)} on device ${JSON.stringify(deviceId)} not found`),
  deviceNotOnline,
  gatewayTimeout,
  configurationNotFound: (id: string) =>
    configurationNotFound(`Configuration ${JSON.stringify(id)} not found`),
  deviceAlreadyExists: (deviceId: string) =>
    deviceAlreadyExists(
      `A device with id ${JSON.stringify(deviceId)} already exists (send If-Match to update it)`,
    ),
  moduleAlreadyExists: (deviceId: string, moduleId: string) =>
    moduleAlreadyExists(
      `A module with id ${JSON.stringify(moduleId)} already exists on device ${JSON.stringify(deviceId)} (send If-Match to update it)`,
    ),
  preconditionFailed,
  messageTooLarge,
  throttled,
  throttleBacklogLimitExceeded,
  serverError,
  serviceUnavailable,
  routeNotFound,
  methodNotAllowed,
  unsupportedMediaType,
};

/** The legacy `Message` text: ';' would end the SDK's message early, so it becomes ','. */
export function legacyErrorMessage(err: HubError): string {
  const text = err.message.replace(/;/g, ',').replace(/[\r\n]+/g, ' ');
  return `ErrorCode:${err.code};${text}`;
}

/** .NET-style "MM/dd/yyyy HH:mm:ss" as in the docs/iot-hub-behaviour.md §1.4 sample. */
function legacyTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export function writeHubErrorResponse(res: http.ServerResponse, err: HubError): void {
  const body = JSON.stringify({
    Message: legacyErrorMessage(err),
    ExceptionMessage: `Tracking ID:${randomUUID().replace(/-/g, '')}-G:0-TimeStamp:${legacyTimestamp(new Date())}`,
  });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(err.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'iothub-errorcode': err.code,
  });
  res.end(body);
}
