/**
 * The one path from config values to a validated StackConfig, shared by the program (through
 * `pulumi.Config`, infra/read-stack-config.ts) and `npm run check` (through the stack file,
 * infra/stack-file-config.ts), so both report the same problems with the same messages. Pure.
 */
import type { Problem } from '../lib/problems';
import {
  CONFIG_KEYS,
  type ConfigKey,
  type StackConfig,
  StackConfigError,
  validateStackConfig,
} from './stack-config';

/** The project's config as the program receives it: each `iothub-as-code:<key>` value as a string. */
export interface StackConfigSource {
  /** The value's text (JSON for structured config), or undefined when the key is not set. */
  value(key: ConfigKey): string | undefined;
  /** Every key set under the namespace, without the `iothub-as-code:` prefix. */
  keys(): readonly string[];
  /** Whether a key holds a secret; undefined when the source cannot tell (the check is then skipped). */
  isSecret?: (key: ConfigKey) => boolean;
  /**
   * Paths (`devices[0].auth.primaryKey`) whose value is encrypted and was not decrypted: present, but its
   * content unknown, so problems at or below them are not reported (`pulumi preview` checks the content).
   */
  opaquePaths?: readonly string[];
}

/** What `Config.getObject` does with a value's text (@pulumi/pulumi config.js): JSON.parse or fail. */
function parseValue(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function under(path: string, opaque: string): boolean {
  return path === opaque || path.startsWith(`${opaque}.`) || path.startsWith(`${opaque}[`);
}

/** Every problem of the config in `source`, each once, in the order `pulumi preview` prints them. */
export function stackConfigProblems(source: StackConfigSource): {
  config?: StackConfig;
  problems: Problem[];
} {
  const problems: Problem[] = [];
  const values: Partial<Record<ConfigKey, unknown>> = {};
  const secretKeys = new Set<ConfigKey>();
  for (const key of CONFIG_KEYS) {
    const text = source.value(key);
    if (text !== undefined) {
      const parsed = parseValue(text);
      if (parsed.ok) values[key] = parsed.value;
      else {
        // getObject's own error quotes the value, which may hold a key: say only what is wrong.
        problems.push({
          path: key,
          message:
            'must be structured config (a YAML object or list in Pulumi.<stack>.yaml), not a plain string',
        });
      }
    }
    if (source.isSecret?.(key)) secretKeys.add(key);
  }
  // Sorted: the order in which the CLI hands keys to the program is not specified (a protobuf map).
  const unknownKeys = source
    .keys()
    .filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k))
    .sort();
  const result = validateStackConfig({
    ...values,
    unknownKeys,
    secretKeys: source.isSecret ? secretKeys : undefined,
  });
  const opaque = source.opaquePaths ?? [];
  // An unreadable key is reported once, as unreadable, not also as missing.
  const unreadable = new Set(problems.map((p) => p.path));
  const all = [...problems, ...(result.ok ? [] : result.problems.filter((p) => !unreadable.has(p.path)))];
  const reported = all.filter((p) => !opaque.some((o) => under(p.path, o)));
  if (reported.length > 0) return { problems: reported };
  // Problems only inside encrypted values: valid as far as can be told without decrypting.
  return { ...(result.ok ? { config: result.config } : {}), problems: [] };
}

/** Throws one StackConfigError listing every problem with its path (what `pulumi up`/`preview` prints). */
export function readStackConfigFrom(source: StackConfigSource): StackConfig {
  const { config, problems } = stackConfigProblems(source);
  if (problems.length > 0 || !config) throw new StackConfigError(problems);
  return config;
}
