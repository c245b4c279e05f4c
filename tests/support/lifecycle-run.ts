/**
 * The steps of ONE deployment in the lifecycle harness: how the engine turns a registration into
 * Check, Diff and Create/Update/replace calls on the provider host. Registrations arrive
 * concurrently, as they do under the engine; each resolves only when its step is done, so a
 * dependent (which registers after its dependencies resolve) always completes after them.
 */
import { isDeepStrictEqual } from 'node:util';
import type * as pulumi from '@pulumi/pulumi';
import type { PlainObject } from './host-grpc';
import { reveal } from './host-secrets';
import { runAsLanguageHost } from './lifecycle-rejections';
import {
  DeploymentError,
  isDynamicType,
  type NewResourceArgs,
  type NewResourceHandler,
  type StateResource,
  type Step,
  type StepOp,
  withSecretOutputs,
} from './lifecycle-state';
import { isProviderHostError, type ProviderHost } from './provider-host';

type Identity = Pick<
  StateResource,
  'urn' | 'type' | 'name' | 'deletedWith' | 'protect' | 'retainOnDelete' | 'additionalSecretOutputs'
>;

export class DeploymentRun {
  readonly steps: Step[] = [];
  readonly registered = new Set<string>();
  /** Olds of create-before-delete replacements, deleted once the registrations are done. */
  readonly replacedOlds: StateResource[] = [];
  /** Olds deleted by a delete-before-replace; gone even if their replacement then fails. */
  private readonly deleted = new Set<StateResource>();
  /** Registered this run, in completion order: a dependent completes after its dependencies. */
  private readonly done: StateResource[] = [];
  private readonly inFlight: Promise<unknown>[] = [];
  private readonly failures: { urn: string; error: Error }[] = [];
  private readonly previous: Map<string, StateResource>;

  constructor(
    private readonly host: ProviderHost,
    previous: readonly StateResource[],
    private readonly urnOf: (type: string, name: string) => string,
  ) {
    this.previous = new Map(previous.map((r) => [r.urn, r]));
  }

  async execute<T>(run: (onNewResource: NewResourceHandler) => Promise<T>): Promise<T> {
    const handler: NewResourceHandler = (args) => {
      if (!isDynamicType(args.type)) return Promise.resolve(undefined);
      const step = this.register(args);
      this.inFlight.push(step.catch(() => undefined));
      return step;
    };
    const outcome = await runAsLanguageHost(async () => {
      try {
        return await run(handler);
      } finally {
        await Promise.all(this.inFlight);
      }
    });
    // A step's own error is the useful one; the program's failure and the SDK's re-rejections of the
    // failed registration are consequences of it.
    if (this.failures.length > 0) throw new DeploymentError(this.failures);
    if ('error' in outcome) throw outcome.error;
    if (outcome.rejections.length > 0) throw outcome.rejections[0];
    return outcome.value as T;
  }

  /** New state: this run's resources, then the previous ones not (yet) registered again. */
  state(): StateResource[] {
    const carried = [...this.previous.values()].filter(
      (r) => !this.registered.has(r.urn) && !this.deleted.has(r),
    );
    return [...this.done, ...carried];
  }

  private async register(args: NewResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const options = args.registration ?? {};
    const unsupported = [...(options.ignoreChanges ?? []), ...(options.replaceOnChanges ?? [])];
    const identity: Identity = {
      urn: this.urnOf(args.type, args.name),
      type: args.type,
      name: args.name,
      additionalSecretOutputs: options.additionalSecretOutputs ?? [],
      ...(options.deletedWith ? { deletedWith: options.deletedWith } : {}),
      ...(options.protect ? { protect: true } : {}),
      ...(options.retainOnDelete ? { retainOnDelete: true } : {}),
    };
    try {
      if (unsupported.length > 0) {
        throw new Error(
          `lifecycle harness: ignoreChanges/replaceOnChanges are not emulated (${unsupported})`,
        );
      }
      const resource = await this.apply(identity, args.inputs as PlainObject, options.deleteBeforeReplace);
      this.record(resource);
      return { id: resource.id, state: resource.outputs };
    } catch (error) {
      this.failures.push({
        urn: identity.urn,
        error: error instanceof Error ? error : new Error(String(error)),
      });
      throw error;
    }
  }

  private record(resource: StateResource): void {
    this.registered.add(resource.urn);
    this.done.push(resource);
  }

  private async apply(
    identity: Identity,
    news: PlainObject,
    deleteBeforeReplace = false,
  ): Promise<StateResource> {
    const { urn } = identity;
    const old = this.previous.get(urn);
    const checked = await this.host.check(urn, old?.inputs ?? {}, news);
    if (checked.failures.length > 0) {
      const lines = checked.failures.map((f) => `    ${f.property}: ${f.reason}`).join('\n');
      throw new Error(`Check failed for ${urn}:\n${lines}`);
    }
    const inputs = checked.inputs;
    if (!old) return this.create(identity, inputs, 'create');
    const diff = await this.host.diff(old.id, urn, old.outputs, inputs, old.inputs);
    if (diff.replaces.length > 0) {
      return this.replace(old, identity, inputs, deleteBeforeReplace || diff.deleteBeforeReplace);
    }
    // DIFF_UNKNOWN (no `diff` method): the engine falls back to comparing old and new inputs.
    const changed =
      diff.changes === 'unknown'
        ? !isDeepStrictEqual(reveal(old.inputs), reveal(inputs))
        : diff.changes === 'some';
    if (!changed) {
      this.steps.push({ op: 'same', urn });
      return { ...old, ...identity, inputs };
    }
    try {
      const updated = await this.host.update(old.id, urn, old.outputs, inputs, old.inputs);
      this.steps.push({ op: 'update', urn });
      return this.resource(identity, old.id, inputs, updated.properties);
    } catch (error) {
      this.keepInitFailure(identity, inputs, error);
      throw error;
    }
  }

  private async create(identity: Identity, inputs: PlainObject, op: StepOp): Promise<StateResource> {
    try {
      const created = await this.host.create(identity.urn, inputs);
      this.steps.push({ op, urn: identity.urn });
      return this.resource(identity, created.id, inputs, created.properties);
    } catch (error) {
      this.keepInitFailure(identity, inputs, error);
      throw error;
    }
  }

  /** The engine keeps a resource whose Create/Update failed after making it, with the outputs it sent. */
  private keepInitFailure(identity: Identity, inputs: PlainObject, error: unknown): void {
    if (!isProviderHostError(error) || !error.initFailure) return;
    const { id, properties } = error.initFailure;
    this.record(this.resource(identity, id, inputs, properties));
  }

  private resource(identity: Identity, id: string, inputs: PlainObject, outputs: PlainObject): StateResource {
    return { ...identity, id, inputs, outputs: withSecretOutputs(outputs, identity.additionalSecretOutputs) };
  }

  private async replace(
    old: StateResource,
    identity: Identity,
    inputs: PlainObject,
    deleteBeforeReplace: boolean,
  ): Promise<StateResource> {
    if (deleteBeforeReplace) {
      await this.host.delete(old.id, old.urn, old.outputs);
      this.deleted.add(old);
      this.steps.push({ op: 'delete-replaced', urn: old.urn });
      return this.create(identity, inputs, 'replace');
    }
    const created = await this.create(identity, inputs, 'replace');
    this.replacedOlds.push(old);
    return created;
  }
}
