/**
 * The data the lifecycle harness (lifecycle-engine.ts) keeps between runs, as the engine's state
 * file would: one entry per dynamic resource, in dependency order.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { PlainObject } from './host-grpc';
import { isSecret, secret } from './host-secrets';

/** Resource options the engine honours that the mocks' `newResource` args do not carry. */
export interface RegistrationOptions {
  /** URN of a resource whose deletion makes this one's delete unnecessary (skipped). */
  deletedWith?: string;
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs?: string[];
  ignoreChanges?: string[];
  replaceOnChanges?: string[];
  /** The engine refuses to delete a protected resource. */
  protect?: boolean;
  /** The engine drops a retained resource from state without calling the provider's delete. */
  retainOnDelete?: boolean;
}

/** What program-under-mocks passes (`registration` present) or plain mocks do (absent). */
export type NewResourceArgs = pulumi.runtime.MockResourceArgs & { registration?: RegistrationOptions };

export type NewResourceHandler = (
  args: NewResourceArgs,
) => Promise<pulumi.runtime.MockResourceResult | undefined>;

export interface StateResource {
  urn: string;
  type: string;
  name: string;
  id: string;
  /** Checked inputs, secrets marked (host-secrets.ts convention). */
  inputs: PlainObject;
  outputs: PlainObject;
  deletedWith?: string;
  protect?: boolean;
  retainOnDelete?: boolean;
  additionalSecretOutputs: string[];
}

export type StepOp = 'create' | 'update' | 'same' | 'replace' | 'delete' | 'delete-replaced';

export interface Step {
  op: StepOp;
  urn: string;
  /** A delete not sent to the provider because the resource's `deletedWith` target went too. */
  skipped?: boolean;
  /** A delete not sent to the provider because the resource has `retainOnDelete`. */
  retained?: boolean;
}

/** Thrown by `up` when any step failed; `failures` keeps each step's own error. */
export class DeploymentError extends Error {
  constructor(readonly failures: { urn: string; error: Error }[]) {
    super(`Deployment failed:\n${failures.map((f) => `  ${f.urn}: ${f.error.message}`).join('\n')}`);
    this.name = 'DeploymentError';
  }
}

export const isDynamicType = (type: string): boolean => type.startsWith('pulumi-nodejs:dynamic');

/** `additionalSecretOutputs`: the engine stores these outputs as secrets whatever the provider says. */
export function withSecretOutputs(outputs: PlainObject, names: readonly string[]): PlainObject {
  const result = { ...outputs };
  for (const name of names) {
    if (name in result && !isSecret(result[name])) result[name] = secret(result[name]);
  }
  return result;
}
