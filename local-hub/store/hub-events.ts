/**
 * Desired-change and revocation events. Events raised inside a write are held until its transaction
 * commits, so a transport never pushes a desired patch (or drops a connection) for a write that was
 * rolled back.
 */
import type { HubLogger } from '../hub-logger';
import type { DesiredChange, IdentityRevoked } from '../hub-state';

type Listener<T> = (event: T) => void;

class Channel<T> {
  private readonly listeners = new Set<Listener<T>>();

  subscribe(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  deliver(event: T, logger: HubLogger, kind: string): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        // A failing transport listener must not undo or fail a committed write.
        logger.error(`${kind} listener failed`, { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}

export class HubEvents {
  readonly desired = new Channel<DesiredChange>();
  readonly revoked = new Channel<IdentityRevoked>();
  private pending: (() => void)[] = [];

  constructor(private readonly logger: HubLogger) {}

  queueDesired(change: DesiredChange): void {
    this.pending.push(() => this.desired.deliver(change, this.logger, 'desired-change'));
  }

  queueRevoked(event: IdentityRevoked): void {
    this.pending.push(() => this.revoked.deliver(event, this.logger, 'identity-revoked'));
  }

  /** After commit. */
  flush(): void {
    const queued = this.pending;
    this.pending = [];
    for (const deliver of queued) deliver();
  }

  /** After rollback. */
  discard(): void {
    this.pending = [];
  }

  /** For nested rollbacks (one bulk entry): `discardSince(mark())` drops what was queued after the mark. */
  mark(): number {
    return this.pending.length;
  }

  discardSince(mark: number): void {
    this.pending.length = Math.min(this.pending.length, mark);
  }
}
