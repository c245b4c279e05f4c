/**
 * The provider objects Pulumi serializes into each resource's `__provider`. Both identity kinds and
 * both twin kinds differ only in which ids they carry, so one factory per family builds them; the
 * per-kind files keep the public args and the resource class (Pulumi's dynamic-provider layout).
 *
 * Serialization: each method reaches only `kind`, the check function and the operations modules
 * (which require the SDK at call time); see docs/dynamic-provider-serialization.md.
 */
import type * as pulumi from '@pulumi/pulumi';
import { checkTwinInputs } from '../lib/resource-checks';
import { diffIdentity, diffTwin } from '../lib/resource-diff';
import type { IdentityInputs, IdentityOutputs } from '../lib/resource-identity-state';
import type { TwinInputs, TwinOutputs } from '../lib/resource-twin-state';
import { createIdentity, deleteIdentity, readIdentity, updateIdentity } from './identity-operations';
import { createTwin, deleteTwin, readTwin, updateTwin } from './twin-operations';

type Kind = 'device' | 'module';
type CheckFn = (news: Record<string, unknown>) => {
  inputs: unknown;
  failures: pulumi.dynamic.CheckFailure[];
};

export function identityProvider<I extends IdentityInputs, O extends IdentityOutputs>(
  kind: Kind,
  // Not named `check`: Pulumi's serializer would read it inside the method `check` as the method itself.
  checkInputs: CheckFn,
): pulumi.dynamic.ResourceProvider<I, O> {
  return {
    async check(_olds, news) {
      const { inputs, failures } = checkInputs(news as unknown as Record<string, unknown>);
      return { inputs: inputs as I, failures };
    },
    async diff(_id, olds, news) {
      return diffIdentity(olds, news);
    },
    async create(inputs) {
      const { id, outs } = await createIdentity(kind, inputs);
      return { id, outs: outs as O };
    },
    async read(id, props) {
      return (await readIdentity(kind, id, props as O)) as pulumi.dynamic.ReadResult<O>;
    },
    async update(_id, olds, news) {
      const { outs } = await updateIdentity(kind, olds, news);
      return { outs: outs as O };
    },
    async delete(_id, props) {
      await deleteIdentity(kind, props);
    },
  };
}

export function twinProvider(kind: Kind): pulumi.dynamic.ResourceProvider<TwinInputs, TwinOutputs> {
  return {
    async check(_olds, news) {
      const { inputs, failures } = checkTwinInputs(kind, news as unknown as Record<string, unknown>);
      return { inputs: inputs as unknown as TwinInputs, failures };
    },
    async diff(_id, olds, news) {
      return diffTwin(olds, news);
    },
    async create(inputs) {
      return createTwin(inputs);
    },
    async read(id, props) {
      return (await readTwin(id, props as TwinOutputs)) as pulumi.dynamic.ReadResult<TwinOutputs>;
    },
    async update(_id, olds, news) {
      return updateTwin(olds, news);
    },
    async delete(_id, props) {
      await deleteTwin(props);
    },
  };
}
