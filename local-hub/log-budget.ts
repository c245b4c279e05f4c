/**
 * A rate bound for log lines that clients cause (refused CONNECTs, SUBSCRIBEs and PUBLISHes, broken
 * connections). Without it one SUBSCRIBE with 20,000 refused filters wrote 20,000 lines (issue #10
 * item 10): clients must not decide how much the hub writes. A token bucket shared by every client:
 * a burst passes, then lines are dropped and counted, and the count is reported in one line as soon
 * as the budget allows another line. Lines the hub causes itself do not go through it.
 */
import type { HubLogger } from './hub-logger';

export interface LogBudgetOptions {
  /** Lines that may pass at once. Default 200. */
  burst?: number;
  /** Lines per second after the burst. Default 20. */
  perSecond?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
}

type Level = keyof HubLogger;

export function createLogBudget(logger: HubLogger, o: LogBudgetOptions = {}): HubLogger {
  const burst = o.burst ?? 200;
  const perMs = (o.perSecond ?? 20) / 1000;
  const now = o.now ?? Date.now;
  let tokens = burst;
  let last = now();
  let suppressed = 0;

  const take = (): boolean => {
    const t = now();
    tokens = Math.min(burst, tokens + (t - last) * perMs);
    last = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const emit =
    (level: Level): HubLogger[Level] =>
    (msg, fields) => {
      if (!take()) {
        suppressed += 1;
        return;
      }
      if (suppressed > 0) {
        logger.warn(`${suppressed} client-caused log lines suppressed (log rate limit)`);
        suppressed = 0;
      }
      logger[level](msg, fields);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
