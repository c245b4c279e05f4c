/**
 * Retries one hub call on throttling (429), unavailability (503) and broken sockets, with the
 * jittered exponential schedule of lib/retry-backoff.ts on a time budget. IoT Hub sends no
 * `Retry-After` (prior-art) and the service Registry does no retries of its own (fact sheet §1.4).
 * Any other error is rethrown at once: retrying a 400 or a 409 cannot succeed.
 */
import { DEFAULT_RETRY_POLICY, nextRetryDelay, type RetryPolicy } from '../lib/retry-backoff';
import { isTransientHubError } from './hub-errors';

export async function withRetry<T>(
  operation: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (!isTransientHubError(err)) throw err;
      const delay = nextRetryDelay(policy, attempt, Date.now() - started, Math.random());
      if (delay === null) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
