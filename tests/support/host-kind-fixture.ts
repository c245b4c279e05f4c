/**
 * Per-file set-up of the tier 5 resource-kind tests: a local hub, ONE provider host process reused
 * by every case of the file, the program's dynamic resources captured for a given stack, and the
 * official service SDK (through the project's client factory) to observe the hub.
 */
import * as assert from 'node:assert/strict';
import type { Registry } from 'azure-iothub';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import type { PlainObject } from './host-grpc';
import {
  type CapturedResource,
  captureDynamicResources,
  capturedNamed,
  localStackConfig,
  localUrn,
  type ProgramHub,
  startProgramHub,
} from './host-program';
import { type ProviderHost, startProviderHost } from './provider-host';

export interface KindFixture {
  target: ProgramHub;
  host: ProviderHost;
  /** The official Registry, aimed at the same hub. */
  registry: Registry;
  /** The program's registration of `name`: type, inputs (secrets marked, `__provider`) and URN. */
  resource(name: string): CapturedResource & { urn: string };
  /** Check that must pass; returns the checked inputs. `changes` overlays the captured inputs. */
  checked(name: string, changes?: PlainObject): Promise<PlainObject>;
  close(): Promise<void>;
}

export async function startKindFixture(devices: unknown[]): Promise<KindFixture> {
  const target = await startProgramHub();
  let host: ProviderHost | undefined;
  try {
    const resources = await captureDynamicResources(localStackConfig(target, devices));
    host = await startProviderHost();
    const { registry } = createHubClient(target.connectionString, {
      caCertificate: target.hub.caCertificatePem,
    });
    const resource = (name: string) => {
      const captured = capturedNamed(resources, name);
      return { ...captured, urn: localUrn(captured) };
    };
    const started = host;
    return {
      target,
      host: started,
      registry,
      resource,
      checked: async (name, changes = {}) => {
        const { urn, inputs } = resource(name);
        const result = await started.check(urn, {}, { ...inputs, ...changes });
        assert.deepEqual(result.failures, [], `Check of ${name} should pass`);
        return result.inputs;
      },
      close: async () => {
        await started.close();
        await target.close();
      },
    };
  } catch (error) {
    await host?.close();
    await target.close();
    throw error;
  }
}

/** Resolves when the SDK call fails with the hub's 404 (the SDK's error names differ per call). */
export async function assertHubNotFound(call: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(call, (error: Error & { response?: { statusCode?: number } }) => {
    const status = error.response?.statusCode;
    assert.ok(
      status === 404 || /not ?found/i.test(error.message),
      `${what}: expected 404, got ${error.message}`,
    );
    return true;
  });
}
