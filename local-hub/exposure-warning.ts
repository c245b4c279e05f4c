/**
 * People run the hub with `--bind 0.0.0.0` in shared labs and CI. With a well-known (public) key in
 * force, anyone who can reach that address has that policy's access, so a non-loopback bind warns
 * loudly at start (issue #10). Loopback is 127.0.0.0/8, ::1 and the name localhost.
 */
import { isIP } from 'node:net';
import {
  describeWellKnownKeys,
  type PolicyDefinition,
  wellKnownKeysInForce,
} from '../lib/local-hub-defaults';

export function isLoopbackAddress(address: string): boolean {
  const host = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  // IPv4-mapped IPv6 loopback (::ffff:127.x.y.z).
  return /^::ffff:127\./.test(host);
}

/** The warning text, or undefined when the bind is loopback or no well-known key is in force. */
export function exposureWarning(
  bindAddress: string,
  policies: readonly PolicyDefinition[],
): string | undefined {
  if (isLoopbackAddress(bindAddress)) return undefined;
  const inForce = wellKnownKeysInForce(policies);
  if (inForce.length === 0) return undefined;
  return (
    `WARNING: listening on ${bindAddress}, reachable from other machines, with WELL-KNOWN PUBLIC KEYS in ` +
    `force for ${describeWellKnownKeys(inForce)}: anyone who can reach this address has those ` +
    "policies' access (registry and twins). Replace them (LOCAL_HUB_POLICY_KEYS or --policy-key-file) " +
    'or bind to 127.0.0.1.'
  );
}
