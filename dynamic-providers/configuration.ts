/**
 * Configuration: an automatic device or module configuration (docs/iot-hub-behaviour.md §8.4): one object with
 * a target condition and a priority that sets desired properties on every matching twin, with custom metric
 * queries. Owned by the stack as a whole: a refresh shows changes made elsewhere. Content is immutable on the
 * hub, so changing it replaces the configuration; the rest is updated in place (with the etag).
 * How it meets a ModuleTwin that owns the same leaf: docs/twin-ownership.md.
 */
import * as pulumi from '@pulumi/pulumi';
import type { WaitForConvergence } from '../lib/configuration-convergence';
import { HOST_PROVIDERS } from './host-loaded-provider';
import { connectionProps, type HubConnectionArgs, outputSlots, withSecretOutputs } from './resource-props';

export interface ConfigurationArgs extends HubConnectionArgs {
  /** Lower-case letters, digits and - : + % _ # * ? ! ( ) , = @ ; $ ', at most 128. */
  configurationId: pulumi.Input<string>;
  /** Desired-property paths → values for device twins, e.g. `{"properties.desired.telemetryInterval": 30}`. */
  deviceContent?: pulumi.Input<Record<string, unknown>>;
  /** The same for module twins (then `targetCondition` is `FROM devices.modules WHERE …`). */
  moduleContent?: pulumi.Input<Record<string, unknown>>;
  /** Which twins: e.g. `tags.ring='0'`, or `FROM devices.modules WHERE moduleId='m' AND tags.site='a'`. */
  targetCondition: pulumi.Input<string>;
  /** Non-negative; on a twin two configurations target, the highest priority wins. Default 0. */
  priority?: pulumi.Input<number>;
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Custom metrics: name → query (counted by the hub on request). */
  metrics?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * After create or update, wait until at least `minimum.count` twins or `minimum.percent` of the targeted
   * twins have it applied and are counted by the metric `successMetric` (e.g. acks with `ac = 200`);
   * `onTimeout: 'warn'` succeeds with a warning instead of failing. Never causes an update by itself.
   */
  waitForConvergence?: pulumi.Input<WaitForConvergenceArgs>;
}

export interface WaitForConvergenceArgs {
  minimum: pulumi.Input<{ count?: pulumi.Input<number>; percent?: pulumi.Input<number> }>;
  successMetric: pulumi.Input<string>;
  timeoutSeconds: pulumi.Input<number>;
  onTimeout?: pulumi.Input<WaitForConvergence['onTimeout']>;
}

export class Configuration extends pulumi.dynamic.Resource {
  declare readonly configurationId: pulumi.Output<string>;
  declare readonly deviceContent: pulumi.Output<Record<string, unknown> | undefined>;
  declare readonly moduleContent: pulumi.Output<Record<string, unknown> | undefined>;
  declare readonly targetCondition: pulumi.Output<string>;
  declare readonly priority: pulumi.Output<number>;
  declare readonly labels: pulumi.Output<Record<string, string>>;
  declare readonly metrics: pulumi.Output<Record<string, string>>;
  /** The hub's etag after the last write or refresh. */
  declare readonly etag: pulumi.Output<string>;

  constructor(name: string, args: ConfigurationArgs, opts?: pulumi.CustomResourceOptions) {
    const props = {
      ...connectionProps(args),
      configurationId: args.configurationId,
      deviceContent: args.deviceContent,
      moduleContent: args.moduleContent,
      targetCondition: args.targetCondition,
      priority: args.priority ?? 0,
      labels: args.labels ?? {},
      metrics: args.metrics ?? {},
      waitForConvergence: args.waitForConvergence,
      ...outputSlots(['etag']),
    };
    super(
      HOST_PROVIDERS.Configuration,
      name,
      props,
      withSecretOutputs(opts, ['hubConnectionString']),
      'iothub',
      'Configuration',
    );
  }
}
