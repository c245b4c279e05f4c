/**
 * The body of `POST /twins/{id}[/modules/{mid}]/methods` (docs/iot-hub-behaviour.md §8.1): `methodName`,
 * any JSON `payload` (absent means `null`), `responseTimeoutInSeconds` (5–300, default 30) and
 * `connectTimeoutInSeconds` (0–300, default 0). Pure validation; every problem at once.
 */
import { isJsonObject, type JsonValue } from '../../lib/json-types';
import type { Problem } from '../../lib/problems';
import type { Parsed } from '../store/identity-input';

export interface MethodRequest {
  methodName: string;
  payload: JsonValue;
  responseTimeoutSeconds: number;
  connectTimeoutSeconds: number;
}

/** §8.1: method request and response payloads are JSON documents of at most 128 KB. */
export const MAX_METHOD_PAYLOAD_BYTES = 128 * 1024;
const RESPONSE_TIMEOUT = { min: 5, max: 300, fallback: 30 } as const;
const CONNECT_TIMEOUT = { min: 0, max: 300, fallback: 0 } as const;

export function parseMethodRequest(body: unknown): Parsed<MethodRequest> {
  if (!isJsonObject(body)) {
    return { ok: false, problems: [{ path: '', message: 'the method request must be a JSON object' }] };
  }
  const problems: Problem[] = [];
  const methodName = parseMethodName(body['methodName'], problems);
  const payload = body['payload'] === undefined ? null : body['payload'];
  const value: MethodRequest = {
    methodName,
    payload,
    responseTimeoutSeconds: parseSeconds(body, 'responseTimeoutInSeconds', RESPONSE_TIMEOUT, problems),
    connectTimeoutSeconds: parseSeconds(body, 'connectTimeoutInSeconds', CONNECT_TIMEOUT, problems),
  };
  if (Buffer.byteLength(JSON.stringify(payload)) > MAX_METHOD_PAYLOAD_BYTES) {
    problems.push({ path: 'payload', message: `the payload exceeds ${MAX_METHOD_PAYLOAD_BYTES} bytes` });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

/**
 * The name becomes a topic level (`$iothub/methods/POST/{name}/`), so it cannot hold `/` or the MQTT
 * wildcards, nor control characters.
 */
function parseMethodName(value: unknown, problems: Problem[]): string {
  if (typeof value !== 'string' || value === '') {
    problems.push({ path: 'methodName', message: 'methodName must be a non-empty string' });
    return '';
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (/[/#+\u0000-\u001f\u007f]/.test(value) || value.length > 128) {
    problems.push({
      path: 'methodName',
      message: 'methodName must be at most 128 characters, without "/", "#", "+" or control characters',
    });
  }
  return value;
}

/** Absent or null mean the default; anything outside the documented range is refused. */
function parseSeconds(
  body: Record<string, unknown>,
  name: string,
  range: { min: number; max: number; fallback: number },
  problems: Problem[],
): number {
  const value = body[name];
  if (value === undefined || value === null) return range.fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    problems.push({ path: name, message: `${name} must be an integer from ${range.min} to ${range.max}` });
    return range.fallback;
  }
  return value;
}
