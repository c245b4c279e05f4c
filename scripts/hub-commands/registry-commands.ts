/**
 * `devices`, `modules`, `twin` and `query` through the official service SDK's Registry, built by the
 * project's client factory (dynamic-providers/iothub-client.ts). Each returns the exit code; output
 * goes through `io`, shaped by lib/hub-command-format.ts and lib/twin-view.ts (docs/hub-commands.md).
 */
import { readFileSync } from 'node:fs';
import { createHubClient } from '../../dynamic-providers/iothub-client';
import { buildDeviceConnectionString } from '../../lib/connection-string';
import { HUB_EXIT, type HubCommandAction, type HubCommandRequest } from '../../lib/hub-command-args';
import {
  deviceRowFromTwin,
  formatDeviceRows,
  formatIdentityView,
  formatModuleRows,
  formatQueryResults,
  identityView,
  moduleRow,
} from '../../lib/hub-command-format';
import { isJsonObject, type JsonObject, type JsonValue } from '../../lib/json-types';
import { formatTwinSummary, summarizeTwin } from '../../lib/twin-view';
import type { HubTarget } from './hub-target';

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

type RegistryAction = Exclude<HubCommandAction, { command: 'telemetry tail' }>;

/** Reads of a page; the SDK's own default is 100 per page, IoT Hub's maximum 1000. */
const QUERY_PAGE_SIZE = 1000;

/** What the failure message names when the hub answers 404. */
export function targetOf(action: HubCommandAction): { target?: string; deviceId?: string } {
  if (!('deviceId' in action) || action.deviceId === undefined) return {};
  const moduleId = 'moduleId' in action ? action.moduleId : undefined;
  return {
    target:
      moduleId === undefined
        ? `device "${action.deviceId}"`
        : `module "${moduleId}" of device "${action.deviceId}"`,
    deviceId: action.deviceId,
  };
}

export async function runRegistryCommand(
  action: RegistryAction,
  request: HubCommandRequest,
  hub: HubTarget,
  io: CommandIo,
): Promise<number> {
  const { registry } = createHubClient(
    hub.connectionString,
    hub.caPem === undefined ? {} : { caCertificate: hub.caPem },
  );
  const print = (json: unknown, text: () => string) =>
    io.out(request.json ? JSON.stringify(json, null, 2) : text());
  switch (action.command) {
    case 'devices list': {
      const rows = (await queryAll(registry, 'SELECT * FROM devices'))
        .filter(isJsonObject)
        .map(deviceRowFromTwin);
      rows.sort((a, b) => a.deviceId.localeCompare(b.deviceId));
      print(rows, () => formatDeviceRows(rows));
      return HUB_EXIT.ok;
    }
    case 'devices show': {
      const { responseBody } = await registry.get(action.deviceId);
      const view = identityView(plain(responseBody), request.showKeys, (key) =>
        buildDeviceConnectionString({
          hostName: hub.hostName,
          deviceId: action.deviceId,
          sharedAccessKey: key,
        }),
      );
      print(view, () => formatIdentityView(view));
      return HUB_EXIT.ok;
    }
    case 'modules list': {
      const { responseBody } = await registry.getModulesOnDevice(action.deviceId);
      const rows = (responseBody as unknown[]).map((m) => moduleRow(plain(m)));
      rows.sort((a, b) => a.moduleId.localeCompare(b.moduleId));
      print(rows, () => formatModuleRows(action.deviceId, rows));
      return HUB_EXIT.ok;
    }
    case 'modules show': {
      const { responseBody } = await registry.getModule(action.deviceId, action.moduleId);
      const view = identityView(plain(responseBody), request.showKeys, (key) =>
        buildDeviceConnectionString({
          hostName: hub.hostName,
          deviceId: action.deviceId,
          moduleId: action.moduleId,
          sharedAccessKey: key,
        }),
      );
      print(view, () => formatIdentityView(view));
      return HUB_EXIT.ok;
    }
    case 'twin show': {
      const { responseBody } =
        action.moduleId === undefined
          ? await registry.getTwin(action.deviceId)
          : await registry.getModuleTwin(action.deviceId, action.moduleId);
      const twin = plain(responseBody);
      const summary = summarizeTwin(twin);
      print({ ...summary, twin }, () => formatTwinSummary(summary));
      return HUB_EXIT.ok;
    }
    case 'twin set-desired': {
      const patch = readPatch(action.patch, io);
      if (patch === undefined) return HUB_EXIT.usage;
      const body = { properties: { desired: patch } };
      const { responseBody } =
        action.moduleId === undefined
          ? await registry.updateTwin(action.deviceId, body, '*')
          : await registry.updateModuleTwin(action.deviceId, action.moduleId, body, '*');
      const twin = plain(responseBody);
      const summary = summarizeTwin(twin);
      print({ ...summary, twin }, () =>
        [
          `Desired properties written: desired $version ${summary.desiredVersion ?? '-'}`,
          formatTwinSummary(summary),
        ].join('\n'),
      );
      return HUB_EXIT.ok;
    }
    case 'query': {
      const items = await queryAll(registry, action.sql);
      print(items, () => formatQueryResults(items));
      return HUB_EXIT.ok;
    }
  }
}

/** Every page of a query (the continuation token is the SDK's business). */
async function queryAll(
  registry: ReturnType<typeof createHubClient>['registry'],
  sql: string,
): Promise<JsonValue[]> {
  const query = registry.createQuery(sql, QUERY_PAGE_SIZE);
  const items: JsonValue[] = [];
  do {
    const { result } = await query.next();
    items.push(...((result as JsonValue[] | undefined) ?? []));
  } while (query.hasMoreResults);
  return items;
}

/** The patch text as a JSON object of desired properties, or undefined after printing why not. */
function readPatch(
  source: Extract<HubCommandAction, { command: 'twin set-desired' }>['patch'],
  io: CommandIo,
): JsonObject | undefined {
  const origin = source.kind === 'inline' ? '--patch' : '--patch-file';
  let text: string;
  try {
    text = source.kind === 'inline' ? source.text : readFileSync(source.path, 'utf8');
  } catch (error) {
    io.err(
      `${origin}: cannot read ${(source as { path: string }).path} (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    io.err(`${origin}: not JSON (${(error as Error).message}); e.g. --patch '{"telemetryInterval": 30}'`);
    return undefined;
  }
  if (!isJsonObject(parsed)) {
    io.err(
      `${origin}: must be a JSON object of desired properties (null deletes one), e.g. {"telemetryInterval": 30}`,
    );
    return undefined;
  }
  return parsed;
}

/**
 * The JSON data of an SDK object: a Twin carries its Registry (`_registry`, which holds the signing
 * key), so its own fields starting with `_` are dropped before anything is printed (only at the top:
 * a property name inside the twin may start with `_`).
 */
function plain(value: unknown): JsonObject {
  const data = Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, unknown>).filter(([key]) => !key.startsWith('_')),
  );
  return JSON.parse(JSON.stringify(data)) as JsonObject;
}
