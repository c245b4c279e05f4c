/**
 * How the resource classes turn public args into the props they register. Runs in the Pulumi
 * program only — provider methods never reference this file, so `@pulumi/pulumi` (a deployment-only
 * module that cannot be serialized) stays out of the serialized providers.
 */
import * as pulumi from '@pulumi/pulumi';
import { type IdentityAuthenticationArgs, splitAuthentication } from '../lib/identity-plan';

export interface HubConnectionArgs {
  /** Service connection string; the resource marks it secret. */
  hubConnectionString: pulumi.Input<string>;
  /** PEM of the local hub CA; omitted for Azure. */
  hubCaCertificate?: pulumi.Input<string>;
}

/**
 * The connection string reaches the provider as a SECRET INPUT, never through a captured variable:
 * captured values are written into the state file in clear (docs/architecture.md, pulumi/pulumi#8265).
 */
export function connectionProps(args: HubConnectionArgs): Record<string, pulumi.Input<unknown> | undefined> {
  return {
    hubConnectionString: pulumi.secret(args.hubConnectionString),
    hubCaCertificate: args.hubCaCertificate,
  };
}

/**
 * `authentication` without keys (plain, so the engine's diff shows type and thumbprints) and the
 * supplied keys as separate secret inputs (absent when the keys are generated).
 */
export function authenticationProps(
  authentication: pulumi.Input<IdentityAuthenticationArgs> | undefined,
): Record<string, pulumi.Input<unknown>> {
  if (!pulumi.Output.isInstance(authentication) && !(authentication instanceof Promise)) {
    // A plain value (the usual case; keys from config arrive as a secret Output): split it now and
    // register no key at all when the keys are generated. Every Output input costs the SDK several
    // tracked promises per resource, paid by a large stack before its first hub call
    // (docs/benchmarks.md, finding 3).
    const { authentication: spec, ...keys } = splitAuthentication(authentication);
    return Object.fromEntries([
      ['authentication', spec],
      ...Object.entries(keys).map(([name, key]) => [name, pulumi.secret(key)]),
    ]);
  }
  const split = pulumi
    .output(authentication ?? { type: 'sas' as const })
    .apply((auth) => splitAuthentication(auth));
  return {
    authentication: pulumi.unsecret(split.apply((s) => s.authentication)),
    primaryKey: pulumi.secret(split.apply((s) => s.primaryKey)),
    secondaryKey: pulumi.secret(split.apply((s) => s.secondaryKey)),
  };
}

/** The caller's options plus outputs that must be stored encrypted. */
export function withSecretOutputs(
  opts: pulumi.CustomResourceOptions | undefined,
  secretOutputs: string[],
): pulumi.CustomResourceOptions {
  return {
    ...opts,
    additionalSecretOutputs: [...new Set([...(opts?.additionalSecretOutputs ?? []), ...secretOutputs])],
  };
}

/** Output-only props: registered as `undefined` so the engine exposes them as outputs. */
export function outputSlots(names: string[]): Record<string, undefined> {
  return Object.fromEntries(names.map((name) => [name, undefined]));
}
