/**
 * Memory readings for "the hub's memory stays bounded" (issue #5). The hub runs in the test process,
 * so readings are taken after a full garbage collection: `node --test` gives no way to pass
 * `--expose-gc` per file, so the flag is set at run time and `gc` fetched from a fresh context (the
 * documented V8 flag; it only affects this test process).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let collect: (() => void) | undefined;

function gcFunction(): () => void {
  if (collect) return collect;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) {
    collect = existing;
  } else {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  return collect;
}

export interface MemoryReading {
  /** JS heap in use. */
  heapBytes: number;
  /** Buffers and ArrayBuffers (socket data lives here, not in the heap). */
  bufferBytes: number;
}

/** Lets pending closes and callbacks settle, then collects twice and reads. */
export async function settledMemory(): Promise<MemoryReading> {
  const gc = gcFunction();
  for (let i = 0; i < 5; i++) await nextTurn();
  gc();
  await nextTurn();
  gc();
  const usage = process.memoryUsage();
  return { heapBytes: usage.heapUsed, bufferBytes: usage.arrayBuffers };
}

export const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
