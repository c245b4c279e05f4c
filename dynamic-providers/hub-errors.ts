/**
 * Classifying `azure-iothub` errors and turning them into messages that name the resource.
 *
 * Classification is by HTTP status (`err.response.statusCode`), not error class: the SDK maps a
 * 404 to DeviceNotFoundError only for code DeviceNotFound and to a bare `Error('Not found')` for
 * ModuleNotFound, and every 409 to DeviceAlreadyExistsError (docs/iot-hub-behaviour.md §0.2, §1.4).
 */
import { redactSecrets } from '../lib/resource-redact';

interface SdkError {
  message?: string;
  code?: string;
  response?: { statusCode?: number; headers?: Record<string, unknown> };
  responseBody?: unknown;
}

/** Node socket errors worth retrying: the connection broke, the request itself was fine. */
const TRANSIENT_NETWORK_CODES = [
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
];

export function hubStatusOf(err: unknown): number | undefined {
  const status = (err as SdkError | null)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export const isNotFound = (err: unknown): boolean => hubStatusOf(err) === 404;
export const isAlreadyExists = (err: unknown): boolean => hubStatusOf(err) === 409;
export const isEtagMismatch = (err: unknown): boolean => hubStatusOf(err) === 412;

/** 429 (ThrottlingError) and 503 (ServiceUnavailableError) per docs/iot-hub-behaviour.md §1.4, plus broken sockets. */
export function isTransientHubError(err: unknown): boolean {
  const status = hubStatusOf(err);
  if (status === 429 || status === 503) return true;
  const code = (err as SdkError | null)?.code;
  return typeof code === 'string' && TRANSIENT_NETWORK_CODES.includes(code);
}

/** The hub's error code: the `iothub-errorcode` header, else `ErrorCode:<Name>` in the legacy body. */
export function hubErrorCodeOf(err: unknown): string | undefined {
  const header = (err as SdkError | null)?.response?.headers?.['iothub-errorcode'];
  if (typeof header === 'string' && header !== '') return header;
  const body = (err as SdkError | null)?.responseBody;
  const match = typeof body === 'string' ? /ErrorCode:([A-Za-z]+)/.exec(body) : null;
  return match?.[1];
}

/**
 * The hub's own description. The SDK reduces some answers to `Not found`; the legacy body
 * `{"Message":"ErrorCode:<Name>;<text>"}` still holds the text (docs/iot-hub-behaviour.md §1.4).
 */
export function hubMessageOf(err: unknown): string {
  const e = err as SdkError | null;
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  if (typeof e?.responseBody !== 'string') return message;
  try {
    const parsed = JSON.parse(e.responseBody) as { Message?: unknown };
    const text = typeof parsed.Message === 'string' ? parsed.Message.split(';').slice(1).join(';') : '';
    return text !== '' && !message.includes(text) ? `${message}: ${text}` : message;
  } catch {
    return message;
  }
}

/** `DeviceIdentity "d1" on hub myhub.azure-devices.net` — names the resource in every message. */
export function resourceLabel(kind: string, id: string, hostName: string): string {
  return `${kind} "${id}" on hub ${hostName}`;
}

/**
 * An Error for a failed hub call: which resource, what it was doing, the hub's message and code.
 * `secrets` (connection string, supplied keys) are redacted as exact strings, known patterns always.
 */
export function hubOperationError(
  label: string,
  action: string,
  err: unknown,
  secrets: readonly (string | undefined)[] = [],
): Error {
  const status = hubStatusOf(err);
  const code = hubErrorCodeOf(err);
  const detail = status !== undefined ? ` (HTTP ${status}${code ? ` ${code}` : ''})` : '';
  const error = new Error(
    redactSecrets(`${label}: ${action} failed: ${hubMessageOf(err)}${detail}`, secrets),
  );
  Object.assign(error, { statusCode: status, hubErrorCode: code });
  return error;
}
