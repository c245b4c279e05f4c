/**
 * The client side of the local hub's telemetry window (`npm run hub -- telemetry tail`): the request
 * path, the answer's shape checked before use, and one line per message. Pure.
 *
 * The contract: `GET /local-hub/telemetry?api-version=2021-04-12[&deviceId=][&moduleId=][&after=<seq>]
 * [&waitMs=<n>]` with a service SAS, answering `{"messages": [...], "next": <seq>}`; `waitMs` (at most
 * 30000) long-polls until a message after `after` arrives. Azure has no such endpoint: its telemetry is
 * read from the Event Hub-compatible endpoint (docs/hub-commands.md).
 */
import type { JsonObject, JsonValue } from './json-types';

export const TELEMETRY_PATH = '/local-hub/telemetry';
export const TELEMETRY_API_VERSION = '2021-04-12';
export const TELEMETRY_MAX_WAIT_MS = 30_000;

export interface TelemetryMessage {
  sequence: number;
  deviceId: string;
  moduleId?: string;
  enqueuedTimeUtc: string;
  properties: Record<string, string>;
  body: JsonValue;
  bodyEncoding: 'json' | 'utf8' | 'base64';
}

export interface TelemetryPage {
  messages: TelemetryMessage[];
  next: number;
}

export function telemetryRequestPath(o: {
  deviceId?: string;
  moduleId?: string;
  after?: number;
  waitMs?: number;
}): string {
  const query = new URLSearchParams({ 'api-version': TELEMETRY_API_VERSION });
  if (o.deviceId !== undefined) query.set('deviceId', o.deviceId);
  if (o.moduleId !== undefined) query.set('moduleId', o.moduleId);
  if (o.after !== undefined) query.set('after', String(o.after));
  if (o.waitMs !== undefined)
    query.set('waitMs', String(Math.min(TELEMETRY_MAX_WAIT_MS, Math.max(0, o.waitMs))));
  return `${TELEMETRY_PATH}?${query.toString()}`;
}

/** The answer, or a sentence saying what in it breaks the contract. */
export function parseTelemetryPage(text: string): TelemetryPage | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'the telemetry answer is not JSON' };
  }
  if (!isObject(parsed) || !Array.isArray(parsed['messages']) || !Number.isSafeInteger(parsed['next'])) {
    return { problem: 'the telemetry answer lacks "messages" (an array) or "next" (an integer)' };
  }
  const messages: TelemetryMessage[] = [];
  for (const [i, m] of (parsed['messages'] as unknown[]).entries()) {
    if (
      !isObject(m) ||
      !Number.isSafeInteger(m['sequence']) ||
      typeof m['deviceId'] !== 'string' ||
      !['json', 'utf8', 'base64'].includes(String(m['bodyEncoding']))
    ) {
      return { problem: `telemetry message #${i + 1} lacks sequence, deviceId or a known bodyEncoding` };
    }
    messages.push({
      sequence: m['sequence'] as number,
      deviceId: m['deviceId'],
      ...(typeof m['moduleId'] === 'string' && m['moduleId'] !== '' ? { moduleId: m['moduleId'] } : {}),
      enqueuedTimeUtc: typeof m['enqueuedTimeUtc'] === 'string' ? m['enqueuedTimeUtc'] : '',
      properties: stringProperties(m['properties']),
      body: (m['body'] ?? null) as JsonValue,
      bodyEncoding: m['bodyEncoding'] as TelemetryMessage['bodyEncoding'],
    });
  }
  return { messages, next: parsed['next'] as number };
}

/** `2026-12-03T10:00:00.000Z  dev/mod  #12  {"sequence":1}  [$.on=telemetry]` — the body in full. */
export function formatTelemetryLine(message: TelemetryMessage): string {
  const who = message.moduleId === undefined ? message.deviceId : `${message.deviceId}/${message.moduleId}`;
  const body =
    message.bodyEncoding === 'json'
      ? JSON.stringify(message.body)
      : message.bodyEncoding === 'utf8'
        ? JSON.stringify(String(message.body))
        : `base64:${String(message.body)}`;
  const props = Object.entries(message.properties);
  const shown = props.length === 0 ? '' : `  [${props.map(([k, v]) => `${k}=${v}`).join(' ')}]`;
  return `${message.enqueuedTimeUtc || '-'}  ${who}  #${message.sequence}  ${body}${shown}`;
}

function stringProperties(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
