/**
 * Executes the pure plans of lib/desired-reconcile.ts: runs the handlers' effects, reports the acks that
 * changed, keeps the reconcile state, and writes one readable log line per received document or patch.
 * It is only ever called from the runtime's single runner, so it never runs twice at once.
 */
import type { EventEmitter } from 'node:events';
import {
  type ApplyFailures,
  concludeReconcile,
  type DesiredInput,
  EMPTY_RECONCILE_STATE,
  type PropertyStep,
  planReconcile,
  type ReconcilePlan,
  type ReconcileState,
} from '../lib/desired-reconcile';
import type { JsonObject } from '../lib/json-types';
import { describeError, redactSecrets } from './errors';
import type { PropertyHandlers } from './property-handlers';
import type { RuntimeEventMap, RuntimeLogger } from './runtime-events';

type Emit = EventEmitter<RuntimeEventMap>['emit'];
type Reconcile = Extract<ReconcilePlan, { kind: 'reconcile' }>;

export class DesiredExecutor {
  private current: ReconcileState = EMPTY_RECONCILE_STATE;

  constructor(
    private readonly handlers: PropertyHandlers,
    private readonly logger: RuntimeLogger,
    private readonly emit: Emit,
  ) {}

  get state(): ReconcileState {
    return this.current;
  }

  /**
   * Plans and executes one input. Returns the plan so the caller can act on `resync`. Rejects only when
   * the report failed; the applied state is kept and the acks are recomputed at the next full GET.
   */
  async execute(input: DesiredInput, report: (patch: JsonObject) => Promise<void>): Promise<ReconcilePlan> {
    const plan = planReconcile(this.current, input, this.handlers);
    if (plan.kind !== 'reconcile') {
      this.logger.info(
        `${headline(input.source, plan.version)} (${plan.kind === 'ignore' ? 'ignored' : 'resync'}: ${plan.reason})`,
      );
      if (plan.kind === 'ignore')
        this.emit('ignored', { version: plan.version, source: input.source, reason: plan.reason });
      return plan;
    }
    const failures = await this.runEffects(plan);
    const conclusion = concludeReconcile(this.current, plan, failures);
    this.current = conclusion.state;
    this.logger.info(redactSecrets(describePlan(plan, failures)));
    this.emitOutcomes(plan, failures);
    const reportedKeys = Object.keys(conclusion.reportPatch);
    if (reportedKeys.length > 0) {
      try {
        await report(conclusion.reportPatch);
      } catch (error) {
        // The hub may or may not hold the patch now: forget the basis so the next input is a full GET.
        this.current = { ...this.current, reported: undefined };
        throw error;
      }
    }
    this.current = { ...this.current, reported: conclusion.reportedAfter };
    this.emit('reconciled', { version: plan.version, source: plan.source, reportedKeys });
    return plan;
  }

  private async runEffects(plan: Reconcile): Promise<ApplyFailures> {
    // Null prototype: a property named "__proto__" must become an own key like any other.
    const failures: Record<string, string> = Object.create(null);
    for (const step of plan.steps) {
      const handler = Object.hasOwn(this.handlers, step.key) ? this.handlers[step.key] : undefined;
      try {
        if (step.action === 'apply') await handler?.apply(step.value);
        else if (step.action === 'remove') await handler?.reset?.();
      } catch (error) {
        if (step.action === 'apply') failures[step.key] = describeError(error);
        else this.logger.warn(`resetting ${step.key} failed: ${describeError(error)}`);
      }
    }
    return failures;
  }

  private emitOutcomes(plan: Reconcile, failures: ApplyFailures): void {
    const touched = new Set(plan.touched);
    for (const step of plan.steps) {
      const { key: property } = step;
      const failure = failures[property];
      if (step.action === 'apply' && failure === undefined) {
        this.emit('applied', { property, value: step.value, version: plan.version });
      } else if (step.action === 'apply') {
        this.emit('rejected', { property, value: step.value, version: plan.version, ac: 500, ad: failure! });
      } else if (step.action === 'reject' && touched.has(property)) {
        this.emit('rejected', {
          property,
          value: step.value,
          version: plan.version,
          ac: step.ac,
          ad: step.ad,
        });
      } else if (step.action === 'remove') {
        this.emit('removed', { property, version: plan.version });
      }
    }
  }
}

function headline(source: 'full' | 'patch', version: number | undefined): string {
  const what =
    source === 'patch'
      ? 'Twin desired properties patch received'
      : 'Twin desired properties (full document) received';
  return `${what}: version ${version ?? '(none)'}`;
}

/** "Twin desired properties patch received: version 4, telemetryInterval=60 (applied)". */
function describePlan(plan: Reconcile, failures: ApplyFailures): string {
  const touched = new Set(plan.touched);
  const parts = plan.steps
    .filter((step) => touched.has(step.key) || step.action === 'remove')
    .map((step) => describeStep(step, failures));
  const body = parts.length > 0 ? parts.join(', ') : 'no properties';
  return `${headline(plan.source, plan.version)}, ${body}`;
}

function describeStep(step: PropertyStep, failures: ApplyFailures): string {
  if (step.action === 'remove') return `${step.key} (removed)`;
  const shown = `${step.key}=${abbreviate(JSON.stringify(step.value))}`;
  if (step.action === 'keep') return `${shown} (unchanged)`;
  if (step.action === 'reject') return `${shown} (rejected ${step.ac}: ${step.ad})`;
  const failure = failures[step.key];
  return failure === undefined ? `${shown} (applied)` : `${shown} (failed 500: ${failure})`;
}

function abbreviate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
