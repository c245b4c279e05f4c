/**
 * Reported patches from devices, committed together: the patches that arrive in one turn of the event
 * loop (a fleet acknowledging a configuration sends hundreds at once) are written in one transaction
 * instead of one each. A commit is the largest fixed cost of an ack (docs/benchmarks.md, fleet-wide
 * configuration), and a batch pays it once.
 *
 * The guarantees stay those of one write per patch:
 * - each patch's `done` is called only after the transaction holding it committed, so a device is never
 *   told 204 for a write that kill -9 could still lose (docs/local-hub-durability.md);
 * - one patch refused (HubError: bad key, too large, unknown module) is answered with its error and leaves
 *   the others: `patchOne` makes its single write last, after every check that can refuse it, so a refused
 *   patch has written nothing and needs no savepoint (savepoints were about a quarter of an ack's store time);
 *   any other failure rolls the whole batch back and every patch of it is answered with that error, none
 *   written;
 * - the batch is written before any other read or write of the store (hub-state-store.ts calls `flush`
 *   first), so every operation sees the patches queued before it, in the order the hub received them.
 */
import { isHubError } from '../errors';

export type ReportedOutcome = { version: number } | { error: unknown };

interface QueuedPatch {
  deviceId: string;
  moduleId: string | null;
  patch: unknown;
  done: (outcome: ReportedOutcome) => void;
}

export interface ReportedBatchOptions {
  /** Runs `writes` in one transaction, committed when it returns, rolled back when it throws. */
  transaction: <T>(writes: () => T) => T;
  /**
   * One patch, inside that transaction: returns the new reported `$version`. It must write nothing before
   * it can no longer be refused (one write, last), since no savepoint undoes a refused patch's writes.
   */
  patchOne: (deviceId: string, moduleId: string | null, patch: unknown) => number;
  /** Whether the store can still write (closed: every queued patch is answered with `closedError()`). */
  isOpen: () => boolean;
  closedError: () => unknown;
}

export class ReportedBatch {
  private queue: QueuedPatch[] = [];

  constructor(private readonly o: ReportedBatchOptions) {}

  add(deviceId: string, moduleId: string | null, patch: unknown, done: (outcome: ReportedOutcome) => void) {
    this.queue.push({ deviceId, moduleId, patch, done });
    // Once per turn: every patch the transports hand over in this turn joins the same transaction.
    if (this.queue.length === 1) setImmediate(() => this.flush());
  }

  /** Writes what is queued now (nothing when empty), then answers each patch. */
  flush(): void {
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    let outcomes: ReportedOutcome[];
    if (!this.o.isOpen()) {
      const error = this.o.closedError();
      outcomes = items.map(() => ({ error }));
    } else {
      try {
        outcomes = this.o.transaction(() => items.map((item) => this.patchOne(item)));
      } catch (error) {
        outcomes = items.map(() => ({ error }));
      }
    }
    // After the commit (or the rollback): the answers go out only now.
    items.forEach((item, i) => {
      item.done(outcomes[i]!);
    });
  }

  private patchOne(item: QueuedPatch): ReportedOutcome {
    try {
      return { version: this.o.patchOne(item.deviceId, item.moduleId, item.patch) };
    } catch (error) {
      // A refused patch (it wrote nothing) is that patch's answer; anything else fails the batch.
      if (isHubError(error)) return { error };
      throw error;
    }
  }
}
