/**
 * The fleet the fleet-configuration benchmark changes: N module identities on N / 50 devices, each tagged
 * `tags.ring='0'`, created through the hub's bulk registry operation (POST /devices, 100 entries per request,
 * docs/iot-hub-behaviour.md §1.2) with keys chosen here, so each module's SAS token needs no read back.
 * Untimed set-up: identity creation is not the path being measured.
 */
import { randomBytes } from 'node:crypto';
import type { HubClient } from '../dynamic-providers/iothub-client';
import { SERVICE_API_VERSION } from '../dynamic-providers/iothub-client';
import { deviceSasToken } from '../tests/support/local-hub-fixture';
import type { ClientIdentity } from './fan-out-clients';

const MODULES_PER_DEVICE = 50;
const BULK_ENTRIES = 100;

export const FLEET_TAG = { ring: '0' } as const;

export interface FleetModule {
  deviceId: string;
  moduleId: string;
}

export function fleetModules(n: number): FleetModule[] {
  return Array.from({ length: n }, (_, i) => ({
    deviceId: `fleet-d${String(Math.floor(i / MODULES_PER_DEVICE)).padStart(3, '0')}`,
    moduleId: `m${String(i % MODULES_PER_DEVICE).padStart(2, '0')}`,
  }));
}

function bulk(rest: HubClient['rest'], entries: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    rest.executeApiCall(
      'POST',
      `/devices?api-version=${SERVICE_API_VERSION}`,
      { 'Content-Type': 'application/json; charset=utf-8' },
      entries,
      (error: Error | null | undefined, result: unknown) => {
        if (error) return reject(error);
        const outcome = result as { isSuccessful?: boolean; errors?: unknown[] };
        if (outcome?.isSuccessful === false) {
          return reject(new Error(`bulk create failed: ${JSON.stringify(outcome.errors?.slice(0, 3))}`));
        }
        resolve();
      },
    );
  });
}

/** Creates the devices and the tagged modules; returns each module's MQTT identity (SAS token as password). */
export async function registerFleet(
  client: HubClient,
  modules: readonly FleetModule[],
): Promise<ClientIdentity[]> {
  const entries: unknown[] = [...new Set(modules.map((m) => m.deviceId))].map((id) => ({
    id,
    importMode: 'create',
  }));
  const identities = modules.map(({ deviceId, moduleId }) => {
    const key = randomBytes(32).toString('base64');
    entries.push({
      id: deviceId,
      moduleId,
      importMode: 'create',
      authentication: { type: 'sas', symmetricKey: { primaryKey: key, secondaryKey: key } },
      tags: FLEET_TAG,
    });
    return {
      deviceId,
      moduleId,
      password: deviceSasToken({ hostName: client.hostName, deviceId, moduleId, key }),
    };
  });
  // Devices first (their own requests), so every module entry finds its device.
  for (let i = 0; i < entries.length; i += BULK_ENTRIES)
    await bulk(client.rest, entries.slice(i, i + BULK_ENTRIES));
  return identities;
}
