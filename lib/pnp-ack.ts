/**
 * IoT Plug and Play writable-property acknowledgements (docs/device-runtime.md "Acknowledgements"): the device
 * reports `{"<prop>": {"value": v, "ac": <http-like code>, "av": <desired $version acted on>, "ad": "<text>"}}`.
 *
 * Shared by the device runtime (which writes acks) and the ModuleTwin provider (which waits for them), so
 * both sides agree on one definition of "converged".
 */
import { deepEqualJson, isJsonObject } from './json-types';

export interface WritablePropertyAck {
  value: unknown;
  ac: number;
  av: number;
  ad?: string;
}

/** Builds an ack; `ad` is omitted (not `undefined`) when absent so the JSON round-trips unchanged. */
export function buildAck(value: unknown, ac: number, av: number, ad?: string): WritablePropertyAck {
  const ack: WritablePropertyAck = { value, ac, av };
  if (ad !== undefined) ack.ad = ad;
  return ack;
}

/** True for a reported value shaped like an ack: integer `ac` and `av`, optional string `ad`. */
export function isWritablePropertyAck(candidate: unknown): candidate is WritablePropertyAck {
  if (!isJsonObject(candidate)) return false;
  const { ac, av, ad } = candidate;
  return (
    Number.isInteger(ac) &&
    Number.isInteger(av) &&
    (ad === undefined || typeof ad === 'string') &&
    'value' in candidate
  );
}

/** Same value, code, version and description (extra keys on `reported` make it different). */
export function ackEquals(reported: unknown, expected: WritablePropertyAck): boolean {
  return deepEqualJson(reported, expected);
}

export interface AckEvaluation {
  converged: boolean;
  failures: { key: string; ac: number; ad?: string }[];
  pending: string[];
}

/** PnP's "accepted, still in progress" code: the device has the version but has not finished applying. */
const AC_IN_PROGRESS = 202;

/**
 * Decides whether the device has acted on the desired write that produced `writtenVersion`.
 *
 * Converged when every owned key's ack has `av >= writtenVersion` and `ac === 200`. A key whose ack has
 * `av >= writtenVersion` and a code other than 200 is a failure (with its `ad`), except 202, which PnP
 * defines as "in progress" and therefore stays pending. A key with no ack, a malformed one, or an older
 * `av` is pending. `av >= ` (not `===`): a later write acknowledged also covers this one, because the
 * device runtime acks every desired key at each version it reaches (docs/device-runtime.md).
 */
export function evaluateAcks(
  reported: Record<string, unknown>,
  ownedTopLevelKeys: string[],
  writtenVersion: number,
): AckEvaluation {
  const failures: AckEvaluation['failures'] = [];
  const pending: string[] = [];
  for (const key of ownedTopLevelKeys) {
    const ack = reported[key];
    if (!isWritablePropertyAck(ack) || ack.av < writtenVersion || ack.ac === AC_IN_PROGRESS) {
      pending.push(key);
    } else if (ack.ac !== 200) {
      failures.push(ack.ad === undefined ? { key, ac: ack.ac } : { key, ac: ack.ac, ad: ack.ad });
    }
  }
  return { converged: failures.length === 0 && pending.length === 0, failures, pending };
}
