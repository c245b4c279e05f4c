/**
 * Plays the Node language host's part for unhandled rejections while a program runs under mocks.
 *
 * Why: when a registration fails, @pulumi/pulumi deliberately re-rejects it "so that it triggers
 * unhandled rejection logic" (runtime/resource.js `runAsyncResourceOp`); under `pulumi up` the
 * language host (cmd/run/run.js) owns `process.on('unhandledRejection')` and turns them into the
 * run's error. Under node:test they would instead fail whichever test happens to be running. So for
 * the duration of a run the harness takes the listener's place and hands the rejections back to the
 * caller, which reports them (nothing is swallowed).
 */

export interface LanguageHostOutcome<T> {
  /** Set when `program` resolved. */
  value?: T;
  /** Set when `program` rejected. */
  error?: unknown;
  /** Unhandled rejections raised while it ran, in order. */
  rejections: unknown[];
}

export async function runAsLanguageHost<T>(program: () => Promise<T>): Promise<LanguageHostOutcome<T>> {
  const saved = process.listeners('unhandledRejection');
  const outcome: LanguageHostOutcome<T> = { rejections: [] };
  const collect = (reason: unknown) => {
    outcome.rejections.push(reason);
  };
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', collect);
  try {
    outcome.value = await program();
  } catch (error) {
    outcome.error = error;
  } finally {
    // Rejections are reported after the microtask queue drains; one macrotask turn lets them all arrive.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', collect);
    for (const listener of saved) process.on('unhandledRejection', listener);
  }
  return outcome;
}
