/**
 * Diagnostics for bench/fleet-sides.ts: which service calls the provider operations made during a round and
 * when each was answered. The providers build their Registry through the process-wide client cache
 * (dynamic-providers/iothub-client.ts), so the benchmark gets the very same object from `createHubClient`
 * and wraps its promise-returning methods; nothing in the providers changes.
 */
import { now } from './fan-out-clients';

export interface CallRecord {
  name: string;
  /** ms since `CallLog.start()`. */
  sent: number;
  answered: number;
  /** HTTP status of a failure (e.g. 412), the error's code without one (e.g. ECONNRESET), or 0 for success. */
  failedStatus: number | string;
}

export class CallLog {
  private origin = now();
  calls: CallRecord[] = [];

  start(): void {
    this.origin = now();
    this.calls = [];
  }

  /** Wraps `names` on `target` (methods returning promises when called without a callback). */
  wrap(target: object, names: readonly string[]): void {
    type Failure = { response?: { statusCode?: number }; code?: string; name?: string };
    const methods = target as Record<string, (...args: unknown[]) => unknown>;
    for (const name of names) {
      const original = methods[name]!.bind(target);
      methods[name] = (...args: unknown[]) => {
        const result = original(...args);
        if (!(result instanceof Promise)) return result;
        const sent = now() - this.origin;
        const calls = this.calls;
        const record = (failedStatus: number | string) =>
          calls.push({ name, sent, answered: now() - this.origin, failedStatus });
        result.then(
          () => record(0),
          (error: Failure) => record(error?.response?.statusCode ?? error?.code ?? error?.name ?? 'error'),
        );
        return result;
      };
    }
  }

  /** `getConfiguration ×3 (0–4, 230–310 …)`-style summary: per name, the count and each call's span. */
  describe(detailUpTo = 4): string {
    const byName = new Map<string, CallRecord[]>();
    for (const call of this.calls) byName.set(call.name, [...(byName.get(call.name) ?? []), call]);
    return [...byName]
      .map(([name, calls]) => {
        const failed = calls.filter((c) => c.failedStatus !== 0);
        const statuses = [...new Set(failed.map((c) => c.failedStatus))].join('/');
        const spans =
          calls.length <= detailUpTo
            ? calls.map((c) => `${c.sent.toFixed(0)}–${c.answered.toFixed(0)}`).join(', ')
            : `first sent ${Math.min(...calls.map((c) => c.sent)).toFixed(0)}, last answered ${Math.max(...calls.map((c) => c.answered)).toFixed(0)}`;
        return `${name} ×${calls.length}${failed.length > 0 ? ` (${failed.length} answered ${statuses})` : ''} [${spans}]`;
      })
      .join('; ');
  }
}
