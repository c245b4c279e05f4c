/**
 * Pure rules for the `authentication` member of an identity body (docs/iot-hub-behaviour.md §2). Produces the
 * requested mechanism with `null` where the hub must mint a key; minting itself happens in
 * identity-records.ts with an injected random source.
 */
import { isJsonObject } from '../../lib/json-types';
import { childPath, type Problem } from '../../lib/problems';
import type { AuthenticationType } from '../hub-state';

export interface AuthenticationInput {
  type: AuthenticationType;
  /** `null` = generate (absent, null or '' keys, `{}` symmetricKey objects — docs/iot-hub-behaviour.md §2, §3.8). */
  primaryKey: string | null;
  secondaryKey: string | null;
  primaryThumbprint: string | null;
  secondaryThumbprint: string | null;
}

const TYPES: readonly AuthenticationType[] = ['sas', 'selfSigned', 'certificateAuthority', 'none'];
const KEY_MIN_BYTES = 16;
const KEY_MAX_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const THUMBPRINT = /^(?:[0-9A-F]{40}|[0-9A-F]{64})$/;

/** Absent/null authentication means SAS with hub-generated keys (docs/iot-hub-behaviour.md §2 "Keys"). */
export function parseAuthentication(value: unknown, path: string, problems: Problem[]): AuthenticationInput {
  const result: AuthenticationInput = {
    type: 'sas',
    primaryKey: null,
    secondaryKey: null,
    primaryThumbprint: null,
    secondaryThumbprint: null,
  };
  if (value === undefined || value === null) return result;
  if (!isJsonObject(value)) {
    problems.push({ path, message: 'authentication must be an object' });
    return result;
  }
  const thumbs = parseThumbprints(value['x509Thumbprint'], childPath(path, 'x509Thumbprint'), problems);
  const type = parseType(value['type'], childPath(path, 'type'), thumbs, problems);
  result.type = type;
  if (type === 'sas') {
    const keys = parseKeys(value['symmetricKey'], childPath(path, 'symmetricKey'), problems);
    result.primaryKey = keys.primary;
    result.secondaryKey = keys.secondary;
  } else if (type === 'selfSigned') {
    result.primaryThumbprint = thumbs.primary;
    result.secondaryThumbprint = thumbs.secondary;
    if (thumbs.primary === null && thumbs.secondary === null) {
      problems.push({
        path: childPath(childPath(path, 'x509Thumbprint'), 'primaryThumbprint'),
        message:
          'selfSigned authentication needs a thumbprint (40 hex digits SHA-1 or 64 hex digits SHA-256)',
      });
    }
  }
  // certificateAuthority and none carry neither keys nor thumbprints (docs/iot-hub-behaviour.md §2).
  return result;
}

/** SDK `_normalizeAuthentication`: no type → selfSigned when a thumbprint is present, else sas. */
function parseType(
  value: unknown,
  path: string,
  thumbs: { primary: string | null; secondary: string | null },
  problems: Problem[],
): AuthenticationType {
  if (value === undefined || value === null || value === '') {
    return thumbs.primary !== null || thumbs.secondary !== null ? 'selfSigned' : 'sas';
  }
  const match = TYPES.find((t) => typeof value === 'string' && t.toLowerCase() === value.toLowerCase());
  if (!match) {
    problems.push({
      path,
      message: `authentication type ${JSON.stringify(value)} is not valid; valid types: ${TYPES.join(', ')}`,
    });
    return 'sas';
  }
  return match;
}

function parseKeys(value: unknown, path: string, problems: Problem[]) {
  if (value === undefined || value === null) return { primary: null, secondary: null };
  if (!isJsonObject(value)) {
    problems.push({ path, message: 'symmetricKey must be an object with primaryKey and secondaryKey' });
    return { primary: null, secondary: null };
  }
  return {
    primary: parseKey(value['primaryKey'], childPath(path, 'primaryKey'), problems),
    secondary: parseKey(value['secondaryKey'], childPath(path, 'secondaryKey'), problems),
  };
}

/** Caller-supplied keys must be base64 of 16–64 bytes (docs/iot-hub-behaviour.md §2). Never echo the key. */
function parseKey(value: unknown, path: string, problems: Problem[]): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !BASE64.test(value)) {
    problems.push({
      path,
      message: 'key must be a base64 string (of 16 to 64 bytes) or empty to generate one',
    });
    return null;
  }
  const bytes = Buffer.from(value, 'base64').length;
  if (bytes < KEY_MIN_BYTES || bytes > KEY_MAX_BYTES) {
    problems.push({
      path,
      message: `key decodes to ${bytes} bytes; keys must be ${KEY_MIN_BYTES} to ${KEY_MAX_BYTES} bytes`,
    });
    return null;
  }
  return value;
}

function parseThumbprints(value: unknown, path: string, problems: Problem[]) {
  if (value === undefined || value === null) return { primary: null, secondary: null };
  if (!isJsonObject(value)) {
    problems.push({
      path,
      message: 'x509Thumbprint must be an object with primaryThumbprint and secondaryThumbprint',
    });
    return { primary: null, secondary: null };
  }
  return {
    primary: parseThumbprint(value['primaryThumbprint'], childPath(path, 'primaryThumbprint'), problems),
    secondary: parseThumbprint(
      value['secondaryThumbprint'],
      childPath(path, 'secondaryThumbprint'),
      problems,
    ),
  };
}

/** 40 hex (SHA-1) or 64 hex (SHA-256), colons stripped, case-insensitive (docs/iot-hub-behaviour.md §2). */
export function normalizeThumbprint(value: string): string | null {
  const hex = value.replace(/:/g, '').toUpperCase();
  return THUMBPRINT.test(hex) ? hex : null;
}

function parseThumbprint(value: unknown, path: string, problems: Problem[]): string | null {
  if (value === undefined || value === null || value === '') return null;
  const normalized = typeof value === 'string' ? normalizeThumbprint(value) : null;
  if (normalized === null) {
    problems.push({
      path,
      message: 'thumbprint must be 40 (SHA-1) or 64 (SHA-256) hex digits, colons allowed',
    });
  }
  return normalized;
}
