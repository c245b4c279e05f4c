/**
 * Create / read / update / delete of an automatic device or module configuration (docs/iot-hub-behaviour.md
 * §8.4) through the Registry built by iothub-client.ts: `addConfiguration` (PUT without If-Match: 409 if the
 * id exists), `getConfiguration`, `updateConfiguration` (PUT with If-Match = the etag of the last write or
 * read; on 412 re-read for the fresh etag and write again: the stack owns the whole object), and
 * `removeConfiguration` (a configuration already gone is fine). Calls: create 1, update 1 (+1 per 412),
 * read 1, delete 1. Rules and shapes are pure in lib/resource-configuration-state.ts.
 *
 * Every call, the convergence wait's polls included, is paced in the hub's `configuration` lane
 * (hub-pacer.ts): IoT Hub allows 20 configuration operations per minute per unit on every tier
 * (docs/iot-hub-behaviour.md §5), so a stack with several configurations meets 429s early.
 */
import type { Configuration, Registry } from 'azure-iothub';
import {
  type ConfigurationInputs,
  type ConfigurationOutputs,
  configurationBody,
  configurationInputsFromOutputs,
  configurationOutputs,
  contentKindOf,
} from '../lib/resource-configuration-state';
import { waitForConvergence } from './configuration-convergence';
import { hubOperationError, isAlreadyExists, isEtagMismatch, isNotFound, resourceLabel } from './hub-errors';
import type { PacedLane } from './hub-pacer';
import { createHubClient } from './iothub-client';
import { withRetry } from './with-retry';

/** Another writer (a portal edit, a second stack) between our read and write: re-read a few times. */
const ETAG_ATTEMPTS = 5;

/** The registry of one hub, and the pacing lane its configuration calls share. */
interface ConfigurationHub {
  registry: Registry;
  lane: PacedLane;
}

function connect(source: ConfigurationInputs) {
  const client = createHubClient(source.hubConnectionString, { caCertificate: source.hubCaCertificate });
  const label = resourceLabel('Configuration', source.configurationId, client.hostName);
  const key = /SharedAccessKey=([^;]+)/.exec(source.hubConnectionString)?.[1];
  const lane: PacedLane = { hostName: client.hostName, lane: 'configuration' };
  return { registry: client.registry, lane, label, secrets: [source.hubConnectionString, key] };
}

async function getConfiguration({ registry, lane }: ConfigurationHub, id: string): Promise<unknown> {
  const result = await withRetry(() => registry.getConfiguration(id), { paced: lane });
  return plain(result.responseBody);
}

/** The SDK hands back parsed JSON (and, for some calls, class instances): keep plain data only. */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

export async function createConfiguration(
  inputs: ConfigurationInputs,
): Promise<{ id: string; outs: ConfigurationOutputs }> {
  const { registry, lane, label, secrets } = connect(inputs);
  try {
    const result = await withRetry(
      () => registry.addConfiguration(configurationBody(inputs) as unknown as Configuration),
      { paced: lane },
    );
    const outs = withWait(
      configurationOutputs(inputs, contentKindOf(inputs), plain(result.responseBody)),
      inputs,
    );
    await converge({ registry, lane }, label, inputs, outs);
    return { id: inputs.configurationId, outs };
  } catch (err) {
    if (isConvergenceFailure(err)) throw err;
    const error = hubOperationError(label, 'create', err, secrets);
    if (isAlreadyExists(err)) {
      error.message +=
        '; a configuration with this id already exists on the hub (created outside this stack?): delete it, or choose another configurationId';
    }
    throw error;
  }
}

export async function updateConfiguration(
  olds: ConfigurationOutputs,
  news: ConfigurationInputs,
): Promise<{ outs: ConfigurationOutputs }> {
  const { registry, lane, label, secrets } = connect(news);
  let etag = olds.etag || undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const body = configurationBody(news, etag) as unknown as Configuration;
        // Without an etag (state from an interrupted create) the write is unconditional.
        const result = await withRetry(() => registry.updateConfiguration(body, etag === undefined), {
          paced: lane,
        });
        const outs = withWait(
          configurationOutputs(news, contentKindOf(news), plain(result.responseBody)),
          news,
        );
        await converge({ registry, lane }, label, news, outs);
        return { outs };
      } catch (err) {
        if (isConvergenceFailure(err) || !isEtagMismatch(err) || attempt >= ETAG_ATTEMPTS) throw err;
        const current = (await getConfiguration({ registry, lane }, news.configurationId)) as {
          etag?: unknown;
        };
        etag = typeof current?.etag === 'string' ? current.etag : undefined;
      }
    }
  } catch (err) {
    if (isConvergenceFailure(err)) throw err;
    throw hubOperationError(label, 'update', err, secrets);
  }
}

export async function readConfiguration(
  id: string,
  props: ConfigurationOutputs | ConfigurationInputs,
): Promise<{ id?: string; props?: ConfigurationOutputs; inputs?: ConfigurationInputs }> {
  const previous = { ...props, configurationId: props.configurationId ?? id };
  const { registry, lane, label, secrets } = connect(previous);
  let hub: unknown;
  try {
    hub = await getConfiguration({ registry, lane }, previous.configurationId);
  } catch (err) {
    if (isNotFound(err)) return {};
    throw hubOperationError(label, 'read', err, secrets);
  }
  const outs = withWait(configurationOutputs(previous, contentKindOf(previous), hub), previous);
  return { id, props: outs, inputs: configurationInputsFromOutputs(outs) };
}

export async function deleteConfiguration(props: ConfigurationOutputs): Promise<void> {
  const { registry, lane, label, secrets } = connect(props);
  try {
    await withRetry(() => registry.removeConfiguration(props.configurationId), { paced: lane });
  } catch (err) {
    if (!isNotFound(err)) throw hubOperationError(label, 'delete', err, secrets);
  }
}

/** Outputs echo `waitForConvergence` (read by nobody on the hub; no key when absent: no `undefined`). */
function withWait(outs: ConfigurationOutputs, inputs: ConfigurationInputs): ConfigurationOutputs {
  if (inputs.waitForConvergence !== undefined) outs.waitForConvergence = inputs.waitForConvergence;
  return outs;
}

function isConvergenceFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'convergenceFailure' in err;
}

/**
 * The configuration is written: a failed wait is reported as created/updated-but-not-ready, so the state
 * keeps it (the engine's "resource initialization failed" path; the next `up` retries), as ModuleTwin's
 * waitForAck does (twin-operations.ts).
 */
async function converge(
  { registry, lane }: ConfigurationHub,
  label: string,
  inputs: ConfigurationInputs,
  outs: ConfigurationOutputs,
): Promise<void> {
  if (inputs.waitForConvergence === undefined) return;
  try {
    await waitForConvergence({ registry, lane, label }, inputs, inputs.waitForConvergence);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    throw Object.assign(error, {
      convergenceFailure: true,
      id: inputs.configurationId,
      properties: outs,
      reasons: [error.message],
    });
  }
}
