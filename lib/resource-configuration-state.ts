/**
 * Inputs, outputs, `check` and `diff` of the Configuration dynamic resource (an automatic device or module
 * configuration, docs/iot-hub-behaviour.md §8.4), pure. The stack owns the whole object: every field is
 * declared, and a refresh shows any change made elsewhere (content, condition, priority, labels, metrics).
 *
 * Content cannot be changed after creation (§8.4), so a content change replaces the configuration (delete,
 * then create under the same id); the condition, priority, labels and metrics are updated in place with the
 * etag of the last write or read.
 */

import { checkWaitForConvergence, type WaitForConvergence } from './configuration-convergence';
import {
  type ConfigurationContentKind,
  validateConfigurationContent,
  validateConfigurationId,
  validateLabels,
  validatePriority,
  validateStringMap,
  validateTargetCondition,
} from './configuration-rules';
import { isJsonObject, type JsonObject } from './json-types';
import {
  type CheckOutcome,
  checkHub,
  createChecker,
  type Fields,
  isUnknownInput,
} from './resource-check-fields';
import type { DiffDecision } from './resource-diff';
import { hubHostOf } from './resource-diff';
import type { HubConnectionInputs } from './resource-identity-state';

export interface ConfigurationInputs extends HubConnectionInputs {
  configurationId: string;
  /** Exactly one of the two: what the configuration sets on device twins, or on module twins. */
  deviceContent?: JsonObject;
  moduleContent?: JsonObject;
  targetCondition: string;
  priority: number;
  labels: Record<string, string>;
  /** Custom metrics: name → query (e.g. how many targeted modules acknowledged). */
  metrics: Record<string, string>;
  /** After create/update, wait until enough targeted twins applied it and report success (never diffed). */
  waitForConvergence?: WaitForConvergence;
}

export interface ConfigurationOutputs extends ConfigurationInputs {
  /** The etag after the last write or read: the If-Match of the next update. */
  etag: string;
}

/** The body `PUT /configurations/{id}` takes (the service SDK's Configuration). */
export interface ConfigurationBody {
  id: string;
  schemaVersion: string;
  labels: Record<string, string>;
  content: { deviceContent?: JsonObject; moduleContent?: JsonObject };
  targetCondition: string;
  priority: number;
  metrics: { queries: Record<string, string> };
  etag?: string;
}

const KEYS = [
  'hubConnectionString',
  'hubCaCertificate',
  'configurationId',
  'deviceContent',
  'moduleContent',
  'targetCondition',
  'priority',
  'labels',
  'metrics',
  'waitForConvergence',
] as const;

export function contentKindOf(inputs: {
  deviceContent?: unknown;
  moduleContent?: unknown;
}): ConfigurationContentKind {
  return inputs.moduleContent !== undefined ? 'moduleContent' : 'deviceContent';
}

/** Every failure with its property path, and the normalized inputs (defaults: priority 0, no labels or metrics). */
export function checkConfigurationInputs(news: Fields): CheckOutcome {
  const c = createChecker(news);
  c.onlyKeys(KEYS);
  checkHub(c);
  if (c.take('configurationId'))
    c.problems(validateConfigurationId(c.inputs['configurationId'], 'configurationId'));
  else if (c.raw('configurationId') === undefined) c.fail('configurationId', 'is required');

  const given = (['deviceContent', 'moduleContent'] as const).filter((key) => c.raw(key) !== undefined);
  if (given.length !== 1) {
    c.fail(
      given.length === 0 ? 'deviceContent' : 'moduleContent',
      'a configuration has exactly one of deviceContent (device twins) or moduleContent (module twins)',
    );
  }
  const kind: ConfigurationContentKind = given.includes('moduleContent') ? 'moduleContent' : 'deviceContent';
  for (const key of given) {
    if (c.take(key)) c.problems(validateConfigurationContent(c.inputs[key], key));
  }
  if (c.take('targetCondition')) {
    c.problems(validateTargetCondition(c.inputs['targetCondition'], kind, 'targetCondition'));
  } else if (c.raw('targetCondition') === undefined) {
    c.problems(validateTargetCondition(undefined, kind, 'targetCondition'));
  }
  if (c.take('priority', 0)) c.problems(validatePriority(c.inputs['priority'], 'priority'));
  if (c.take('labels', {})) c.problems(validateLabels(c.inputs['labels'], 'labels'));
  if (c.take('metrics', {})) c.problems(validateStringMap(c.inputs['metrics'], 'metrics', 'metric queries'));
  if (c.raw('waitForConvergence') !== undefined) {
    const wait = checkWaitForConvergence(
      c.raw('waitForConvergence'),
      c.inputs['metrics'],
      'waitForConvergence',
    );
    c.inputs['waitForConvergence'] = wait.value;
    c.problems(wait.problems);
  }
  return c.outcome();
}

export function configurationBody(inputs: ConfigurationInputs, etag?: string): ConfigurationBody {
  const kind = contentKindOf(inputs);
  const body: ConfigurationBody = {
    id: inputs.configurationId,
    schemaVersion: '1.0',
    labels: inputs.labels,
    content: { [kind]: inputs[kind] ?? {} },
    targetCondition: inputs.targetCondition,
    priority: inputs.priority,
    metrics: { queries: inputs.metrics },
  };
  if (etag !== undefined) body.etag = etag;
  return body;
}

function stringMap(value: unknown): Record<string, string> {
  if (!isJsonObject(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/**
 * Outputs from the hub's configuration (`kind`: the content section the inputs declare): the connection inputs echoed, every declared field as the hub
 * holds it (so a refresh shows drift), no `undefined` anywhere (docs/architecture.md).
 */
export function configurationOutputs(
  connection: HubConnectionInputs,
  kind: ConfigurationContentKind,
  hub: unknown,
): ConfigurationOutputs {
  const h = isJsonObject(hub) ? hub : {};
  const content = isJsonObject(h['content']) ? h['content'] : {};
  const metrics = isJsonObject(h['metrics']) ? h['metrics'] : {};
  const outputs: ConfigurationOutputs = {
    hubConnectionString: connection.hubConnectionString,
    configurationId: typeof h['id'] === 'string' ? h['id'] : '',
    targetCondition: typeof h['targetCondition'] === 'string' ? h['targetCondition'] : '',
    priority: typeof h['priority'] === 'number' ? h['priority'] : 0,
    labels: stringMap(h['labels']),
    metrics: stringMap(metrics['queries']),
    etag: typeof h['etag'] === 'string' ? h['etag'] : '',
  };
  // The declared kind: IoT Hub may return the other content sections empty ({}) next to it.
  const section = content[kind];
  outputs[kind] = isJsonObject(section) ? section : {};
  if (connection.hubCaCertificate !== undefined) outputs.hubCaCertificate = connection.hubCaCertificate;
  return outputs;
}

export function configurationInputsFromOutputs(outputs: ConfigurationOutputs): ConfigurationInputs {
  const { etag: _etag, ...inputs } = outputs;
  return inputs;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isJsonObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical(value[key])]),
    );
  }
  return value;
}

/**
 * Replace (delete first: the id is a fixed name) when the id, the hub, or the content changes (content is
 * immutable on the hub); update in place for the condition, priority, labels, metrics or connection.
 * Unknown values during a preview count as changes.
 */
export function diffConfiguration(olds: ConfigurationOutputs, news: ConfigurationInputs): DiffDecision {
  const replaces: string[] = [];
  if (olds.configurationId !== news.configurationId) replaces.push('configurationId');
  const newHost = hubHostOf(news.hubConnectionString);
  if (newHost !== undefined && newHost !== hubHostOf(olds.hubConnectionString))
    replaces.push('hubConnectionString');
  for (const key of ['deviceContent', 'moduleContent'] as const) {
    if (isUnknownInput(news[key]) || !sameJson(olds[key] ?? null, news[key] ?? null)) replaces.push(key);
  }
  const changed =
    (['targetCondition', 'priority', 'labels', 'metrics'] as const).some(
      (key) => isUnknownInput(news[key]) || !sameJson(olds[key], news[key]),
    ) ||
    olds.hubConnectionString !== news.hubConnectionString ||
    (olds.hubCaCertificate ?? null) !== (news.hubCaCertificate ?? null);
  return { changes: replaces.length > 0 || changed, replaces, deleteBeforeReplace: replaces.length > 0 };
}
