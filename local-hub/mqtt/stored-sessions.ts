/**
 * A persistent MQTT session (CONNECT with clean=false, what the device SDK sends: docs/iot-hub-behaviour.md
 * §3.1) is kept by aedes' persistence under the client id: subscriptions, the inbound QoS 2 store and
 * the will.
 * It belongs to the identity that created it, not to the id: after a delete (and re-create) or a
 * re-key, a client must start without it (`sessionPresent` false, no old subscriptions; issue #10
 * item 7). aedes has no "forget this session" call, so the persistence calls it uses itself for a
 * clean session are made here; they take a client-like `{ id }`.
 */
import type { Aedes } from './aedes-boundary';

interface SessionStore {
  cleanSubscriptions(client: { id: string }): Promise<void>;
  cleanIncoming?(client: { id: string }): Promise<void>;
  delWill(client: { id: string; brokerId?: string }): Promise<unknown>;
}

export function purgeStoredSession(broker: Aedes, clientId: string): void {
  const store = (broker as unknown as { persistence: SessionStore }).persistence;
  const ref = { id: clientId, brokerId: broker.id };
  // Each call is independent and in memory; a failure leaves at most a session nobody can use
  // after its identity is gone, so it is not worth failing the registry write that caused it.
  const ignore = () => undefined;
  store.cleanSubscriptions(ref).then(ignore, ignore);
  store.cleanIncoming?.(ref).then(ignore, ignore);
  store.delWill(ref).then(ignore, ignore);
}
