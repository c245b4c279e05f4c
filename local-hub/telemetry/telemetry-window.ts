/**
 * The telemetry window: the latest device-to-cloud messages, kept in memory for a reader (the web view,
 * `GET /local-hub/telemetry`; docs/local-hub-web-view.md). It is a window, not a store: bounded per
 * identity and in total (count and bytes), the oldest evicted first, nothing kept across a restart.
 * Each message gets a sequence number that only grows for the life of the hub, so a reader asks for
 * "everything after n" and never sees a message twice. Azure's equivalent is the Event Hub-compatible
 * endpoint; this exists only in the local hub.
 */
import type { DeviceToCloudMessage } from '../hub-state';
import { type BodyEncoding, readerProperties, renderBody } from './telemetry-body';

export interface TelemetryLimits {
  /** Messages kept per device or module (default 100). */
  perIdentity: number;
  /** Messages kept in all (default 10 000). */
  total: number;
  /** Body and property bytes kept in all (default 32 MiB). */
  totalBytes: number;
}

export const DEFAULT_TELEMETRY_LIMITS: TelemetryLimits = {
  perIdentity: 100,
  total: 10_000,
  totalBytes: 32 * 1024 * 1024,
};

/** At most this many messages per read; `next` lets the reader continue. */
export const TELEMETRY_PAGE_MAX = 500;

export interface TelemetryEntry {
  sequence: number;
  message: DeviceToCloudMessage;
  bytes: number;
  evicted: boolean;
}

/** One message as the REST endpoint answers it (docs/local-hub-web-view.md, the contract). */
export interface TelemetryWireMessage {
  sequence: number;
  deviceId: string;
  moduleId?: string;
  enqueuedTimeUtc: string;
  properties: Record<string, string>;
  body: unknown;
  bodyEncoding: BodyEncoding;
}

export interface TelemetryFilter {
  /** Only this device's messages (its own and its modules'). */
  deviceId?: string;
  /** With deviceId: only this module's messages. */
  moduleId?: string;
}

export interface TelemetryPage {
  messages: TelemetryWireMessage[];
  /** What to pass as `after` next time. */
  next: number;
}

function keyOf(deviceId: string, moduleId: string | null): string {
  // NUL cannot occur in ids (lib/identity-ids.ts), so the key is unambiguous.
  return `${deviceId}\u0000${moduleId ?? ''}`;
}

export class TelemetryWindow {
  private readonly limits: TelemetryLimits;
  private lastSequence = 0;
  /** Every kept entry in sequence order; evicted ones stay as tombstones until compacted. */
  private all: TelemetryEntry[] = [];
  private head = 0;
  private live = 0;
  private liveBytes = 0;
  private readonly byIdentity = new Map<string, TelemetryEntry[]>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(limits: Partial<TelemetryLimits> = {}) {
    this.limits = { ...DEFAULT_TELEMETRY_LIMITS, ...limits };
  }

  record(message: DeviceToCloudMessage): number {
    const entry: TelemetryEntry = {
      sequence: ++this.lastSequence,
      message,
      bytes: message.body.length + JSON.stringify(message.properties).length,
      evicted: false,
    };
    const key = keyOf(message.deviceId, message.moduleId);
    const list = this.byIdentity.get(key) ?? [];
    list.push(entry);
    this.byIdentity.set(key, list);
    this.all.push(entry);
    this.live += 1;
    this.liveBytes += entry.bytes;
    while (list.length > this.limits.perIdentity) this.evict(list.shift()!);
    while (this.live > this.limits.total || this.liveBytes > this.limits.totalBytes) this.evictOldest();
    this.compact();
    for (const wake of [...this.waiters]) wake();
    return entry.sequence;
  }

  /** The identity's kept messages, oldest first. */
  recent(deviceId: string, moduleId: string | null): DeviceToCloudMessage[] {
    return (this.byIdentity.get(keyOf(deviceId, moduleId)) ?? []).map((e) => e.message);
  }

  /** A deleted identity's messages go with it (a new identity with the same id starts empty). */
  forget(deviceId: string, moduleId: string | null): void {
    const key = keyOf(deviceId, moduleId);
    for (const entry of this.byIdentity.get(key) ?? []) this.evict(entry);
    this.byIdentity.delete(key);
    this.compact();
  }

  /**
   * Messages with a sequence above `after`, oldest first, at most TELEMETRY_PAGE_MAX. An `after` beyond
   * the last sequence this window gave out comes from before a restart: the reader starts again from 0.
   */
  read(filter: TelemetryFilter, after = 0): TelemetryPage {
    const from = after > this.lastSequence ? 0 : after;
    const source =
      filter.deviceId !== undefined && filter.moduleId !== undefined
        ? (this.byIdentity.get(keyOf(filter.deviceId, filter.moduleId)) ?? [])
        : this.all.slice(this.head);
    const matched: TelemetryEntry[] = [];
    for (const entry of source) {
      if (entry.evicted || entry.sequence <= from) continue;
      if (filter.deviceId !== undefined && entry.message.deviceId !== filter.deviceId) continue;
      matched.push(entry);
      if (matched.length === TELEMETRY_PAGE_MAX) break;
    }
    const messages = matched.map(toWire);
    // Nothing found: later messages will all be above the last sequence given out so far.
    const next =
      matched.length > 0 ? matched[matched.length - 1]!.sequence : Math.max(from, this.lastSequence);
    return { messages, next };
  }

  /**
   * Like read, but when nothing matches waits up to `waitMs` for a message that does (a long poll). Ends
   * early, with what there is, when `signal` aborts (the reader went away) or the window is closed.
   */
  async waitForMessages(
    filter: TelemetryFilter,
    after: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<TelemetryPage> {
    let page = this.read(filter, after);
    if (page.messages.length > 0 || waitMs <= 0 || signal?.aborted) return page;
    const deadline = Date.now() + waitMs;
    while (page.messages.length === 0 && Date.now() < deadline && !signal?.aborted && !this.closed) {
      await this.nextRecordOrDeadline(deadline, signal);
      page = this.read(filter, after);
    }
    return page;
  }

  /** Ends every long poll (the hub is closing). */
  close(): void {
    this.closed = true;
    for (const wake of [...this.waiters]) wake();
  }

  private nextRecordOrDeadline(deadline: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private evictOldest(): void {
    while (this.head < this.all.length && this.all[this.head]!.evicted) this.head += 1;
    const oldest = this.all[this.head];
    if (!oldest) return;
    const list = this.byIdentity.get(keyOf(oldest.message.deviceId, oldest.message.moduleId));
    // The globally oldest of an identity is also the first of its own list.
    if (list?.[0] === oldest) list.shift();
    if (list?.length === 0) this.byIdentity.delete(keyOf(oldest.message.deviceId, oldest.message.moduleId));
    this.evict(oldest);
  }

  private evict(entry: TelemetryEntry): void {
    if (entry.evicted) return;
    entry.evicted = true;
    this.live -= 1;
    this.liveBytes -= entry.bytes;
  }

  /** Drops tombstones once they outnumber the live entries, so the array stays O(kept messages). */
  private compact(): void {
    while (this.head < this.all.length && this.all[this.head]!.evicted) this.head += 1;
    const tombstones = this.all.length - this.live;
    if (tombstones > 64 && tombstones > this.live) {
      this.all = this.all.filter((e) => !e.evicted);
      this.head = 0;
    }
  }
}

function toWire(entry: TelemetryEntry): TelemetryWireMessage {
  const { message } = entry;
  return {
    sequence: entry.sequence,
    deviceId: message.deviceId,
    ...(message.moduleId === null ? {} : { moduleId: message.moduleId }),
    enqueuedTimeUtc: message.receivedAt,
    properties: readerProperties(message.properties),
    ...renderBody(message.body, message.properties),
  };
}
