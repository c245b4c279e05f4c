/**
 * Configuration `waitForConvergence` (issue #12 item 2): after a create or update, poll the configuration
 * (`GET /configurations/{id}` computes its metrics on request, docs/iot-hub-behaviour.md §8.4) until enough
 * targeted twins applied it and report success; the rules are pure in lib/configuration-convergence.ts. Like
 * ModuleTwin's `waitForAck` (ack-wait.ts): a per-resource timeout, `onTimeout: 'warn'` as the opt-out, and a
 * failure names what the devices said: the targeted twins with an ack `ac >= 400` and their `ad`, read with
 * a twin query. Progress is one line per change of the counts (never a spinner), through `pulumi.log.info`,
 * which in the dynamic-provider host (no engine connection) prints to the plugin's output, which the CLI shows.
 */
import type { Registry } from 'azure-iothub';
import {
  countsFromConfiguration,
  describeCounts,
  describeRejections,
  evaluateConvergence,
  rejectionQuery,
  shouldReadRejections,
  type WaitForConvergence,
} from '../lib/configuration-convergence';
import type { ConfigurationInputs } from '../lib/resource-configuration-state';
import { contentKindOf } from '../lib/resource-configuration-state';
import type { PacedLane } from './hub-pacer';
import { withRetry } from './with-retry';

/**
 * Metrics are computed over every twin on each GET: once a second is plenty. It is more than the 20
 * configuration operations per minute of a one-unit hub (docs/iot-hub-behaviour.md §5), which a full
 * bucket absorbs for about half a minute; a longer wait meets 429s, and the lane (`ConvergenceTarget.lane`)
 * then spaces the polls out.
 */
const POLL_INTERVAL_MS = 1000;
/**
 * The first poll waits half an interval: right after the write the devices have not acknowledged yet, and
 * a GET then makes the hub scan every twin while it sends them the change (on the local hub, the same
 * thread; docs/benchmarks.md, fleet-wide configuration). The second comes half an interval later, so the
 * polls still fall 1 s, 2 s, … after the write, as many as before.
 */
const FIRST_POLL_DELAY_MS = POLL_INTERVAL_MS / 2;
/** Rejecting twins named in a failure (the count says how many there are in all). */
const NAMED_REJECTIONS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ConvergenceTarget {
  registry: Registry;
  /**
   * The hub's `configuration` pacing lane (hub-pacer.ts): each poll is a configuration GET and counts
   * against the 20/min/unit quota (docs/iot-hub-behaviour.md §5). Joining the lane costs nothing while
   * the hub has not pushed back, so the cadence below holds; after a 429 the polls wait their turn
   * with the resources' own configuration calls instead of failing or adding to the congestion.
   */
  lane: PacedLane;
  label: string;
  /** Where progress lines go; default pulumi.log.info. */
  progress?: (line: string) => void;
  /** Where the timeout warning goes with `onTimeout: 'warn'`; default pulumi.log.warn. */
  warn?: (line: string) => void;
}

function pulumiLog(): typeof import('@pulumi/pulumi').log {
  // Required here, not imported: @pulumi/pulumi is a deployment-only module the serializer cannot capture.
  return (require('@pulumi/pulumi') as typeof import('@pulumi/pulumi')).log;
}

async function rejections(registry: Registry, inputs: ConfigurationInputs): Promise<unknown[]> {
  const kind = contentKindOf(inputs);
  const sql = rejectionQuery(inputs.targetCondition, kind, inputs[kind] ?? {});
  if (sql === undefined) return [];
  const twins: unknown[] = [];
  const query = registry.createQuery(sql, 100);
  while (query.hasMoreResults) {
    const token = query.continuationToken as string | null;
    const { result } = await withRetry(() => query.next(token as string));
    twins.push(...JSON.parse(JSON.stringify(result)));
  }
  return twins;
}

/**
 * Resolves once converged. Rejects when rejections make the minimum unreachable, or at the timeout unless
 * `onTimeout` is 'warn' (then it logs a warning and resolves). Messages name the counts and the rejections.
 */
export async function waitForConvergence(
  target: ConvergenceTarget,
  inputs: ConfigurationInputs,
  wait: WaitForConvergence,
): Promise<void> {
  const progress = target.progress ?? ((line: string) => void pulumiLog().info(line));
  const content = inputs[contentKindOf(inputs)] ?? {};
  const deadline = Date.now() + wait.timeoutSeconds * 1000;
  let last = '';
  let summary = 'no metrics read yet';
  let rejected: unknown[] = [];
  // Whether `rejected` was read at the last poll: only a fresh reading may end the wait as unreachable.
  let fresh = false;
  let previous: ReturnType<typeof countsFromConfiguration> | undefined;
  for (let poll = 0; poll === 0 || Date.now() < deadline; poll++) {
    const pause = poll < 2 ? FIRST_POLL_DELAY_MS : POLL_INTERVAL_MS;
    await sleep(Math.max(0, Math.min(pause, deadline - Date.now())));
    const result = await withRetry(() => target.registry.getConfiguration(inputs.configurationId), {
      paced: target.lane,
    });
    const hub = JSON.parse(JSON.stringify(result.responseBody));
    const base = countsFromConfiguration(hub, wait.successMetric);
    if (base.succeeded >= base.targeted) rejected = [];
    fresh = shouldReadRejections(previous, base);
    if (fresh) rejected = await rejections(target.registry, inputs);
    previous = base;
    // Progress shows the last rejections read; the decision counts only a reading of this poll.
    const counts = { ...base, rejected: rejected.length };
    const { state, required } = evaluateConvergence(fresh ? counts : { ...base, rejected: 0 }, wait.minimum);
    summary = describeCounts(counts, required);
    if (summary !== last) {
      progress(`${target.label}: converging: ${summary}`);
      last = summary;
    }
    if (state === 'converged') return;
    if (state === 'unreachable') {
      throw new Error(
        `${target.label}: cannot converge: ${summary}; rejected by ${describeRejected(rejected, content)}`,
      );
    }
  }
  // Timed out while still progressing: the rejections are read once more, for the message.
  if (!fresh && previous && previous.succeeded < previous.targeted) {
    rejected = await rejections(target.registry, inputs);
    summary = describeCounts(
      { ...previous, rejected: rejected.length },
      evaluateConvergence({ ...previous, rejected: rejected.length }, wait.minimum).required,
    );
  }
  const named = rejected.length > 0 ? `; rejected by ${describeRejected(rejected, content)}` : '';
  const message =
    `${target.label}: did not converge within ${wait.timeoutSeconds}s: ${summary}${named}` +
    (rejected.length === 0 ? '; are the targeted modules running and connected?' : '');
  if (wait.onTimeout !== 'warn') throw new Error(message);
  if (target.warn) target.warn(message);
  else await pulumiLog().warn(message);
}

function describeRejected(twins: unknown[], content: Parameters<typeof describeRejections>[1]): string {
  const lines = describeRejections(twins.slice(0, NAMED_REJECTIONS), content);
  const more = twins.length > NAMED_REJECTIONS ? `; and ${twins.length - NAMED_REJECTIONS} more` : '';
  return `${lines.join('; ')}${more}`;
}
