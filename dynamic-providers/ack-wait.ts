/**
 * ModuleTwin `waitForAck` (issue #4 item 5): after a desired write, poll the module twin until the
 * device has acknowledged the written `$version` on every owned top-level key, IoT Plug and Play
 * style (docs/device-runtime.md "Acknowledgements"; the rule itself is lib/pnp-ack.ts, shared with the
 * device runtime). Like Pulumi's Kubernetes provider, the wait has a per-resource timeout and an
 * opt-out (`onTimeout: 'warn'`).
 */
import type { Registry } from 'azure-iothub';
import { evaluateAcks } from '../lib/pnp-ack';
import { hubTwinFromSdk, type WaitForAck } from '../lib/resource-twin-state';
import { withRetry } from './with-retry';

/**
 * Poll interval: fast enough to feel immediate, slow enough to stay far below the twin-read throttle
 * (docs/iot-hub-behaviour.md §5).
 */
const POLL_INTERVAL_MS = 300;

export interface AckTarget {
  hub: { registry: Registry; hostName: string };
  deviceId: string;
  moduleId: string;
  label: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once converged. Rejects when the device reports a non-200 code (with its `ad`), or at the
 * timeout unless `onTimeout` is 'warn' (then it logs a warning and resolves).
 */
export async function waitForAcks(
  target: AckTarget,
  ownedKeys: string[],
  writtenVersion: number,
  wait: WaitForAck,
): Promise<void> {
  if (ownedKeys.length === 0) return;
  const deadline = Date.now() + wait.timeoutSeconds * 1000;
  let pending = ownedKeys;
  while (Date.now() < deadline) {
    await sleep(Math.max(0, Math.min(POLL_INTERVAL_MS, deadline - Date.now())));
    const { registry, hostName } = target.hub;
    const result = await withRetry(() => registry.getModuleTwin(target.deviceId, target.moduleId), {
      paced: { hostName, lane: 'twinRead' },
    });
    const evaluation = evaluateAcks(hubTwinFromSdk(result.responseBody).reported, ownedKeys, writtenVersion);
    if (evaluation.converged) return;
    if (evaluation.failures.length > 0) {
      const described = evaluation.failures
        .map((f) => `${f.key} (ac ${f.ac}${f.ad !== undefined ? `: ${f.ad}` : ''})`)
        .join(', ');
      throw new Error(
        `${target.label}: the device rejected desired properties at $version ${writtenVersion}: ${described}`,
      );
    }
    pending = evaluation.pending;
  }
  const message =
    `${target.label}: the device did not acknowledge desired $version ${writtenVersion} within ` +
    `${wait.timeoutSeconds}s (still pending: ${pending.join(', ')}); is the module running and connected?`;
  if (wait.onTimeout !== 'warn') throw new Error(message);
  // Required here, not imported: @pulumi/pulumi is a deployment-only module the serializer cannot capture.
  const pulumi: typeof import('@pulumi/pulumi') = require('@pulumi/pulumi');
  await pulumi.log.warn(message);
}
