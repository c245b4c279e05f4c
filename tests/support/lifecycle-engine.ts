/**
 * Tier 6 harness (docs/testing-tiers.md "Tier 6"): plays the Pulumi engine for several runs of a
 * program in a row, WITHOUT the CLI, carrying state between runs. A TEST HARNESS ONLY, never a
 * product path.
 *
 * The program runs under mocks (tier 4); every `pulumi-nodejs:dynamic:*` registration is routed to the
 * real provider host (tier 5) as `pulumi up` would (lifecycle-run.ts). Other resources (Azure) stay
 * mocked and are not tracked. After a successful run, dynamic resources of the previous state not
 * registered again are Deleted in reverse dependency order; a failed run deletes nothing.
 *
 * State is keyed by URN `urn:pulumi:<stack>::<project>::<type>::<name>` (parents are not visible to
 * mocks, so parent types are not part of it; names are unique per type in this project).
 */
import { isDeepStrictEqual } from 'node:util';
import type { PlainObject } from './host-grpc';
import { reveal } from './host-secrets';
import { DeploymentRun } from './lifecycle-run';
import {
  type NewResourceHandler,
  type StateResource,
  type Step,
  type StepOp,
  withSecretOutputs,
} from './lifecycle-state';
import type { ProviderHost } from './provider-host';

export {
  DeploymentError,
  type NewResourceArgs,
  type NewResourceHandler,
  type RegistrationOptions,
  type StateResource,
  type Step,
  type StepOp,
} from './lifecycle-state';

export interface RefreshReport {
  /** Resources whose outputs the provider reported different from the state. */
  changed: { urn: string; before: PlainObject; after: PlainObject }[];
  /** Resources the provider reported gone (removed from the state). */
  gone: string[];
}

export class LifecycleEngine {
  private resources: StateResource[] = [];
  /** Olds of create-before-delete replacements whose delete has not happened yet. */
  private pendingDeletes: StateResource[] = [];

  constructor(
    private readonly host: ProviderHost,
    private readonly stack = 'local',
    private readonly project = 'iothub-as-code',
  ) {}

  /** The current state, in dependency order (a resource after everything it depends on). */
  get state(): readonly StateResource[] {
    return this.resources;
  }

  find(type: string, name: string): StateResource | undefined {
    return this.resources.find((r) => r.urn === this.urnOf(type, name));
  }

  urnOf(type: string, name: string): string {
    return `urn:pulumi:${this.stack}::${this.project}::${type}::${name}`;
  }

  /**
   * One `pulumi up`. `run` runs the program with the given handler as its mocks' `onNewResource`
   * (the handler answers `undefined` for resources it leaves to the default mocks). Returns what
   * `run` returned and the steps taken. With `refresh`, reads every resource first (`up --refresh`).
   */
  async up<T>(
    run: (onNewResource: NewResourceHandler) => Promise<T>,
    options: { refresh?: boolean } = {},
  ): Promise<{ result: T; steps: Step[] }> {
    if (options.refresh) await this.refresh();
    const deployment = new DeploymentRun(this.host, this.resources, (type, name) => this.urnOf(type, name));
    let result: T;
    try {
      result = await deployment.execute(run);
    } finally {
      this.resources = deployment.state();
      this.pendingDeletes.push(...deployment.replacedOlds);
    }
    const steps = [...deployment.steps];
    const unregistered = this.resources.filter((r) => !deployment.registered.has(r.urn));
    steps.push(...(await this.deleteAll(this.pendingDeletes.splice(0), 'delete-replaced')));
    steps.push(...(await this.deleteAll(unregistered, 'delete')));
    return { result, steps };
  }

  /** `pulumi refresh`: Read every resource and keep what the provider reports. */
  async refresh(): Promise<RefreshReport> {
    const report: RefreshReport = { changed: [], gone: [] };
    const next: StateResource[] = [];
    for (const resource of this.resources) {
      const read = await this.host.read(resource.id, resource.urn, resource.outputs, resource.inputs);
      if (read.id === undefined) {
        report.gone.push(resource.urn);
        continue;
      }
      const outputs = withSecretOutputs(read.properties, resource.additionalSecretOutputs);
      if (!isDeepStrictEqual(reveal(outputs), reveal(resource.outputs))) {
        report.changed.push({ urn: resource.urn, before: resource.outputs, after: outputs });
      }
      next.push({ ...resource, id: read.id, outputs, inputs: read.inputs ?? resource.inputs });
    }
    this.resources = next;
    return report;
  }

  /** `pulumi destroy`: Delete everything in reverse dependency order. */
  async destroy(): Promise<Step[]> {
    const steps = await this.deleteAll(this.pendingDeletes.splice(0), 'delete-replaced');
    steps.push(...(await this.deleteAll(this.resources, 'delete')));
    return steps;
  }

  /**
   * Deletes sequentially, dependents first; each success leaves the state at once (as the engine).
   * A resource whose `deletedWith` target is deleted in the same operation, or that has `retainOnDelete`,
   * is not sent to the provider; a protected one fails the operation before anything is deleted (Pulumi
   * also refuses; it would go on with the others, which no test here needs).
   */
  private async deleteAll(victims: readonly StateResource[], op: StepOp): Promise<Step[]> {
    const steps: Step[] = [];
    const going = new Set(victims.map((v) => v.urn));
    const protectedOnes = victims.filter((v) => v.protect).map((v) => v.urn);
    if (protectedOnes.length > 0) {
      throw new Error(
        `lifecycle harness: refusing to delete protected resources: ${protectedOnes.join(', ')}`,
      );
    }
    for (const victim of [...victims].reverse()) {
      const skipped = victim.deletedWith !== undefined && going.has(victim.deletedWith);
      const retained = victim.retainOnDelete === true;
      if (!skipped && !retained) await this.host.delete(victim.id, victim.urn, victim.outputs);
      this.resources = this.resources.filter((r) => r !== victim);
      steps.push({ op, urn: victim.urn, ...(skipped ? { skipped } : {}), ...(retained ? { retained } : {}) });
    }
    return steps;
  }
}
