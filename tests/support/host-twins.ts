/** Reading twins through the official service SDK, for assertions on what the hub really holds. */
import type { Registry } from 'azure-iothub';
import type { PlainObject } from './host-grpc';

export interface TwinView {
  desired: PlainObject;
  tags: PlainObject;
}

/** The device twin, or the module twin when `moduleId` is given, as plain JSON. */
export async function hubTwin(registry: Registry, deviceId: string, moduleId?: string): Promise<TwinView> {
  const result =
    moduleId === undefined
      ? await registry.getTwin(deviceId)
      : await registry.getModuleTwin(deviceId, moduleId);
  const twin = JSON.parse(JSON.stringify(result.responseBody)) as {
    tags?: PlainObject;
    properties?: { desired?: PlainObject };
  };
  return { desired: twin.properties?.desired ?? {}, tags: twin.tags ?? {} };
}

/**
 * What a section holds: without the hub's `$metadata` / `$version` bookkeeping, and without objects
 * left empty once their last leaf was removed (a merge patch `{"a":{"b":null}}` leaves `"a":{}`).
 */
export function twinContent(section: PlainObject): PlainObject {
  const content: PlainObject = {};
  for (const [key, value] of Object.entries(section)) {
    if (key.startsWith('$')) continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const inner = twinContent(value as PlainObject);
      if (Object.keys(inner).length > 0) content[key] = inner;
    } else {
      content[key] = value;
    }
  }
  return content;
}
