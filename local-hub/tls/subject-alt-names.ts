/**
 * Which names the hub's server certificate covers. Clients verify the host they dialled against the
 * SAN list (RFC 6125); mqtt.js sends SNI only for non-IP hosts, so IP literals need `IP:` entries
 * (docs/iot-hub-behaviour.md §3.1, §3.8).
 */
import { isIP } from 'node:net';

export interface SubjectAltName {
  type: 'dns' | 'ip';
  value: string;
}

/** Always covered: what `npm run hub` prints and what tests dial. */
export const DEFAULT_SERVER_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** RFC 1123 labels, optionally a leading `*.` wildcard label. */
const DNS_NAME =
  /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Strips `[...]` around IPv6 literals and a `:port` suffix, and lower-cases DNS names. */
export function bareHost(name: string): string {
  const trimmed = name.trim();
  const bracketed = /^\[([^\]]+)\](:\d+)?$/.exec(trimmed);
  if (bracketed) return bracketed[1]!;
  if (isIP(trimmed)) return trimmed;
  return trimmed.replace(/:\d+$/, '').toLowerCase();
}

/** Parses one configured host name into a SAN entry; throws a message naming the bad value. */
export function toSubjectAltName(name: string): SubjectAltName {
  const host = bareHost(name);
  if (isIP(host) === 4) return { type: 'ip', value: host };
  // Canonical IPv6 text (RFC 5952) so "FE80:0::1" and "fe80::1" compare equal across restarts.
  if (isIP(host) === 6) return { type: 'ip', value: new URL(`http://[${host}]`).hostname.slice(1, -1) };
  if (host.length > 253 || !DNS_NAME.test(host)) {
    throw new Error(
      `Invalid hub host name "${name}": expected a DNS name (e.g. "myhub.local"), an IPv4 address ` +
        'or an IPv6 address, optionally with ":<port>"',
    );
  }
  return { type: 'dns', value: host };
}

/** The default names plus `extra`, de-duplicated, in a stable order (defaults first). */
export function serverNames(extra: readonly string[] = []): SubjectAltName[] {
  const seen = new Set<string>();
  const result: SubjectAltName[] = [];
  for (const name of [...DEFAULT_SERVER_NAMES, ...extra]) {
    const entry = toSubjectAltName(name);
    const key = sanKey(entry);
    if (!seen.has(key)) {
      seen.add(key);
      result.push(entry);
    }
  }
  return result;
}

function sanKey(entry: SubjectAltName): string {
  return `${entry.type}:${entry.value.toLowerCase()}`;
}

/** True when both lists cover the same names (order-insensitive), so the certificate can be reused. */
export function sameNames(a: readonly SubjectAltName[], b: readonly SubjectAltName[]): boolean {
  const left = new Set(a.map(sanKey));
  const right = new Set(b.map(sanKey));
  return left.size === right.size && [...left].every((key) => right.has(key));
}

export function sanEntriesToJson(names: readonly SubjectAltName[]): { type: 'dns' | 'ip'; value: string }[] {
  return names.map((name) => ({ type: name.type, value: name.value }));
}
