/**
 * Default connection caps per listening port (issue #10 item 3). Each open connection costs a file
 * descriptor, and the hub also needs some for SQLite (database, WAL, shared memory), its certificate
 * files and the logs: the total cap stays below the process's open-file limit, so running out of
 * descriptors refuses new clients with a log line instead of failing accepts and store writes alike.
 * Node raises its soft limit to the hard limit at start, so the soft value read here is what applies.
 */
import { readFileSync } from 'node:fs';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/** Enough for the benchmarks' 1,000 connected modules plus the service client, on one loopback address. */
export const DEFAULT_MAX_CONNECTIONS = 4000;
/** Descriptors kept for everything else the hub opens. */
const RESERVED_DESCRIPTORS = 256;

/** Linux's soft open-file limit, or undefined where /proc is absent or says "unlimited". */
export function openFileLimit(
  readLimits: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readLimits());
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The total under the file limit; one address may hold half of it, so one host cannot take all. */
export function defaultConnectionLimits(fileLimit = openFileLimit()): ConnectionLimits {
  const underLimit = fileLimit === undefined ? DEFAULT_MAX_CONNECTIONS : fileLimit - RESERVED_DESCRIPTORS;
  const maxConnections = Math.max(64, Math.min(DEFAULT_MAX_CONNECTIONS, underLimit));
  return { maxConnections, maxConnectionsPerAddress: Math.max(1, Math.floor(maxConnections / 2)) };
}
