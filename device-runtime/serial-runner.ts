/**
 * The runtime's one runner: jobs run strictly one after another, in the order they were queued. Applying
 * desired state through a single queue is what makes "never apply an older version after a newer one"
 * hold even when a GET result and patches arrive interleaved (each job re-plans against the state the
 * previous job left).
 */

export type Job = () => Promise<void>;

export class SerialRunner {
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  /** `onError` receives a job's failure; the queue keeps going. Jobs queued after `close()` never run. */
  constructor(private readonly onError: (name: string, error: unknown) => void) {}

  run(name: string, job: Job): void {
    this.tail = this.tail.then(async () => {
      if (this.closed) return;
      try {
        await job();
      } catch (error) {
        this.onError(name, error);
      }
    });
  }

  /** Stops accepting work; resolves when the job in progress (if any) has finished. */
  close(): Promise<void> {
    this.closed = true;
    return this.tail;
  }
}
