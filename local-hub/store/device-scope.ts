/**
 * IoT Edge scopes (docs/iot-hub-behaviour.md §1.3, §8.2): an Edge device gets its own scope from the hub,
 * `ms-azure-iot-edge://<id>-<generationId>`; a leaf device's `deviceScope` names its parent Edge device
 * by that scope. So a leaf's scope must be the scope of an Edge device of this hub: a made-up value,
 * another leaf's id or a deleted parent's old scope is refused, and the scope cannot be changed to any
 * value at will. Keeping the scope a device already has is always accepted (an update sends the
 * identity read back).
 */
import type { StoredIdentity } from './identity-records';

const EDGE_SCOPE_PREFIX = 'ms-azure-iot-edge://';

export function edgeScope(deviceId: string, generationId: string): string {
  return `${EDGE_SCOPE_PREFIX}${deviceId}-${generationId}`;
}

/** Why `scope` cannot be the scope of leaf `deviceId`, or undefined when it names an Edge device. */
export function leafScopeProblem(
  deviceId: string,
  scope: string,
  findDevice: (id: string) => StoredIdentity | undefined,
): string | undefined {
  const rest = scope.startsWith(EDGE_SCOPE_PREFIX) ? scope.slice(EDGE_SCOPE_PREFIX.length) : '';
  const dash = rest.lastIndexOf('-');
  const parentId = dash > 0 ? rest.slice(0, dash) : '';
  const shape = `${EDGE_SCOPE_PREFIX}<edge device id>-<generationId>, the deviceScope of an IoT Edge device`;
  if (parentId === '') return `deviceScope ${JSON.stringify(scope)} is not an IoT Edge scope (${shape})`;
  if (parentId === deviceId)
    return `deviceScope: device ${JSON.stringify(deviceId)} cannot be its own parent`;
  const parent = findDevice(parentId);
  if (!parent?.iotEdge || parent.deviceScope !== scope) {
    return `deviceScope ${JSON.stringify(scope)} is not the scope of an IoT Edge device of this hub (${shape})`;
  }
  return undefined;
}
