/**
 * Runs `count` independent tasks with at most `concurrency` in flight (what the engine does with
 * independent resources, and what the baselines do with the same work). The first failure stops
 * new tasks from starting and is rethrown once the running ones settle.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`runPool: concurrency must be an integer >= 1, got ${concurrency}`);
  }
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** Milliseconds taken by `work` (monotonic clock). */
export async function timed(work: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}
