/**
 * Makes the telemetry the runtime sends visible (docs/device-runtime.md "Telemetry and shutdown"): at an
 * interval of a second or more, one info line per message with its body; faster than that, one summary
 * line per SUMMARY_SECONDS (count, sequence range, the last body), so a 0.1 s interval does not drown the
 * log. The body is the runtime's own `{"sequence", "telemetryInterval", "sentAt"}`: nothing secret in it,
 * and it goes through the logger's redaction anyway. Failures and ticks skipped while disconnected are
 * counted into the next line rather than logged one by one.
 */
import type { JsonObject } from '../lib/json-types';
import type { RuntimeLogger } from './runtime-events';

/** Below one message per second, each gets a line; above, a summary this often. */
export const PER_MESSAGE_MIN_INTERVAL_SECONDS = 1;
export const SUMMARY_SECONDS = 10;
const BODY_CHARS = 200;

export interface TelemetryReport {
  sent(body: JsonObject, intervalSeconds: number): void;
  /** A tick that found no connection (the message was not sent, nor queued). */
  skipped(intervalSeconds: number): void;
  failed(reason: string, intervalSeconds: number): void;
  /** Writes the summary in progress, if any (on stop). */
  flush(): void;
}

export function createTelemetryReport(
  logger: RuntimeLogger,
  outputName: string,
  now: () => number = Date.now,
): TelemetryReport {
  let windowStart: number | undefined;
  let count = 0;
  let first: number | undefined;
  let last: number | undefined;
  let lastBody = '';
  let skipped = 0;
  let failures = 0;
  let lastFailure = '';

  const extras = () => {
    const parts = [
      ...(skipped > 0 ? [`${skipped} skipped while disconnected`] : []),
      ...(failures > 0 ? [`${failures} failed (last: ${lastFailure})`] : []),
    ];
    skipped = 0;
    failures = 0;
    return parts.length === 0 ? '' : `; ${parts.join(', ')}`;
  };
  const summarize = () => {
    if (windowStart === undefined) return;
    const seconds = Math.max(1, Math.round((now() - windowStart) / 1000));
    const range = count === 0 ? '' : ` (#${first}..#${last}, last ${lastBody})`;
    const pending = skipped + failures > 0 || count > 0;
    if (pending) {
      logger.info(
        `Telemetry: ${count} ${count === 1 ? 'message' : 'messages'} sent on output "${outputName}" in ${seconds} s${range}${extras()}`,
      );
    }
    windowStart = undefined;
    count = 0;
    first = undefined;
    last = undefined;
  };
  const summarizing = (intervalSeconds: number) => intervalSeconds < PER_MESSAGE_MIN_INTERVAL_SECONDS;
  const tick = (intervalSeconds: number) => {
    if (!summarizing(intervalSeconds)) {
      summarize();
      return false;
    }
    windowStart ??= now();
    return true;
  };
  const maybeSummarize = () => {
    if (windowStart !== undefined && now() - windowStart >= SUMMARY_SECONDS * 1000) summarize();
  };

  return {
    sent(body, intervalSeconds) {
      const text = JSON.stringify(body);
      const shown = text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}...` : text;
      if (!tick(intervalSeconds)) {
        logger.info(`Telemetry sent on output "${outputName}": ${shown}${extras()}`);
        return;
      }
      count += 1;
      const sequence = typeof body['sequence'] === 'number' ? body['sequence'] : count;
      first ??= sequence;
      last = sequence;
      lastBody = shown;
      maybeSummarize();
    },
    skipped(intervalSeconds) {
      skipped += 1;
      if (tick(intervalSeconds)) maybeSummarize();
    },
    failed(reason, intervalSeconds) {
      if (tick(intervalSeconds)) {
        failures += 1;
        lastFailure = reason;
        maybeSummarize();
        return;
      }
      // A slow interval: the failure gets its own line at once (a summary could be minutes away).
      logger.warn(`Telemetry not sent: ${reason}${extras()}`);
    },
    flush: summarize,
  };
}
