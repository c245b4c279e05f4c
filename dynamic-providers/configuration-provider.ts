/**
 * The Configuration provider object (what provider-table.ts lists), kept next to the other kinds' factories
 * in spirit (provider-objects.ts): each method reaches only the pure rules and the operations module, which
 * requires the SDK at call time (docs/dynamic-provider-serialization.md).
 */
import type * as pulumi from '@pulumi/pulumi';
import {
  type ConfigurationInputs,
  type ConfigurationOutputs,
  checkConfigurationInputs,
  diffConfiguration,
} from '../lib/resource-configuration-state';
import {
  createConfiguration,
  deleteConfiguration,
  readConfiguration,
  updateConfiguration,
} from './configuration-operations';

export function configurationProvider(): pulumi.dynamic.ResourceProvider<
  ConfigurationInputs,
  ConfigurationOutputs
> {
  return {
    async check(_olds, news) {
      const { inputs, failures } = checkConfigurationInputs(news as unknown as Record<string, unknown>);
      return { inputs: inputs as unknown as ConfigurationInputs, failures };
    },
    async diff(_id, olds, news) {
      return diffConfiguration(olds, news);
    },
    async create(inputs) {
      return createConfiguration(inputs);
    },
    async read(id, props) {
      return (await readConfiguration(
        id,
        props as ConfigurationOutputs,
      )) as pulumi.dynamic.ReadResult<ConfigurationOutputs>;
    },
    async update(_id, olds, news) {
      return updateConfiguration(olds, news);
    },
    async delete(_id, props) {
      await deleteConfiguration(props);
    },
  };
}
