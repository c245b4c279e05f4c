/**
 * How a device-to-cloud message is shown to a reader of the telemetry window (docs/local-hub-web-view.md):
 * the body as JSON when it is JSON, else as UTF-8 text, else as base64, with a marker saying which; and
 * the properties a reader wants. Pure.
 */
import { TextDecoder } from 'node:util';

export type BodyEncoding = 'json' | 'utf8' | 'base64';

export interface RenderedBody {
  body: unknown;
  bodyEncoding: BodyEncoding;
}

/**
 * System properties that arrive in the MQTT property bag (`$.`-prefixed, docs/iot-hub-behaviour.md §3.2) and
 * help a reader: content type and encoding, the module output name, message and correlation ids. The
 * others (`$.to`, `$.exp`, …) say nothing about the message itself and are left out.
 */
const USEFUL_SYSTEM_PROPERTIES: readonly string[] = ['$.ct', '$.ce', '$.on', '$.mid', '$.cid'];

/** Application properties, plus the useful system ones under their wire names. */
export function readerProperties(bag: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(bag)) {
    if (key.startsWith('$.') && !USEFUL_SYSTEM_PROPERTIES.includes(key)) continue;
    // defineProperty: a property named "__proto__" stays an ordinary key.
    Object.defineProperty(kept, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return kept;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON when the content type says JSON (or there is none) and the bytes parse; UTF-8 text when they
 * decode as UTF-8 and the declared encoding (if any) is UTF-8; base64 otherwise. A content type that says
 * JSON over bytes that do not parse falls back to text, so a broken device is still readable.
 */
export function renderBody(body: Buffer, bag: Readonly<Record<string, string>>): RenderedBody {
  const contentType = (bag['$.ct'] ?? '').toLowerCase();
  const contentEncoding = (bag['$.ce'] ?? '').toLowerCase().replace('-', '');
  if (contentEncoding !== '' && contentEncoding !== 'utf8') {
    return { body: body.toString('base64'), bodyEncoding: 'base64' };
  }
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    return { body: body.toString('base64'), bodyEncoding: 'base64' };
  }
  const mayBeJson = contentType === '' || contentType.includes('json');
  if (mayBeJson && text.trim() !== '') {
    try {
      return { body: JSON.parse(text), bodyEncoding: 'json' };
    } catch {
      // Not JSON after all: shown as the text it is.
    }
  }
  return { body: text, bodyEncoding: 'utf8' };
}
