/**
 * The two ways of putting D devices × M modules, each module with a twin, into a hub:
 *  - `seedScript`: what a seed script does — one plain azure-iothub Registry (keep-alive, through the
 *    project's client factory, docs/iot-hub-behaviour.md §4), one call after another;
 *  - `deployStack`: the project's stack — index.ts under mocks with those devices in its config, every
 *    dynamic resource handled by the real dynamic-provider host, as `pulumi up` would (test tier 6
 *    harness, whose engine runs independent registrations concurrently like the CLI's default
 *    unbounded `--parallel`), each receiving the `__provider` text `pulumi up` would send.
 * Both create the same identities and write the same desired properties.
 */
import type * as pulumi from '@pulumi/pulumi';
import { createHubClient } from '../dynamic-providers/iothub-client';
import { DeploymentError, LifecycleEngine, type NewResourceHandler } from '../tests/support/lifecycle-engine';
import { runProgramUnderMocks } from '../tests/support/program-under-mocks';
import type { ProviderHost } from '../tests/support/provider-host';
import type { HubTarget } from './provider-lifecycles';
import { type ProviderTexts, providerText, writeCaFile } from './pulumi-up-providers';

export interface StackShape {
  devices: number;
  modulesPerDevice: number;
}

export const deviceIdOf = (d: number) => `scale-d${String(d).padStart(4, '0')}`;
export const moduleIdOf = (m: number) => `m${String(m).padStart(2, '0')}`;
const desiredOf = (d: number, m: number) => ({ telemetryInterval: 30 + m, site: `site-${d % 7}` });

export async function seedScript(target: HubTarget, shape: StackShape): Promise<void> {
  const { registry } = createHubClient(target.connectionString, { caCertificate: target.caCertificate });
  for (let d = 0; d < shape.devices; d++) {
    const deviceId = deviceIdOf(d);
    await registry.create({ deviceId, status: 'enabled' } as any);
    for (let m = 0; m < shape.modulesPerDevice; m++) {
      await registry.addModule({ deviceId, moduleId: moduleIdOf(m) } as any);
      await registry.updateModuleTwin(
        deviceId,
        moduleIdOf(m),
        { properties: { desired: desiredOf(d, m) } },
        '*',
      );
    }
  }
}

/** `iothub-as-code:devices` for the shape (docs/stack-config.md). */
export function devicesConfig(shape: StackShape): unknown[] {
  return Array.from({ length: shape.devices }, (_, d) => ({
    deviceId: deviceIdOf(d),
    modules: Array.from({ length: shape.modulesPerDevice }, (_, m) => ({
      moduleId: moduleIdOf(m),
      twin: { desired: desiredOf(d, m) },
    })),
  }));
}

export interface StackRun {
  created: number;
  failed: number;
  /** First few failure messages (already free of secrets: the providers redact them). */
  failures: string[];
}

/**
 * The program runs in this (tsx) process, but each dynamic resource reaches the host with the
 * `__provider` text `pulumi up` would send: the ts-node-compiled one (bench/pulumi-up-providers.ts).
 */
function withPulumiUpProviders(handler: NewResourceHandler, texts: ProviderTexts): NewResourceHandler {
  return (args: pulumi.runtime.MockResourceArgs) => {
    if (typeof args.inputs['__provider'] !== 'string') return handler(args);
    return handler({ ...args, inputs: { ...args.inputs, __provider: providerText(texts, args.type) } });
  };
}

/** One `pulumi up` of the stack from empty state. Failed resources are counted, not thrown. */
export async function deployStack(
  target: HubTarget,
  host: ProviderHost,
  texts: ProviderTexts,
  shape: StackShape,
): Promise<StackRun> {
  const ca = writeCaFile(target.caCertificate);
  const config = {
    'iothub-as-code:hub': {
      mode: 'local',
      local: { connectionString: target.connectionString, caCertificatePath: ca.caPath },
    },
    'iothub-as-code:devices': devicesConfig(shape),
  };
  const engine = new LifecycleEngine(host);
  try {
    const { steps } = await engine.up((onNewResource) =>
      runProgramUnderMocks({
        stack: 'local',
        config,
        onNewResource: withPulumiUpProviders(onNewResource, texts),
      }),
    );
    return {
      created: steps.filter((s) => s.op === 'create').length,
      failed: 0,
      failures: [],
    };
  } catch (error) {
    if (!(error instanceof DeploymentError)) throw error;
    return {
      created: engine.state.length,
      failed: error.failures.length,
      failures: error.failures.slice(0, 3).map((f) => `${f.urn.split('::').pop()}: ${f.error.message}`),
    };
  } finally {
    ca.remove();
  }
}
