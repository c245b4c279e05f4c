/**
 * Bounded waits for tests. The hub, the runtime and the SDKs work asynchronously, so tests wait for an
 * observable outcome instead of sleeping a fixed time (no timing assertions). Every wait has its own
 * deadline and fails naming what it was waiting for: a wait without one turns a bug (a notification
 * with the wrong `$version`, a reply that never comes) into a suite that stalls, and the files after it
 * never run. The deadlines are generous, for a loaded machine; they bound a failure, they measure nothing.
 */

/** Long enough for a slow CI machine running two test files at once; a passing wait ends far sooner. */
export const DEFAULT_WAIT_MS = 30_000;

/**
 * Resolves like `work`, or rejects with `timed out after <ms> ms waiting for <what>` when it has not
 * settled in time. `what` may be a function, evaluated at the timeout, to report what was seen meanwhile.
 */
export function within<T>(
  what: string | (() => string),
  work: Promise<T>,
  timeoutMs: number = DEFAULT_WAIT_MS,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const described = typeof what === 'function' ? what() : what;
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${described}`));
    }, timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Calls `probe` every 50 ms until it returns something other than `undefined`, and returns that. Fails
 * with `timed out after <ms> ms waiting for <what>` after `timeoutMs`, also when a probe itself hangs.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number = DEFAULT_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const fail = () => {
    const described = typeof what === 'function' ? what() : what;
    return new Error(`timed out after ${timeoutMs} ms waiting for ${described}`);
  };
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw fail();
    const value = await within(what, Promise.resolve(probe()), remaining).catch((error: unknown) => {
      throw error instanceof Error && error.message.startsWith('timed out after') ? fail() : error;
    });
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
