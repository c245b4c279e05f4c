/**
 * The module side of the fleet-configuration benchmark: N raw mqtt.js connections (the MQTT client the
 * device SDK wraps) that behave like the device runtime does for one desired property
 * (docs/device-runtime.md "Acknowledgements"): on a desired patch they report an IoT Plug and Play ack
 * `{"<prop>": {"value", "ac": 200, "av": <$version>}}` on `$iothub/twin/PATCH/properties/reported/?$rid=…`,
 * and the hub's 204 answer on `$iothub/twin/res/…` is the ack landing (committed on the hub).
 *
 * Why not 1,000 device runtimes: each is a ModuleClient with its own retry, reconcile and twin GET machinery;
 * a thousand of them in one process on 2 shared cores would measure the runtime, not the configuration path.
 * The ack shape and trigger (every desired patch, every key in it) are the runtime's.
 */
import type * as mqtt from 'mqtt';
import { DESIRED_PATCH_FILTER } from '../local-hub/mqtt/iothub-topics';
import type { ClientIdentity, Endpoint } from './fan-out-clients';
import { connectModuleClient, now } from './fan-out-clients';
import { ackPatchFor, ridOf } from './fleet-acks';
import { runPool } from './pool';

const TWIN_RESPONSE_FILTER = '$iothub/twin/res/#';
const REPORTED_PATCH_TOPIC = '$iothub/twin/PATCH/properties/reported/?$rid=';

/**
 * Per round: when each module received the patch carrying the expected value of the property, and when its
 * ack of that patch was answered 204. Index = the module's position in the fleet.
 */
export class FleetTimeline {
  readonly patchAt: (number | undefined)[];
  readonly ackAt: (number | undefined)[];
  private acked = 0;
  private waiter: { resolve: () => void } | undefined;

  constructor(
    readonly size: number,
    readonly property: string,
    readonly value: number,
  ) {
    this.patchAt = new Array(size);
    this.ackAt = new Array(size);
  }

  recordPatch(index: number): void {
    this.patchAt[index] ??= now();
  }

  recordAck(index: number): void {
    if (this.ackAt[index] !== undefined) return;
    this.ackAt[index] = now();
    this.acked += 1;
    if (this.acked >= this.size) this.waiter?.resolve();
  }

  get ackedCount(): number {
    return this.acked;
  }

  /** Resolves when every module's ack landed, or after `timeoutMs` (then some are missing). */
  waitForAll(timeoutMs: number): Promise<void> {
    if (this.acked >= this.size) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiter = {
        resolve: () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        },
      };
    });
  }
}

/** The fleet's connections and the timeline the current round records into. */
export class Fleet {
  timeline: FleetTimeline | undefined;
  /** Reported-patch answers other than 204 (should stay 0). */
  failedAcks = 0;

  constructor(readonly clients: mqtt.MqttClient[]) {}

  /** Starts a round: from now on, patches carrying `value` of `property` are recorded. */
  expect(property: string, value: number): FleetTimeline {
    this.timeline = new FleetTimeline(this.clients.length, property, value);
    return this.timeline;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients.map((client) => new Promise<void>((resolve) => client.end(true, {}, () => resolve()))),
    );
  }
}

function connectOne(
  endpoint: Endpoint,
  identity: ClientIdentity,
  index: number,
  fleet: Fleet,
): Promise<mqtt.MqttClient> {
  const clientId = `${identity.deviceId}/${identity.moduleId}`;
  const client = connectModuleClient(endpoint, identity);
  let sequence = 0;
  client.on('message', (topic, payload) => {
    const timeline = fleet.timeline;
    if (topic.startsWith('$iothub/twin/res/')) {
      const rid = ridOf(topic);
      if (!/^\$iothub\/twin\/res\/204\//.test(topic)) fleet.failedAcks += 1;
      else if (timeline && rid?.value === timeline.value) timeline.recordAck(index);
      return;
    }
    const ack = ackPatchFor(payload);
    if (ack === undefined) return;
    const value = ack.patch[timeline?.property ?? '']?.value;
    if (timeline && value === timeline.value) timeline.recordPatch(index);
    // Every patch is acknowledged, as the runtime does; the rid names the value it acks.
    sequence += 1;
    const rid = `${typeof value === 'number' ? value : 'x'}.${sequence}`;
    client.publish(`${REPORTED_PATCH_TOPIC}${rid}`, JSON.stringify(ack.patch), { qos: 0 });
  });
  return new Promise((resolve, reject) => {
    client.once('error', (error) => reject(new Error(`${clientId}: ${error.message}`)));
    client.once('connect', () => {
      client.subscribe([DESIRED_PATCH_FILTER, TWIN_RESPONSE_FILTER], { qos: 0 }, (error, granted) => {
        if (error) return reject(new Error(`${clientId}: subscribe failed: ${error.message}`));
        if (granted?.some((g) => g.qos === 128))
          return reject(new Error(`${clientId}: subscription refused`));
        resolve(client);
      });
    });
  });
}

/** Connects every identity, 25 at a time (TLS handshakes are CPU-bound), and subscribes it. */
export async function connectFleet(
  endpoint: Endpoint,
  identities: readonly ClientIdentity[],
): Promise<Fleet> {
  const clients: mqtt.MqttClient[] = new Array(identities.length);
  const fleet = new Fleet(clients);
  try {
    await runPool(identities.length, 25, async (i) => {
      clients[i] = await connectOne(endpoint, identities[i]!, i, fleet);
    });
  } catch (error) {
    await new Fleet(clients.filter(Boolean)).close();
    throw error;
  }
  return fleet;
}
