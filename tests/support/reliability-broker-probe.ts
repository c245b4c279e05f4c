/**
 * A look inside the hub's aedes broker for what no client can observe: retained messages (no
 * subscription an identity may hold matches a twin request topic, so a retained copy is invisible
 * from outside, yet it pins memory). The hub and the tests load the same aedes module, so wrapping
 * `Aedes.createBroker` before a hub starts captures that hub's broker without any hub-side test hook.
 */

// aedes 1.x is ESM-only: its types come through an `import()` type query (as in aedes-boundary.ts).
type Aedes = import('aedes', { with: { 'resolution-mode': 'import' }}).Aedes;

interface RetainedStore {
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>;
}

export interface BrokerProbe {
  /** The brokers created since the probe was installed, oldest first. */
  brokers: Aedes[];
  /** Restores `Aedes.createBroker`. */
  uninstall(): void;
}

export async function installBrokerProbe(): Promise<BrokerProbe> {
  const module = await import('aedes');
  const AedesClass = module.Aedes as unknown as { createBroker: (opts?: unknown) => Promise<Aedes> };
  const original = AedesClass.createBroker;
  const brokers: Aedes[] = [];
  AedesClass.createBroker = async (opts?: unknown) => {
    const broker = await original.call(AedesClass, opts);
    brokers.push(broker);
    return broker;
  };
  return { brokers, uninstall: () => (AedesClass.createBroker = original) };
}

/** Every retained message the broker holds, `$`-topics included (plain `#` does not match them). */
export async function retainedTopics(broker: Aedes): Promise<string[]> {
  const persistence = (broker as unknown as { persistence: RetainedStore }).persistence;
  const topics: string[] = [];
  for await (const packet of persistence.createRetainedStreamCombi(['#', '$iothub/#'])) {
    topics.push((packet as { topic: string }).topic);
  }
  return topics;
}
