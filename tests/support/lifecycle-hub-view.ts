/**
 * What a hub holds, read through the OFFICIAL service SDK (via the project's client factory), in a
 * shape a lifecycle test can compare with `deepEqual` against what the stack declares: every device
 * with its status, its modules, and the content of its twins (without the hub's `$` bookkeeping).
 */
import type { Registry } from 'azure-iothub';
import type { PlainObject } from './host-grpc';
import { hubTwin, twinContent } from './host-twins';

export interface TwinContent {
  desired: PlainObject;
  tags: PlainObject;
}

export interface DeviceView {
  deviceId: string;
  status: string;
  twin: TwinContent;
  /** moduleId -> its twin content; every module on the device is listed. */
  modules: Record<string, TwinContent>;
}

async function twinView(registry: Registry, deviceId: string, moduleId?: string): Promise<TwinContent> {
  const twin = await hubTwin(registry, deviceId, moduleId);
  return { desired: twinContent(twin.desired), tags: twinContent(twin.tags) };
}

/** Every device of the hub, sorted by id. */
export async function readHub(registry: Registry): Promise<DeviceView[]> {
  const devices = (await registry.list()).responseBody;
  const views: DeviceView[] = [];
  for (const device of [...devices].sort((a, b) => a.deviceId.localeCompare(b.deviceId))) {
    const modules: Record<string, TwinContent> = {};
    const onDevice = (await registry.getModulesOnDevice(device.deviceId)).responseBody;
    for (const module of [...onDevice].sort((a, b) => a.moduleId.localeCompare(b.moduleId))) {
      modules[module.moduleId] = await twinView(registry, device.deviceId, module.moduleId);
    }
    views.push({
      deviceId: device.deviceId,
      status: String(device.status),
      twin: await twinView(registry, device.deviceId),
      modules,
    });
  }
  return views;
}
