/**
 * Pure rules of the fleet benchmark's module clients (bench/fleet-clients.ts), kept apart so
 * tests/unit/bench-fleet-acks.test.ts can pin them: the IoT Plug and Play ack a desired patch gets (the
 * shape the device runtime reports and the providers' waits read, lib/pnp-ack.ts), and the request id
 * of a twin response, which names the value it acknowledged.
 */
import { buildAck, type WritablePropertyAck } from '../lib/pnp-ack';

export interface AckPatch {
  version: number;
  /** `{"<prop>": {"value", "ac": 200, "av": <version>}}` for every key of the patch. */
  patch: Record<string, WritablePropertyAck>;
}

/**
 * The reported patch acknowledging a desired patch (`{...keys, "$version": n}`), or undefined for a payload
 * that is not one. Like the device runtime, every key the patch carries is acked at the patch's version;
 * a removed key (null) is not acked.
 */
export function ackPatchFor(payload: Buffer | string): AckPatch | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const desired = parsed as Record<string, unknown>;
  const version = desired['$version'];
  if (typeof version !== 'number' || !Number.isInteger(version)) return undefined;
  const patch: Record<string, WritablePropertyAck> = {};
  for (const [key, value] of Object.entries(desired)) {
    if (key.startsWith('$') || value === null) continue;
    patch[key] = buildAck(value, 200, version);
  }
  return Object.keys(patch).length > 0 ? { version, patch } : undefined;
}

/**
 * `$iothub/twin/res/<status>/?$rid=<value>.<seq>[&$version=n]` → the rid and the value it names
 * (undefined when the rid names none).
 */
export function ridOf(topic: string): { rid: string; value: number | undefined } | undefined {
  const query = topic.indexOf('/?');
  if (query < 0) return undefined;
  const rid = new URLSearchParams(topic.slice(query + 2)).get('$rid');
  if (!rid) return undefined;
  const head = rid.split('.')[0] ?? '';
  const value = /^-?\d+$/.test(head) ? Number(head) : undefined;
  return { rid, value };
}
