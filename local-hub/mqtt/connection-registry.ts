/**
 * What the hub knows about each MQTT connection beyond aedes: which identity it authenticated as,
 * whether it has ended for the hub (revoked or token expired), when its SAS token expires, and which
 * connection currently holds an identity's `connectionState`.
 *
 * Why an "ended" mark as well as `client.close()`: closing runs asynchronously in aedes, and on its way
 * out aedes publishes the connection's will through `authorizePublish`, as that identity. A revoked
 * connection must not write anything after the revocation (issue #10 item 4), so the mark is set
 * synchronously, before the close starts, and every hook refuses marked connections.
 */
import type { Client } from './aedes-boundary';
import { clientIdOf, type IdentityRef } from './iothub-topics';

export interface ConnectionInfo {
  identity: IdentityRef;
  /** Unix seconds after which the token is no longer valid; null for X.509 connections. */
  expiresAt: number | null;
  /** The identity's credentials and status when it authenticated, to spot a revocation during CONNECT. */
  credentials: string;
  /** Set when the hub ended the connection: nothing from it is accepted any more. */
  ended: boolean;
  expiryTimer: NodeJS.Timeout | undefined;
}

/** setTimeout's longest delay (about 24.8 days); longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ConnectionRegistry {
  private readonly byClient = new WeakMap<Client, ConnectionInfo>();
  /** docs/iot-hub-behaviour.md §3.2: one connection per identity; the newest ready one owns `connectionState`. */
  private readonly holders = new Map<string, Client>();

  admit(client: Client, info: Omit<ConnectionInfo, 'ended' | 'expiryTimer'>): void {
    this.byClient.set(client, { ...info, ended: false, expiryTimer: undefined });
  }

  get(client: Client): ConnectionInfo | undefined {
    return this.byClient.get(client);
  }

  /** The identity of a connection the hub still accepts packets from. */
  liveIdentity(client: Client | null): IdentityRef | undefined {
    const info = client ? this.byClient.get(client) : undefined;
    return info && !info.ended ? info.identity : undefined;
  }

  /** Marks the connection ended (synchronously) and closes it. */
  end(client: Client): void {
    const info = this.byClient.get(client);
    if (info) {
      info.ended = true;
      clearTimeout(info.expiryTimer);
    }
    client.close();
  }

  /** Ends the connection when its token expires (`expiresAt` is the last valid second). */
  armExpiry(client: Client, onExpired: () => void): void {
    const info = this.byClient.get(client);
    if (!info || info.expiresAt === null) return;
    const arm = () => {
      const remaining = (info.expiresAt! + 1) * 1000 - Date.now();
      if (remaining <= 0) return onExpired();
      info.expiryTimer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
      info.expiryTimer.unref();
    };
    arm();
  }

  /** True when `client` now holds its identity's state (it is ready and was not closed meanwhile). */
  takeHold(client: Client): boolean {
    const info = this.byClient.get(client);
    if (!info || info.ended || client.closed) return false;
    this.holders.set(clientIdOf(info.identity), client);
    return true;
  }

  /** True when `client` held its identity's state; a replaced connection's late close changes nothing. */
  release(client: Client): boolean {
    const info = this.byClient.get(client);
    if (!info) return false;
    clearTimeout(info.expiryTimer);
    const key = clientIdOf(info.identity);
    if (this.holders.get(key) !== client) return false;
    this.holders.delete(key);
    return true;
  }
}
