/**
 * Pure validation of a configuration body, `PUT /configurations/{id}` (docs/iot-hub-behaviour.md §8.4):
 * `content` with exactly one of `deviceContent` / `moduleContent`, each key a desired-property path
 * (`properties.desired[.<name>…]`); `targetCondition` (a WHERE condition over device twins, or
 * `FROM devices.modules WHERE …` for module twins, or `*`); `priority` (a non-negative integer);
 * `labels` and `metrics.queries` (string maps). Every problem at once.
 */
import { isJsonObject, type JsonObject } from '../../lib/json-types';
import type { Problem } from '../../lib/problems';
import type { Parsed } from './identity-input';

export type ConfigurationTarget = 'devices' | 'devices.modules';

export interface ConfigurationInput {
  /** What IoT Hub keeps and returns as sent: content and the string maps round-trip exactly. */
  content: JsonObject;
  target: ConfigurationTarget;
  /** Each content entry as a desired merge patch, in key order. */
  desiredPatches: JsonObject[];
  targetCondition: string;
  priority: number;
  labels: Record<string, string>;
  metricQueries: Record<string, string>;
  schemaVersion: string;
}

const DESIRED_PATH = /^properties\.desired(\.[^.]+)*$/;
const ID_PATTERN = /^[a-z0-9\-:+%_#*?!(),=@;$']{1,128}$/;

export function parseConfigurationInput(body: unknown, id: string): Parsed<ConfigurationInput> {
  const problems: Problem[] = [];
  // IoT Hub configuration ids: lower-case ASCII letters, digits and a few symbols, at most 128.
  if (!ID_PATTERN.test(id))
    problems.push({
      path: 'id',
      message: `${JSON.stringify(id)} is not a valid configuration id (lower-case letters, digits, - : + % _ # * ? ! ( ) , = @ ; $ ', at most 128)`,
    });
  if (!isJsonObject(body))
    return {
      ok: false,
      problems: [...problems, { path: '', message: 'the configuration must be a JSON object' }],
    };
  if (body['id'] !== undefined && body['id'] !== id) {
    problems.push({
      path: 'id',
      message: `${JSON.stringify(body['id'])} does not match ${JSON.stringify(id)} in the URL`,
    });
  }
  const { content, target, desiredPatches } = parseContent(body['content'], problems);
  const value: ConfigurationInput = {
    content,
    target,
    desiredPatches,
    targetCondition: parseCondition(body['targetCondition'], target, problems),
    priority: parsePriority(body['priority'], problems),
    labels: parseStringMap(body['labels'], 'labels', problems),
    metricQueries: parseStringMap(
      isJsonObject(body['metrics']) ? body['metrics']['queries'] : undefined,
      'metrics.queries',
      problems,
    ),
    schemaVersion: typeof body['schemaVersion'] === 'string' ? body['schemaVersion'] : '1.0',
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

function parseContent(
  value: unknown,
  problems: Problem[],
): { content: JsonObject; target: ConfigurationTarget; desiredPatches: JsonObject[] } {
  const empty = { content: {}, target: 'devices' as const, desiredPatches: [] };
  if (!isJsonObject(value)) {
    problems.push({
      path: 'content',
      message: 'content must be {"deviceContent": {…}} or {"moduleContent": {…}}',
    });
    return empty;
  }
  const kinds = (['deviceContent', 'moduleContent'] as const).filter(
    (k) => value[k] !== undefined && value[k] !== null,
  );
  if (kinds.length !== 1 || value['modulesContent'] !== undefined) {
    problems.push({
      path: 'content',
      message:
        'content needs exactly one of deviceContent or moduleContent (modulesContent is an IoT Edge deployment, which the local hub does not run)',
    });
    return empty;
  }
  const kind = kinds[0]!;
  const section = value[kind];
  if (!isJsonObject(section)) {
    problems.push({ path: `content.${kind}`, message: 'must be an object of desired-property paths' });
    return empty;
  }
  const desiredPatches: JsonObject[] = [];
  for (const [path, entry] of Object.entries(section)) {
    if (!DESIRED_PATH.test(path)) {
      problems.push({
        path: `content.${kind}["${path}"]`,
        message: 'keys are desired-property paths: properties.desired[.<name>…]',
      });
      continue;
    }
    desiredPatches.push(patchAt(path.split('.').slice(2), entry));
  }
  return { content: value, target: kind === 'deviceContent' ? 'devices' : 'devices.modules', desiredPatches };
}

/** `properties.desired.a.b` = v → the merge patch `{"a": {"b": v}}`; the bare path merges v itself. */
function patchAt(keys: string[], value: unknown): JsonObject {
  if (keys.length === 0) return isJsonObject(value) ? value : {};
  let patch = value as JsonObject;
  for (const key of [...keys].reverse()) patch = { [key]: patch };
  return patch;
}

function parseCondition(value: unknown, target: ConfigurationTarget, problems: Problem[]): string {
  if (typeof value !== 'string') {
    problems.push({
      path: 'targetCondition',
      message: 'targetCondition must be a string such as "tags.environment=\'prod\'"',
    });
    return '';
  }
  const fromModules = /^\s*from\s+devices\.modules\b/i.test(value);
  if (target === 'devices.modules' && !fromModules) {
    problems.push({
      path: 'targetCondition',
      message: 'a moduleContent configuration targets "FROM devices.modules WHERE …"',
    });
  }
  return value;
}

function parsePriority(value: unknown, problems: Problem[]): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  problems.push({ path: 'priority', message: 'priority must be a non-negative integer' });
  return 0;
}

function parseStringMap(value: unknown, path: string, problems: Problem[]): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    problems.push({ path, message: `${path} must be an object of strings` });
    return {};
  }
  return value as Record<string, string>;
}
