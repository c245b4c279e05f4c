/**
 * Reads `iothub-as-code:hub` and `iothub-as-code:devices` from the stack and validates them. Values
 * are read in plain form because the program's shape (Azure or local, which devices) depends on
 * them; everything sensitive is wrapped in `pulumi.secret` where it becomes a resource input.
 */
import * as pulumi from '@pulumi/pulumi';
import type { Problem } from '../lib/problems';
import {
  CONFIG_KEYS,
  CONFIG_NAMESPACE,
  type ConfigKey,
  type StackConfig,
  StackConfigError,
  validateStackConfig,
} from './stack-config';

/**
 * A RunError, so the CLI prints the problem list alone, without a stack trace (cmd/run/run.js);
 * `isStackConfigError` recognises it like the pure StackConfigError.
 */
export class StackConfigRunError extends pulumi.RunError {
  readonly problems: readonly Problem[];
  constructor(error: StackConfigError) {
    super(error.message);
    this.name = 'StackConfigError';
    this.problems = error.problems;
  }
}

/** Throws one error listing every problem with its path (what `pulumi up`/`preview` prints). */
export function readStackConfig(): StackConfig {
  try {
    return readAndValidate();
  } catch (error) {
    throw error instanceof StackConfigError ? new StackConfigRunError(error) : error;
  }
}

function readAndValidate(): StackConfig {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const problems: Problem[] = [];
  const values: Partial<Record<ConfigKey, unknown>> = {};
  const secretKeys = new Set<ConfigKey>();
  for (const key of CONFIG_KEYS) {
    try {
      values[key] = config.getObject<unknown>(key);
    } catch {
      // getObject's own error quotes the value, which may hold a key: say only what is wrong.
      problems.push({
        path: key,
        message:
          'must be structured config (a YAML object or list in Pulumi.<stack>.yaml), not a plain string',
      });
    }
    if (isSecret?.(`${CONFIG_NAMESPACE}:${key}`)) secretKeys.add(key);
  }
  const result = validateStackConfig({
    ...values,
    unknownKeys: unknownKeys(),
    secretKeys: isSecret ? secretKeys : undefined,
  });
  if (result.ok && problems.length === 0) return result.config;
  // An unreadable key is reported once, as unreadable, not also as missing.
  const unreadable = new Set(problems.map((p) => p.path));
  throw new StackConfigError([
    ...problems,
    ...(result.ok ? [] : result.problems.filter((p) => !unreadable.has(p.path))),
  ]);
}

/**
 * `runtime.isConfigSecret` is what `Config.get` itself consults, but it is marked internal (absent
 * from the typings). If a future SDK drops it, the clear-text-secret check is skipped, not failed.
 */
const isSecret: ((key: string) => boolean) | undefined = (() => {
  const fn = (pulumi.runtime as { isConfigSecret?: unknown }).isConfigSecret;
  return typeof fn === 'function' ? (fn as (key: string) => boolean) : undefined;
})();

/** Keys under the namespace other than hub/devices: almost always a typo (`device`, `hubs`). */
function unknownKeys(): string[] {
  const prefix = `${CONFIG_NAMESPACE}:`;
  return Object.keys(pulumi.runtime.allConfig())
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k));
}
