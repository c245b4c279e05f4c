/**
 * X.509 name constraints for the local CA (RFC 5280 §4.2.1.10; issue #10 item 13). The README suggests
 * adding ca.pem to the OS trust store, so the CA must only be able to vouch for the names the hub
 * serves: a stolen ca-key.pem must not sign a certificate for someone else's site. The CA permits
 * exactly the served names (a DNS constraint also covers that name's subdomains), the whole loopback
 * range 127.0.0.0/8 and ::1.
 *
 * Encoded and decoded here by hand (the DER is four nested TLVs) because @peculiar/x509 has no class
 * for this extension and its ASN.1 schema packages are not dependencies of this project.
 */
import { isIP } from 'node:net';
import type { SubjectAltName } from './subject-alt-names';

export const NAME_CONSTRAINTS_OID = '2.5.29.30';

export type Subtree = { type: 'dns'; value: string } | { type: 'ip'; address: Buffer; mask: Buffer };

const TAG = { sequence: 0x30, permitted: 0xa0, dns: 0x82, ip: 0x87 } as const;

/** The subtrees a CA for `names` permits: each name, and all of loopback for loopback addresses. */
export function permittedSubtrees(names: readonly SubjectAltName[]): Subtree[] {
  const subtrees: Subtree[] = [];
  const seen = new Set<string>();
  const add = (subtree: Subtree) => {
    const key =
      subtree.type === 'dns'
        ? `dns:${subtree.value}`
        : `ip:${subtree.address.toString('hex')}/${subtree.mask.toString('hex')}`;
    if (!seen.has(key)) {
      seen.add(key);
      subtrees.push(subtree);
    }
  };
  for (const name of names) {
    if (name.type === 'dns') add({ type: 'dns', value: name.value.replace(/^\*\./, '').toLowerCase() });
    else if (name.value.startsWith('127.')) add(ipSubtree('127.0.0.0', 8));
    else add(ipSubtree(name.value, isIP(name.value) === 4 ? 32 : 128));
  }
  return subtrees;
}

/** RFC 5280: a name is permitted when no subtree of its type exists or one of them contains it. */
export function isPermitted(name: SubjectAltName, subtrees: readonly Subtree[]): boolean {
  if (name.type === 'dns') {
    const dns = subtrees.filter((s): s is Extract<Subtree, { type: 'dns' }> => s.type === 'dns');
    const host = name.value.replace(/^\*\./, '').toLowerCase();
    return dns.length === 0 || dns.some((s) => host === s.value || host.endsWith(`.${s.value}`));
  }
  const ips = subtrees.filter((s): s is Extract<Subtree, { type: 'ip' }> => s.type === 'ip');
  const address = ipBytes(name.value);
  return (
    ips.length === 0 ||
    ips.some(
      (s) =>
        s.address.length === address.length &&
        address.every((byte, i) => (byte & s.mask[i]!) === (s.address[i]! & s.mask[i]!)),
    )
  );
}

/** DER of NameConstraints { permittedSubtrees [0] GeneralSubtrees }. */
export function encodeNameConstraints(subtrees: readonly Subtree[]): ArrayBuffer {
  const encoded = subtrees.map((s) =>
    tlv(
      TAG.sequence,
      s.type === 'dns'
        ? tlv(TAG.dns, Buffer.from(s.value, 'ascii'))
        : tlv(TAG.ip, Buffer.concat([s.address, s.mask])),
    ),
  );
  const der = tlv(TAG.sequence, tlv(TAG.permitted, Buffer.concat(encoded)));
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

/** The permitted subtrees of a NameConstraints DER; names of other types are skipped. */
export function decodeNameConstraints(der: ArrayBuffer | Buffer): Subtree[] {
  const outer = readTlv(Buffer.from(der as ArrayBuffer), 0);
  if (outer.tag !== TAG.sequence) throw new Error('name constraints: expected a SEQUENCE');
  const subtrees: Subtree[] = [];
  for (const part of children(outer.content)) {
    if (part.tag !== TAG.permitted) continue;
    for (const subtree of children(part.content)) {
      const base = readTlv(subtree.content, 0);
      if (base.tag === TAG.dns)
        subtrees.push({ type: 'dns', value: base.content.toString('ascii').toLowerCase() });
      if (base.tag === TAG.ip) {
        const half = base.content.length / 2;
        subtrees.push({
          type: 'ip',
          address: base.content.subarray(0, half),
          mask: base.content.subarray(half),
        });
      }
    }
  }
  return subtrees;
}

function ipSubtree(address: string, prefix: number): Subtree {
  const bytes = ipBytes(address);
  const mask = Buffer.alloc(bytes.length);
  for (let bit = 0; bit < prefix; bit++) mask[bit >> 3]! |= 0x80 >> (bit & 7);
  return { type: 'ip', address: Buffer.from(bytes.map((b, i) => b & mask[i]!)), mask };
}

/** 4 bytes for IPv4, 16 for IPv6 (with `::` expanded and a trailing dotted quad converted). */
export function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  if (isIP(address) !== 6) throw new Error(`not an IP address: ${JSON.stringify(address)}`);
  let text = address.toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -quad[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

function readTlv(buffer: Buffer, at: number): { tag: number; content: Buffer; end: number } {
  const tag = buffer[at]!;
  let length = buffer[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | buffer[start + i]!;
    start += count;
  }
  if (start + length > buffer.length) throw new Error('name constraints: truncated DER');
  return { tag, content: buffer.subarray(start, start + length), end: start + length };
}

function* children(content: Buffer): Generator<{ tag: number; content: Buffer }> {
  let at = 0;
  while (at < content.length) {
    const next = readTlv(content, at);
    yield next;
    at = next.end;
  }
}
