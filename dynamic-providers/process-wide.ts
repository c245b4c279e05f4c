/**
 * State shared by every provider in the dynamic-provider host process (client cache, pacer lanes,
 * progress clock). It lives on `globalThis` under a registered symbol and is looked up at call time:
 * Pulumi's closure serializer would capture a module-level Map by value and rebuild it empty, and
 * each provider kind is deserialized separately (docs/dynamic-provider-serialization.md).
 */
export function processWide<T>(name: string, create: () => T): T {
  const slot = Symbol.for(`iothub-as-code.${name}`);
  const global = globalThis as unknown as Record<symbol, T | undefined>;
  let value = global[slot];
  if (value === undefined) {
    value = create();
    global[slot] = value;
  }
  return value;
}
