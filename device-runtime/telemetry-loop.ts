/**
 * Sends a small JSON message every `intervalSeconds`, so a change of the desired `telemetryInterval` is
 * observable at the hub (it keeps the latest messages per identity). One send at a time: a tick that finds
 * the previous send still in flight (e.g. while reconnecting) is skipped rather than queued, so a slow
 * connection never builds a backlog.
 */
import type { JsonObject } from '../lib/json-types';

export interface TelemetryLoopOptions {
  intervalSeconds: number;
  /** Sends one message; rejections are reported through `onSendFailed` and do not stop the loop. */
  send(body: JsonObject): Promise<void>;
  onSendFailed(error: unknown): void;
}

export interface TelemetryLoop {
  readonly intervalSeconds: number;
  /** Takes effect immediately: the next message is due one new interval from now. */
  setIntervalSeconds(seconds: number): void;
  /** Stops ticking and waits for a send in flight. */
  stop(): Promise<void>;
}

export function startTelemetryLoop(options: TelemetryLoopOptions): TelemetryLoop {
  let intervalSeconds = options.intervalSeconds;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  let sequence = 0;

  const tick = () => {
    schedule();
    if (inFlight) return;
    sequence += 1;
    const body = { sequence, telemetryInterval: intervalSeconds, sentAt: new Date().toISOString() };
    inFlight = options
      .send(body)
      .catch((error: unknown) => options.onSendFailed(error))
      .finally(() => {
        inFlight = undefined;
      });
  };
  const schedule = () => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(tick, intervalSeconds * 1000);
  };
  schedule();

  return {
    get intervalSeconds() {
      return intervalSeconds;
    },
    setIntervalSeconds(seconds) {
      intervalSeconds = seconds;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
