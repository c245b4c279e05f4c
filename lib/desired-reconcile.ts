/**
 * Pure planning for the device runtime: given what it last applied and an incoming desired document (full,
 * from a twin GET) or patch (a desired notification), decide which properties to apply, keep, reject or
 * remove; then, given how the applies went, which acknowledgements to report. Plans are data (the
 * balena-supervisor habit) so they can be property-tested; device-runtime/ only executes them.
 *
 * Ordering rule (docs/iot-hub-behaviour.md §6, "documented reconnect flow"): `$version` only increases, so anything not
 * newer than what was applied is dropped. A patch that skips a version means a notification was lost
 * (IoT Hub keeps no backlog, QoS 0): the plan asks for a full GET instead of guessing. Acks follow
 * docs/device-runtime.md: every desired key is acknowledged with the version the runtime reached.
 */

import {
  cloneJson,
  deepEqualJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  setOwnProperty,
} from './json-types';
import { applyMergePatch, diffToMergePatch } from './merge-patch';
import { buildAck, isWritablePropertyAck, type WritablePropertyAck } from './pnp-ack';

/** The pure half of a property handler: says what is wrong with a value, or `undefined` if it is valid. */
export interface PropertyRule {
  validate(value: unknown): string | undefined;
}

export interface ReconcileState {
  /** Desired `$version` last reconciled; `undefined` before the first full GET. */
  version: number | undefined;
  /** Desired document at `version`, without `$` keys. */
  desired: JsonObject;
  /** Values the handlers currently run with (only successfully applied ones). */
  applied: JsonObject;
  /**
   * The module's reported section as last confirmed by the hub, without `$` keys; `undefined` when unknown
   * (a report may or may not have been applied), which forces the next input to be a full GET.
   */
  reported: JsonObject | undefined;
}

export type DesiredInput =
  | { source: 'full'; desired: JsonObject; reported?: JsonObject }
  | { source: 'patch'; patch: JsonObject };

export type PropertyStep =
  | { action: 'apply'; key: string; value: JsonValue }
  | { action: 'keep'; key: string; value: JsonValue }
  | { action: 'reject'; key: string; value: JsonValue; ac: number; ad: string }
  | { action: 'remove'; key: string };

export type ReconcilePlan =
  | { kind: 'ignore'; version: number | undefined; reason: string }
  | { kind: 'resync'; version: number | undefined; reason: string }
  | {
      kind: 'reconcile';
      source: 'full' | 'patch';
      version: number;
      desired: JsonObject;
      /** Keys the input mentioned (all keys for a full document): what the log line lists. */
      touched: string[];
      /** Reported section to diff acks against (fresh from the GET for a full document). */
      reportedBasis: JsonObject;
      steps: PropertyStep[];
    };

export const EMPTY_RECONCILE_STATE: ReconcileState = Object.freeze({
  version: undefined,
  desired: {},
  applied: {},
  reported: undefined,
}) as ReconcileState;

export const AC_APPLIED = 200;
export const AC_INVALID = 400;
export const AC_NO_HANDLER = 404;
export const AC_APPLY_FAILED = 500;

/**
 * Drops every key starting with `$` at any depth (`$version`, `$metadata`, ...). Twin keys may not contain
 * `$` (docs/iot-hub-behaviour.md §5), so such keys are always hub metadata, never properties.
 */
export function withoutMetadata(document: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(document)) {
    if (!key.startsWith('$'))
      setOwnProperty(result, key, isJsonObject(value) ? withoutMetadata(value) : value);
  }
  return result;
}

function versionOf(document: JsonObject): number | undefined {
  const version = document.$version;
  return Number.isSafeInteger(version) && (version as number) >= 0 ? (version as number) : undefined;
}

export function planReconcile(
  state: ReconcileState,
  input: DesiredInput,
  rules: Readonly<Record<string, PropertyRule>>,
): ReconcilePlan {
  if (input.source === 'full') return planFull(state, input, rules);
  const version = versionOf(input.patch);
  if (version === undefined) return { kind: 'resync', version, reason: 'patch without a valid $version' };
  if (state.version === undefined) {
    return { kind: 'resync', version, reason: 'patch received before the first full twin GET' };
  }
  if (version <= state.version) {
    return { kind: 'ignore', version, reason: `not newer than applied version ${state.version}` };
  }
  if (version > state.version + 1) {
    return {
      kind: 'resync',
      version,
      reason: `versions ${state.version + 1}..${version - 1} were not received`,
    };
  }
  if (state.reported === undefined) {
    // Acks are sent as a diff against what the hub holds; without a confirmed basis, re-read it first.
    return { kind: 'resync', version, reason: 'reported properties unknown after a failed report' };
  }
  const changes = withoutMetadata(input.patch);
  const desired = applyMergePatch(state.desired, changes);
  const steps = planSteps(desired, state.applied, rules);
  const touched = Object.keys(changes);
  return {
    kind: 'reconcile',
    source: 'patch',
    version,
    desired,
    touched,
    reportedBasis: state.reported,
    steps,
  };
}

function planFull(
  state: ReconcileState,
  input: Extract<DesiredInput, { source: 'full' }>,
  rules: Readonly<Record<string, PropertyRule>>,
): ReconcilePlan {
  const version = versionOf(input.desired);
  if (version === undefined)
    return { kind: 'ignore', version, reason: 'twin GET without a valid desired $version' };
  // Equal versions are reconciled, not ignored: after a reconnect the same version may still need acks
  // that never reached the hub. Nothing is re-applied unless a value differs from the applied one.
  if (state.version !== undefined && version < state.version) {
    return { kind: 'ignore', version, reason: `older than applied version ${state.version}` };
  }
  const desired = withoutMetadata(input.desired);
  const reportedBasis = input.reported ? withoutMetadata(input.reported) : (state.reported ?? {});
  const steps = planSteps(desired, state.applied, rules);
  return {
    kind: 'reconcile',
    source: 'full',
    version,
    desired,
    touched: Object.keys(desired),
    reportedBasis,
    steps,
  };
}

function planSteps(
  desired: JsonObject,
  applied: JsonObject,
  rules: Readonly<Record<string, PropertyRule>>,
): PropertyStep[] {
  const steps: PropertyStep[] = [];
  const known = Object.keys(rules).join(', ') || '(none)';
  for (const [key, value] of Object.entries(desired)) {
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    const problem = rule?.validate(value);
    if (!rule) {
      const ad = `no handler for property "${key}"; this runtime handles: ${known}`;
      steps.push({ action: 'reject', key, value, ac: AC_NO_HANDLER, ad });
    } else if (problem !== undefined) {
      steps.push({ action: 'reject', key, value, ac: AC_INVALID, ad: problem });
    } else if (Object.hasOwn(applied, key) && deepEqualJson(applied[key], value)) {
      steps.push({ action: 'keep', key, value });
    } else {
      steps.push({ action: 'apply', key, value });
    }
  }
  for (const key of Object.keys(applied)) {
    if (!Object.hasOwn(desired, key)) steps.push({ action: 'remove', key });
  }
  return steps;
}

/** What executing an `apply` step produced; keys without an entry succeeded. */
export type ApplyFailures = Readonly<Record<string, string>>;

export interface ReconcileConclusion {
  /** State to adopt now (version, desired, applied); `reported` stays the basis until the report succeeds. */
  state: ReconcileState;
  /** Reported merge patch to send; empty when the hub already holds exactly these acks. */
  reportPatch: JsonObject;
  /** The reported section once `reportPatch` is accepted. */
  reportedAfter: JsonObject;
  acks: Record<string, WritablePropertyAck>;
}

/**
 * Folds the outcome of a reconcile plan into the next state and the reported patch. Only what differs
 * from `reportedBasis` is reported; acks of keys no longer desired are deleted (set to null).
 */
export function concludeReconcile(
  state: ReconcileState,
  plan: Extract<ReconcilePlan, { kind: 'reconcile' }>,
  failures: ApplyFailures,
): ReconcileConclusion {
  const applied = cloneJson(state.applied);
  const acks: Record<string, WritablePropertyAck> = {};
  for (const step of plan.steps) {
    if (step.action === 'remove') {
      delete applied[step.key];
      continue;
    }
    const failure =
      step.action === 'apply' && Object.hasOwn(failures, step.key) ? failures[step.key] : undefined;
    let ack: WritablePropertyAck;
    if (step.action === 'reject') ack = buildAck(step.value, step.ac, plan.version, step.ad);
    else if (failure !== undefined) ack = buildAck(step.value, AC_APPLY_FAILED, plan.version, failure);
    else {
      setOwnProperty(applied, step.key, step.value);
      ack = buildAck(step.value, AC_APPLIED, plan.version);
    }
    Object.defineProperty(acks, step.key, {
      value: ack,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const target = cloneJson(plan.reportedBasis);
  for (const [key, value] of Object.entries(plan.reportedBasis)) {
    if (isWritablePropertyAck(value) && !Object.hasOwn(plan.desired, key)) delete target[key];
  }
  for (const [key, ack] of Object.entries(acks)) setOwnProperty(target, key, ack as unknown as JsonObject);
  const reportPatch = diffToMergePatch(plan.reportedBasis, target);
  const next: ReconcileState = {
    version: plan.version,
    desired: plan.desired,
    applied,
    reported: plan.reportedBasis,
  };
  return { state: next, reportPatch, reportedAfter: target, acks };
}

/** True when a reported patch has nothing to send. */
export function isEmptyPatch(patch: JsonObject): boolean {
  return Object.keys(patch).length === 0;
}
