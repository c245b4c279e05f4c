/**
 * Where each desired property stands with the device, read from the twin alone (the web view shows it;
 * docs/local-hub-web-view.md). The device acknowledges with IoT Plug and Play acks in reported properties
 * (lib/pnp-ack.ts, docs/device-runtime.md "Acknowledgements"):
 *
 * - `pending`: no ack for the key, an ack for an older desired `$version` (`av` below it), PnP's 202
 *   "in progress", or an ack whose value is not the desired one;
 * - `rejected`: the ack for this version (or a later one) has `ac` >= 400; `ad` says why;
 * - `acknowledged`: the ack for this version (or a later one) has a 2xx `ac` and the desired value.
 *
 * `av >=` and not `===`, as in `evaluateAcks`: a runtime re-acks every key at each version it reaches.
 * Pure.
 */
import { deepEqualJson } from './json-types';
import { isWritablePropertyAck, type WritablePropertyAck } from './pnp-ack';

export type AckStatus = 'acknowledged' | 'pending' | 'rejected';

export interface DesiredPropertyStatus {
  key: string;
  desired: unknown;
  status: AckStatus;
  /** The reported ack, when the reported value is shaped like one. */
  ack?: WritablePropertyAck;
  /** Why it is pending or rejected, in words a reader understands. */
  reason?: string;
}

const AC_IN_PROGRESS = 202;

/**
 * One entry per top-level desired property (metadata keys such as `$version` and `$metadata` skipped),
 * in the desired document's key order.
 */
export function desiredAckStatuses(
  desired: Readonly<Record<string, unknown>>,
  reported: Readonly<Record<string, unknown>>,
): DesiredPropertyStatus[] {
  const version = typeof desired['$version'] === 'number' ? desired['$version'] : 0;
  return Object.keys(desired)
    .filter((key) => !key.startsWith('$'))
    .map((key) =>
      classify(key, desired[key], Object.hasOwn(reported, key) ? reported[key] : undefined, version),
    );
}

function classify(key: string, desired: unknown, reported: unknown, version: number): DesiredPropertyStatus {
  if (!isWritablePropertyAck(reported)) {
    return { key, desired, status: 'pending', reason: 'no acknowledgement reported yet' };
  }
  const ack: WritablePropertyAck = reported;
  const base = { key, desired, ack };
  if (ack.av < version) {
    return { ...base, status: 'pending', reason: `acknowledged version ${ack.av}; desired is at ${version}` };
  }
  if (ack.ac >= 400) {
    return { ...base, status: 'rejected', reason: ack.ad ?? `rejected with code ${ack.ac}` };
  }
  if (ack.ac === AC_IN_PROGRESS) {
    return { ...base, status: 'pending', reason: ack.ad ?? 'the device is still applying it (202)' };
  }
  if (!deepEqualJson(ack.value, desired)) {
    return { ...base, status: 'pending', reason: 'the acknowledged value is not the desired one' };
  }
  if (ack.ac < 200 || ack.ac > 299) {
    return { ...base, status: 'pending', reason: `acknowledged with code ${ack.ac}` };
  }
  return { ...base, status: 'acknowledged' };
}
