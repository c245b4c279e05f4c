/**
 * `waitForConvergence` of a Configuration (issue #12 item 2), pure: the shape and its rules (checked at
 * preview, every problem with its path), and the decision made at each poll of the configuration's metrics
 * (docs/iot-hub-behaviour.md §8.4: `GET /configurations/{id}` computes `systemMetrics` and the custom
 * `metrics` on request). Converged when at least the required number of targeted twins have the
 * configuration applied (`systemMetrics.appliedCount`) AND report success (the custom metric named by
 * `successMetric`, typically a query over IoT Plug and Play acks with `ac=200`, docs/device-runtime.md).
 * The required number is the larger of `minimum.count` and `minimum.percent` of the targeted twins, and at
 * least 1 (a ring that targets nothing has not converged). docs/stack-config.md documents the fields.
 */
import { desiredPathSegments } from './configuration-rules';
import { isJsonObject, type JsonObject } from './json-types';
import { childPath, type Problem } from './problems';
import { isUnknownInput } from './resource-check-fields';

export interface WaitForConvergence {
  /** At least `count` twins, and/or `percent` of the targeted twins (the larger applies). */
  minimum: { count?: number; percent?: number };
  /** The custom metric (a key of `metrics`) that counts twins reporting success. */
  successMetric: string;
  timeoutSeconds: number;
  /** 'fail' (default): the update fails naming the counts and rejections; 'warn': a warning, then success. */
  onTimeout: 'fail' | 'warn';
}

export const CONVERGENCE_TIMEOUT_MAX_SECONDS = 3600;

const KEYS = ['minimum', 'successMetric', 'timeoutSeconds', 'onTimeout'];

/**
 * Every problem of a `waitForConvergence` value (paths under `path`), and the normalized value (onTimeout
 * defaults to 'fail'). `metrics` is the configuration's metric map, which `successMetric` must name.
 * Values unknown during a preview are not judged.
 */
export function checkWaitForConvergence(
  value: unknown,
  metrics: unknown,
  path: string,
): { problems: Problem[]; value: unknown } {
  if (isUnknownInput(value)) return { problems: [], value };
  if (!isJsonObject(value)) {
    return {
      problems: [
        {
          path,
          message:
            'must be an object { minimum: { count?, percent? }, successMetric, timeoutSeconds, onTimeout? }',
        },
      ],
      value,
    };
  }
  const problems: Problem[] = [];
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) {
      problems.push({ path: childPath(path, key), message: `is not valid; valid: ${KEYS.join(', ')}` });
    }
  }
  problems.push(...minimumProblems(value['minimum'], childPath(path, 'minimum')));

  const metric = value['successMetric'];
  const metricPath = childPath(path, 'successMetric');
  if (typeof metric !== 'string' || metric === '') {
    if (!isUnknownInput(metric)) {
      problems.push({
        path: metricPath,
        message:
          'is required: the name of a custom metric in metrics that counts the twins reporting success, e.g. "SELECT deviceId FROM devices.modules WHERE properties.reported.<name>.ac = 200"',
      });
    }
  } else if (!isUnknownInput(metric) && isJsonObject(metrics) && !(metric in metrics)) {
    const declared = Object.keys(metrics);
    problems.push({
      path: metricPath,
      message: `names no metric of this configuration (metrics declares ${declared.length === 0 ? 'none' : declared.map((m) => JSON.stringify(m)).join(', ')}); add a metric that counts the twins reporting success`,
    });
  }

  const timeout = value['timeoutSeconds'];
  if (
    !isUnknownInput(timeout) &&
    (typeof timeout !== 'number' || !(timeout > 0) || timeout > CONVERGENCE_TIMEOUT_MAX_SECONDS)
  ) {
    problems.push({
      path: childPath(path, 'timeoutSeconds'),
      message: `must be a number of seconds above 0 and at most ${CONVERGENCE_TIMEOUT_MAX_SECONDS}; got ${JSON.stringify(timeout)}`,
    });
  }
  const onTimeout = value['onTimeout'] ?? 'fail';
  if (!isUnknownInput(onTimeout) && onTimeout !== 'fail' && onTimeout !== 'warn') {
    problems.push({ path: childPath(path, 'onTimeout'), message: 'must be "fail" (the default) or "warn"' });
  }
  return { problems, value: { ...value, onTimeout } };
}

function minimumProblems(minimum: unknown, path: string): Problem[] {
  if (isUnknownInput(minimum)) return [];
  if (!isJsonObject(minimum)) {
    return [{ path, message: 'is required: { count: <twins> } and/or { percent: <of the targeted twins> }' }];
  }
  const problems: Problem[] = [];
  for (const key of Object.keys(minimum)) {
    if (key !== 'count' && key !== 'percent') {
      problems.push({ path: childPath(path, key), message: 'is not valid; valid: count, percent' });
    }
  }
  const { count, percent } = minimum;
  if (count === undefined && percent === undefined) {
    problems.push({ path, message: 'needs count and/or percent' });
  }
  if (
    count !== undefined &&
    !isUnknownInput(count) &&
    !(typeof count === 'number' && Number.isInteger(count) && count >= 1)
  ) {
    problems.push({
      path: childPath(path, 'count'),
      message: `must be an integer of at least 1; got ${JSON.stringify(count)}`,
    });
  }
  if (
    percent !== undefined &&
    !isUnknownInput(percent) &&
    !(typeof percent === 'number' && percent > 0 && percent <= 100)
  ) {
    problems.push({
      path: childPath(path, 'percent'),
      message: `must be a number above 0 and at most 100; got ${JSON.stringify(percent)}`,
    });
  }
  return problems;
}

export interface ConvergenceCounts {
  targeted: number;
  applied: number;
  succeeded: number;
  /** Targeted twins whose ack of a content property has `ac >= 400`. */
  rejected: number;
}

/** The twins required: the larger of count and percent of the targeted (rounded up), at least 1. */
export function requiredTwins(minimum: WaitForConvergence['minimum'], targeted: number): number {
  const byPercent = minimum.percent === undefined ? 0 : Math.ceil((minimum.percent * targeted) / 100);
  return Math.max(minimum.count ?? 0, byPercent, 1);
}

/** Counts from the hub's configuration body (`systemMetrics.results`, `metrics.results`); missing → 0. */
export function countsFromConfiguration(
  hub: unknown,
  successMetric: string,
): Omit<ConvergenceCounts, 'rejected'> {
  const h = isJsonObject(hub) ? hub : {};
  const number = (section: unknown, key: string) => {
    const results = isJsonObject(section) && isJsonObject(section['results']) ? section['results'] : {};
    const v = results[key];
    return typeof v === 'number' ? v : 0;
  };
  return {
    targeted: number(h['systemMetrics'], 'targetedCount'),
    applied: number(h['systemMetrics'], 'appliedCount'),
    succeeded: number(h['metrics'], successMetric),
  };
}

export type ConvergenceState = 'converged' | 'waiting' | 'unreachable';

/**
 * Converged when applied and succeeded both reach the required number. Unreachable when rejections leave
 * too few targeted twins to reach it (a rejection is final for the version the device saw: PnP acks).
 */
export function evaluateConvergence(
  counts: ConvergenceCounts,
  minimum: WaitForConvergence['minimum'],
): { state: ConvergenceState; required: number } {
  const required = requiredTwins(minimum, counts.targeted);
  if (counts.applied >= required && counts.succeeded >= required) return { state: 'converged', required };
  if (counts.rejected > 0 && counts.targeted - counts.rejected < required) {
    return { state: 'unreachable', required };
  }
  return { state: 'waiting', required };
}

/**
 * Whether a poll also reads the rejections (a twin query over the targeted twins, a scan of every twin on
 * the hub): only when they could end the wait, that is when the fleet stopped progressing (no more twins
 * applied or succeeded than at the previous poll) and has not all succeeded. While acks keep arriving the
 * query would repeat that scan each second during the rollout it waits for (docs/benchmarks.md,
 * fleet-wide configuration); devices that reject stop the progress, so a rejection still ends the wait,
 * one poll later at most. The first poll has nothing to compare with and does not read them.
 */
export function shouldReadRejections(
  previous: Omit<ConvergenceCounts, 'rejected'> | undefined,
  now: Omit<ConvergenceCounts, 'rejected'>,
): boolean {
  if (now.succeeded >= now.targeted || previous === undefined) return false;
  return now.applied <= previous.applied && now.succeeded <= previous.succeeded;
}

/** One progress line: counts, never a spinner. */
export function describeCounts(counts: ConvergenceCounts, required: number): string {
  return (
    `${counts.succeeded} of ${required} required twins report success ` +
    `(targeted ${counts.targeted}, applied ${counts.applied}, rejected ${counts.rejected})`
  );
}

/** Top-level desired property names the content sets: where the device acks (`reported.<name>.ac`). */
export function ackedPropertyNames(content: JsonObject): string[] {
  const names = new Set<string>();
  for (const [key, value] of Object.entries(content)) {
    const segments = desiredPathSegments(key);
    if (segments === undefined) continue;
    if (segments.length > 0) names.add(segments[0]!);
    else if (isJsonObject(value)) for (const name of Object.keys(value)) names.add(name);
  }
  // Only names the twin query language can spell as a path.
  return [...names].filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
}

/**
 * The twin query for the targeted twins that rejected the content (an ack with `ac >= 400`), or undefined
 * when no content property can be queried. `kind` decides the source (devices or devices.modules).
 */
export function rejectionQuery(
  targetCondition: string,
  kind: 'deviceContent' | 'moduleContent',
  content: JsonObject,
): string | undefined {
  const names = ackedPropertyNames(content);
  if (names.length === 0) return undefined;
  const rejected = names.map((name) => `properties.reported.${name}.ac >= 400`).join(' OR ');
  const where =
    kind === 'moduleContent'
      ? targetCondition.replace(/^\s*from\s+devices\.modules\s+where\s+/i, '')
      : targetCondition.trim();
  const source = kind === 'moduleContent' ? 'devices.modules' : 'devices';
  const target = where === '*' || where === '' ? '' : `(${where}) AND `;
  return `SELECT * FROM ${source} WHERE ${target}(${rejected})`;
}

/** `device/module: name (ac 400: reason)` for each rejecting twin of a rejection query's results. */
export function describeRejections(twins: readonly unknown[], content: JsonObject): string[] {
  const names = ackedPropertyNames(content);
  const lines: string[] = [];
  for (const twin of twins) {
    if (!isJsonObject(twin)) continue;
    const properties = isJsonObject(twin['properties']) ? twin['properties'] : {};
    const reported = isJsonObject(properties['reported']) ? properties['reported'] : {};
    const who = [twin['deviceId'], twin['moduleId']].filter((s) => typeof s === 'string').join('/');
    const acks = names.flatMap((name) => {
      const ack = reported[name];
      if (!isJsonObject(ack) || typeof ack['ac'] !== 'number' || ack['ac'] < 400) return [];
      const ad = typeof ack['ad'] === 'string' ? `: ${ack['ad']}` : '';
      return [`${name} (ac ${ack['ac']}${ad})`];
    });
    if (acks.length > 0) lines.push(`${who}: ${acks.join(', ')}`);
  }
  return lines;
}
