/**
 * A stack file (`stacks/Pulumi.<stack>.yaml`, already parsed) as the program would receive its config,
 * for `npm run check`: no Pulumi CLI, no network, no passphrase. Each `iothub-as-code:<key>` value becomes
 * the text the CLI passes to the program (its config package: a string as is, anything else as JSON with
 * keys sorted, as Go's encoding/json writes a map), so the shared path (infra/stack-config-source.ts)
 * reports what `pulumi preview` reports. Encrypted values (`secure: v1:…`) are never decrypted: they count
 * as present, their key as secret (as the CLI marks a key holding one), their content as unknown. Pure.
 */
import { childPath, type Problem } from '../lib/problems';
import { CONFIG_NAMESPACE, type ConfigKey } from './stack-config';
import type { StackConfigSource } from './stack-config-source';

/** Stands in for an encrypted value; never the ciphertext, so no output can carry it. */
const ENCRYPTED = '<encrypted>';

export interface StackFileConfig {
  source: StackConfigSource;
  /** Problems the CLI would stop at before running the program (the file's own shape). */
  fileProblems: Problem[];
}

/** The CLI's ciphertext form: a map of exactly one key, `secure`, holding a string. */
function isSecure(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 && keys[0] === 'secure' && typeof (value as { secure: unknown }).secure === 'string'
  );
}

/** Go's encoding/json orders map keys by their UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The value as the program sees it (secure parts replaced), recording where the encrypted parts were. */
function plainValue(value: unknown, path: string, opaque: string[]): unknown {
  if (isSecure(value)) {
    opaque.push(path);
    return ENCRYPTED;
  }
  if (Array.isArray(value)) return value.map((item, i) => plainValue(item, childPath(path, i), opaque));
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort(byteOrder);
    return Object.fromEntries(
      keys.map((k) => [k, plainValue((value as Record<string, unknown>)[k], childPath(path, k), opaque)]),
    );
  }
  return value;
}

/**
 * A config key as the CLI parses it (`<namespace>:<name>`, or the older `<namespace>:config:<name>`), or
 * undefined when the CLI would refuse to load the file.
 */
function parseKey(key: string): { namespace: string; name: string } | undefined {
  const parts = key.split(':');
  if (parts.length === 2) return { namespace: parts[0]!, name: parts[1]! };
  if (parts.length === 3 && parts[1] === 'config') return { namespace: parts[0]!, name: parts[2]! };
  return undefined;
}

/** `document`: the stack file as YAML parsed it (an empty file is null). */
export function stackFileConfig(document: unknown): StackFileConfig {
  const fileProblems: Problem[] = [];
  const values = new Map<string, string>();
  const secret = new Set<string>();
  const opaque: string[] = [];
  const isMap = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const config = isMap(document) ? document['config'] : undefined;
  if (document !== null && document !== undefined && !isMap(document)) {
    fileProblems.push({
      path: '(file)',
      message: 'a stack file must be a YAML map (config:, encryptionsalt:, …)',
    });
  } else if (config !== undefined && config !== null && !isMap(config)) {
    fileProblems.push({ path: 'config', message: 'must be a map of `<namespace>:<name>` keys' });
  }
  for (const [rawKey, raw] of Object.entries(isMap(config) ? config : {})) {
    const key = parseKey(rawKey);
    if (!key) {
      fileProblems.push({
        path: rawKey,
        message: `is not a config key the Pulumi CLI can read: write it as "${CONFIG_NAMESPACE}:<name>"`,
      });
      continue;
    }
    if (key.namespace !== CONFIG_NAMESPACE) continue;
    const keyOpaque: string[] = [];
    const value = plainValue(raw, key.name, keyOpaque);
    opaque.push(...keyOpaque);
    if (keyOpaque.length > 0) secret.add(key.name);
    values.set(key.name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const source: StackConfigSource = {
    value: (key: ConfigKey) => values.get(key),
    keys: () => [...values.keys()],
    isSecret: (key: ConfigKey) => secret.has(key),
    opaquePaths: opaque,
  };
  return { source, fileProblems };
}
