/**
 * Polling for the device-runtime end-to-end tests: the runtime and the hub work asynchronously, so
 * tests wait for an observable outcome instead of sleeping a fixed time (no timing assertions).
 */

/**
 * Calls `probe` every 50 ms until it returns something other than `undefined`, and returns that.
 * Throws `timed out waiting for <what>` after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
