/**
 * IoT Hub shared access signatures (docs/iot-hub-behaviour.md §1.5): create them like the SDKs do, parse and verify
 * them like the hub does. Pure: HMAC only, no clock (callers compare `se` with their own `now`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'SharedAccessSignature ';

/**
 * `encodeURIComponent` plus `!'()*` escaped with upper-case hex (RFC 3986 §2.1's canonical form), as
 * the SDKs encode `sig` and device `sr`. One difference: azure-iot-common writes `*` as `%2a`. It never
 * matters for verification, which signs the literal `sr` received; it only makes a token we create for
 * an id containing `*` differ textually from the SDK's.
 */
export function encodeUriComponentStrict(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** base64(HMAC-SHA256(base64-decoded key, `${sr}\n${se}`)) — §1.5; `sr` exactly as it appears in the token. */
export function computeSasSignature(base64Key: string, sr: string, se: number): string {
  return createHmac('sha256', Buffer.from(base64Key, 'base64')).update(`${sr}\n${se}`).digest('base64');
}

/**
 * Builds `SharedAccessSignature sr=<sr>&sig=<sig>&se=<se>[&skn=<keyName>]`. `sr` is used as given:
 * service tokens carry the raw HostName, device tokens the strictly-encoded resource URI (§1.5).
 */
export function createSasToken(o: {
  sr: string;
  base64Key: string;
  expiresAt: number;
  keyName?: string;
}): string {
  if (!Number.isSafeInteger(o.expiresAt) || o.expiresAt < 0) {
    throw new Error(`SAS expiresAt must be a non-negative integer of Unix seconds, got ${o.expiresAt}`);
  }
  const sig = encodeUriComponentStrict(computeSasSignature(o.base64Key, o.sr, o.expiresAt));
  // skn is URL-encoded like azure-iot-common does (a no-op for ordinary policy names).
  const skn = o.keyName === undefined ? '' : `&skn=${encodeUriComponentStrict(o.keyName)}`;
  return `${PREFIX}sr=${o.sr}&sig=${sig}&se=${o.expiresAt}${skn}`;
}

export interface ParsedSasToken {
  /** Literal as received (not decoded): the signature covers these exact characters. */
  sr: string;
  /** URL-decoded, i.e. the base64 signature. */
  sig: string;
  se: number;
  /** URL-decoded policy name (azure-iot-common encodes it). */
  skn?: string;
}

export type SasParseResult = { ok: true; token: ParsedSasToken } | { ok: false; reason: string };

const FIELDS = ['sr', 'sig', 'se', 'skn'] as const;
type Field = (typeof FIELDS)[number];
/** Canonical decimal only: a leading zero would change the signed string (`se` is signed as printed). */
const CANONICAL_UINT = /^(0|[1-9][0-9]*)$/;

/**
 * Parses a SAS token in any field order. Reasons name the field that is wrong but never echo values,
 * so they are safe to log and to return to clients.
 */
export function parseSasToken(token: string): SasParseResult {
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) {
    return { ok: false, reason: `a SAS token must start with "${PREFIX}"` };
  }
  const fields = new Map<Field, string>();
  for (const [i, part] of token.slice(PREFIX.length).split('&').entries()) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0) return { ok: false, reason: `SAS field #${i + 1} has no "="; expected name=value` };
    if (!(FIELDS as readonly string[]).includes(name)) {
      return {
        ok: false,
        reason: `SAS field #${i + 1} has an unknown name; valid names: ${FIELDS.join(', ')}`,
      };
    }
    if (fields.has(name as Field)) return { ok: false, reason: `SAS field "${name}" appears more than once` };
    fields.set(name as Field, part.slice(eq + 1));
  }
  return toParsedToken(fields);
}

function toParsedToken(fields: Map<Field, string>): SasParseResult {
  for (const required of ['sr', 'sig', 'se'] as const) {
    if (!fields.get(required)) return { ok: false, reason: `SAS field "${required}" is missing or empty` };
  }
  const seText = fields.get('se')!;
  const se = Number(seText);
  if (!CANONICAL_UINT.test(seText) || !Number.isSafeInteger(se)) {
    return { ok: false, reason: 'SAS field "se" must be a non-negative integer of Unix seconds' };
  }
  const sig = safeDecode(fields.get('sig')!);
  if (!sig) return { ok: false, reason: 'SAS field "sig" is not valid URL encoding' };
  const parsed: ParsedSasToken = { sr: fields.get('sr')!, sig, se };
  const skn = fields.get('skn');
  if (skn !== undefined) {
    const decoded = safeDecode(skn);
    if (!decoded) return { ok: false, reason: 'SAS field "skn" is empty or not valid URL encoding' };
    parsed.skn = decoded;
  }
  return { ok: true, token: parsed };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * True when the token was signed with this key. HMAC over the literal `sr` (§1.5: SDKs do not
 * normalise it), compared in constant time so the check leaks nothing about the expected signature.
 */
export function verifySasSignature(token: ParsedSasToken, base64Key: string): boolean {
  const expected = Buffer.from(computeSasSignature(base64Key, token.sr, token.se), 'utf8');
  const received = Buffer.from(token.sig, 'utf8');
  return expected.length === received.length && timingSafeEqual(expected, received);
}

export interface SasScope {
  host: string;
  deviceId?: string;
  moduleId?: string;
}

/**
 * The resource a token's `sr` names: `<host>`, `<host>/devices/<d>` or `<host>/devices/<d>/modules/<m>`
 * after URL-decoding (device SDKs encode `sr`, the service SDK does not — §1.5). `undefined` when the
 * shape is anything else. The literal `devices`/`modules` segments are matched case-insensitively
 * because the docs ask clients to lower-case the URI; ids stay case-sensitive (§5).
 */
export function sasResourceScope(sr: string): SasScope | undefined {
  const decoded = safeDecode(sr);
  if (decoded === undefined) return undefined;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '')) return undefined;
  const [host, devices, deviceId, modules, moduleId] = segments;
  if (host === undefined) return undefined;
  if (segments.length === 1) return { host };
  if (devices?.toLowerCase() !== 'devices' || deviceId === undefined) return undefined;
  if (segments.length === 3) return { host, deviceId };
  if (segments.length === 5 && modules?.toLowerCase() === 'modules' && moduleId !== undefined) {
    return { host, deviceId, moduleId };
  }
  return undefined;
}

/**
 * Whether a token scoped to `scope` may act on `target`: same host (case-insensitive, DNS names are),
 * and `scope` is a whole-segment prefix of `target`, so `devices/d1` covers `d1` and its modules but
 * not `d10`, and a device scope never covers the hub itself.
 */
export function sasScopeCovers(scope: SasScope, target: SasScope): boolean {
  if (scope.host.toLowerCase() !== target.host.toLowerCase()) return false;
  if (scope.deviceId === undefined) return scope.moduleId === undefined;
  if (scope.deviceId !== target.deviceId) return false;
  if (scope.moduleId === undefined) return true;
  return scope.moduleId === target.moduleId;
}
