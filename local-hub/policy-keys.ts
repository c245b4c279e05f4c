/**
 * Where `npm run hub` takes policy keys from, and how they replace the well-known ones (issue #10
 * items 1 and 12). Three sources, applied in this order (a later one wins per policy):
 *  1. the environment variable LOCAL_HUB_POLICY_KEYS: `<policy>=<primary>[,<secondary>]` entries
 *     separated by `;` or whitespace;
 *  2. `--policy-key-file <policy>=<file>`: the file holds the primary key and optionally the secondary,
 *     separated by a comma or whitespace (a Docker/Kubernetes secret file works as is);
 *  3. `--policy-key <policy>=<primary>[,<secondary>]` (visible in `ps` and shell history: the README
 *     recommends 1 or 2).
 * Overriding a policy replaces BOTH its keys: with one key given it serves as both, so the documented
 * well-known secondary key never stays valid next to a user's own primary. Messages never echo a key.
 */
import { readFileSync } from 'node:fs';
import { type PolicyDefinition, WELL_KNOWN_POLICIES } from '../lib/local-hub-defaults';

export const POLICY_KEYS_ENV = 'LOCAL_HUB_POLICY_KEYS';

export interface KeyEntry {
  /** Where the entry came from, for messages: `--policy-key`, `LOCAL_HUB_POLICY_KEYS`, a file flag. */
  origin: string;
  /** `<policy>=<primary>[,<secondary>]`. */
  text: string;
}

/** The entries of LOCAL_HUB_POLICY_KEYS, if set. */
export function keyEntriesFromEnvironment(env: Readonly<Record<string, string | undefined>>): KeyEntry[] {
  const value = env[POLICY_KEYS_ENV];
  if (value === undefined || value.trim() === '') return [];
  return value
    .split(/[;\s]+/)
    .filter((text) => text !== '')
    .map((text) => ({ origin: POLICY_KEYS_ENV, text }));
}

/** `<policy>=<file>` → an entry with the file's keys; a file that cannot be read is a problem. */
export function keyEntryFromFile(spec: string, flag: string, problems: string[]): KeyEntry | undefined {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) {
    problems.push(`${flag} ${JSON.stringify(spec)}: expected <policy>=<file>`);
    return undefined;
  }
  const name = spec.slice(0, eq);
  const file = spec.slice(eq + 1);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push(`${flag} ${name}=${file}: cannot read the file (${reason})`);
    return undefined;
  }
  const keys = content.split(/[\s,]+/).filter((key) => key !== '');
  return { origin: `${flag} ${name}=${file}`, text: `${name}=${keys.join(',')}` };
}

/** The well-known policies with every entry applied, or undefined when there are no entries. */
export function applyKeyEntries(
  entries: readonly KeyEntry[],
  problems: string[],
): PolicyDefinition[] | undefined {
  if (entries.length === 0) return undefined;
  const policies = WELL_KNOWN_POLICIES.map((policy) => ({ ...policy }));
  for (const entry of entries) {
    const eq = entry.text.indexOf('=');
    const name = eq < 0 ? entry.text : entry.text.slice(0, eq);
    const keys = eq < 0 ? [] : entry.text.slice(eq + 1).split(',');
    const policy = policies.find((p) => p.keyName === name);
    if (!policy) {
      const valid = policies.map((p) => p.keyName).join(', ');
      problems.push(`${entry.origin}: unknown policy ${JSON.stringify(name)}; valid policies: ${valid}`);
      continue;
    }
    if (keys.length < 1 || keys.length > 2 || !keys.every(isValidKey)) {
      problems.push(
        `${entry.origin} (${name}): expected <primary>[,<secondary>], each base64 of 16 to 64 bytes ` +
          '(44 characters for 32 bytes)',
      );
      continue;
    }
    policy.primaryKey = keys[0]!;
    policy.secondaryKey = keys[1] ?? keys[0]!;
  }
  return policies;
}

function isValidKey(key: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) return false;
  const bytes = Buffer.from(key, 'base64').length;
  return bytes >= 16 && bytes <= 64;
}
