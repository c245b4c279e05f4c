/**
 * Reads the `iothub-as-code:*` keys from the stack and validates them through the path `npm run check`
 * shares (infra/stack-config-source.ts). Values
 * are read in plain form because the program's shape (Azure or local, which devices) depends on
 * them; everything sensitive is wrapped in `pulumi.secret` where it becomes a resource input.
 */
import * as pulumi from '@pulumi/pulumi';
import type { Problem } from '../lib/problems';
import { CONFIG_NAMESPACE, type StackConfig, StackConfigError } from './stack-config';
import { readStackConfigFrom } from './stack-config-source';

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
  return readStackConfigFrom({
    // `get`, as `getObject` reads it; the JSON parsing is the shared path's (infra/stack-config-source.ts).
    value: (key) => config.get(key),
    keys: namespaceKeys,
    isSecret: isSecret ? (key) => isSecret(`${CONFIG_NAMESPACE}:${key}`) : undefined,
  });
}

/**
 * `runtime.isConfigSecret` is what `Config.get` itself consults, but it is marked internal (absent
 * from the typings). If a future SDK drops it, the clear-text-secret check is skipped, not failed.
 */
const isSecret: ((key: string) => boolean) | undefined = (() => {
  const fn = (pulumi.runtime as { isConfigSecret?: unknown }).isConfigSecret;
  return typeof fn === 'function' ? (fn as (key: string) => boolean) : undefined;
})();

/** Every key set under the namespace; the shared path reports those that are not hub/devices/configurations. */
function namespaceKeys(): string[] {
  const prefix = `${CONFIG_NAMESPACE}:`;
  return Object.keys(pulumi.runtime.allConfig())
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
}
