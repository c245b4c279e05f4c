/**
 * Secrets convention of the test harness: a secret value is Pulumi's own RPC marker
 * `{ [specialSigKey]: specialSecretSig, value }` (@pulumi/pulumi runtime/rpc.js), which is exactly
 * what `pulumi.runtime.setMocks` hands to `newResource` for a secret input, so values recorded from
 * the program can be passed to the host unchanged.
 *
 * What the engine does with them, and so what the harness does: the dynamic provider host answers
 * Configure with `acceptSecrets: false`, so the engine sends every secret as its plain value
 * (`KeepSecrets: false`), and marks as secret every output whose same-named input held a secret
 * (`annotateSecrets` in the engine's provider plugin, recursing into objects).
 */
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc';
import type { PlainObject } from './host-grpc';

export interface SecretMarker<T = unknown> {
  [specialSigKey]: typeof specialSecretSig;
  value: T;
}

/** Marks a value as secret, in the form the mocks and the host's Structs use. */
export function secret<T>(value: T): SecretMarker<T> {
  return { [specialSigKey]: specialSecretSig, value };
}

export function isSecret(value: unknown): value is SecretMarker {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
  );
}

export function containsSecrets(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecrets);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsSecrets);
  return false;
}

/** Removes every secret marker, keeping the values (what the engine sends a non-secret provider). */
export function reveal<T>(value: T): T {
  if (isSecret(value)) return reveal(value.value) as T;
  if (Array.isArray(value)) return value.map(reveal) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, reveal(member)])) as T;
  }
  return value;
}

/**
 * Marks `outs[key]` secret when `ins[key]` contains a secret; recurses where both sides are objects
 * (the engine's `annotateSecrets`). Returns a new object.
 */
export function annotateSecrets(outs: PlainObject, ins: PlainObject): PlainObject {
  const result: PlainObject = { ...outs };
  for (const [key, inValue] of Object.entries(ins)) {
    if (!(key in result)) continue;
    const outValue = result[key];
    if (isPlainObject(outValue) && isPlainObject(inValue)) {
      result[key] = annotateSecrets(outValue, inValue);
    } else if (!isSecret(outValue) && containsSecrets(inValue)) {
      result[key] = secret(outValue);
    }
  }
  return result;
}

function isPlainObject(value: unknown): value is PlainObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !isSecret(value);
}

/** The value as the state file would show it in clear: every secret replaced by `"[secret]"`. */
export function clearText(value: unknown): unknown {
  if (isSecret(value)) return '[secret]';
  if (Array.isArray(value)) return value.map(clearText);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, clearText(member)]));
  }
  return value;
}
