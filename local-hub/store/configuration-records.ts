/**
 * Configurations as stored and as returned (docs/iot-hub-behaviour.md §8.4), and the queries behind their
 * target condition and metrics, run by the hub's own query engine (twin-query.ts). Pure.
 */
import type { JsonObject } from '../../lib/json-types';
import type { ConfigurationInput, ConfigurationTarget } from './configuration-input';
import { type ParsedQuery, parseQuery } from './twin-query';

export interface StoredConfiguration {
  id: string;
  schemaVersion: string;
  labels: Record<string, string>;
  content: JsonObject;
  target: ConfigurationTarget;
  desiredPatches: JsonObject[];
  targetCondition: string;
  priority: number;
  metricQueries: Record<string, string>;
  createdTimeUtc: string;
  lastUpdatedTimeUtc: string;
  etag: string;
}

export function buildConfiguration(
  id: string,
  input: ConfigurationInput,
  previous: StoredConfiguration | undefined,
  now: string,
  etag: string,
): StoredConfiguration {
  return {
    id,
    schemaVersion: input.schemaVersion,
    labels: input.labels,
    content: input.content,
    target: input.target,
    desiredPatches: input.desiredPatches,
    targetCondition: input.targetCondition,
    priority: input.priority,
    metricQueries: input.metricQueries,
    createdTimeUtc: previous?.createdTimeUtc ?? now,
    lastUpdatedTimeUtc: now,
    etag,
  };
}

/** What identifies the content a twin got: content cannot change, so id and creation time do. */
export function appliedKey(c: StoredConfiguration): string {
  return `${c.id}@${c.createdTimeUtc}`;
}

/** `tags.x='y'` → devices WHERE; `FROM devices.modules WHERE …` as given; `*` or empty → every twin. */
export function targetQueryText(c: Pick<StoredConfiguration, 'target' | 'targetCondition'>): string {
  const condition = c.targetCondition.trim();
  if (/^from\s/i.test(condition)) return `SELECT * ${condition}`;
  if (condition === '' || condition === '*') return `SELECT * FROM ${c.target}`;
  return `SELECT * FROM ${c.target} WHERE ${condition}`;
}

/** Metric queries select columns (`SELECT deviceId FROM devices WHERE …`); only their count matters. */
export function metricQueryText(query: string): string {
  return query.replace(/^\s*select\s+[\s\S]+?\s+from\s+/i, 'SELECT * FROM ');
}

/** The parsed query, or the problem the hub answers with (400). */
export function compileQuery(text: string, what: string): ParsedQuery | string {
  const parsed = parseQuery(text);
  return typeof parsed === 'string' ? `${what}: ${parsed}` : parsed;
}

/** Highest priority first; among equals the most recently created (IoT Hub's tie rule, §8.4). */
export function byPrecedence(a: StoredConfiguration, b: StoredConfiguration): number {
  return b.priority - a.priority || b.createdTimeUtc.localeCompare(a.createdTimeUtc);
}

export interface ConfigurationCounts {
  targeted: number;
  applied: number;
  metrics: Record<string, number>;
}

/** The wire shape: content, labels and queries as sent, plus the metrics computed on request. */
export function renderConfiguration(c: StoredConfiguration, counts: ConfigurationCounts): JsonObject {
  const targetQuery = targetQueryText(c).replace(/^SELECT \*/, 'SELECT deviceId');
  return {
    id: c.id,
    schemaVersion: c.schemaVersion,
    labels: c.labels,
    content: c.content,
    targetCondition: c.targetCondition,
    createdTimeUtc: c.createdTimeUtc,
    lastUpdatedTimeUtc: c.lastUpdatedTimeUtc,
    priority: c.priority,
    systemMetrics: {
      results: { targetedCount: counts.targeted, appliedCount: counts.applied },
      queries: { targetedCount: targetQuery, appliedCount: `${targetQuery} (configuration ${c.id} applied)` },
    },
    metrics: { results: counts.metrics, queries: c.metricQueries },
    etag: c.etag,
  };
}
