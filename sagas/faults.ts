import { parseStepFault, type StepFault } from './faultSpec.js';
import { CoordinatorStop, type StepHook } from './SagaCoordinator.js';

export type { StepFault } from './faultSpec.js';

/**
 * Faults injected into saga steps on purpose (`--inject-fault`, the chaos scenarios, tests), to
 * watch a compensation or a coordinator's crash happen. They reach the coordinator through its
 * step hook (`faultHook`); the coordinator itself knows nothing of them.
 */

/**
 * The faults to inject, shared by a coordinator and the one that takes over after its crash
 * (a crash fault fires once per saga and step, not again in the new coordinator).
 */
export class FaultPlan {
  private readonly fired = new Set<string>();

  constructor(readonly faults: readonly StepFault[]) {}

  /** The fault for a step's action or compensation, if any. */
  find(step: string, compensation: boolean): StepFault | undefined {
    return this.faults.find(
      (f) => f.step === step && (f.in ?? 'action') === (compensation ? 'compensation' : 'action'),
    );
  }

  /** True the first time for this key: a crash fires once. */
  fireOnce(key: string): boolean {
    if (this.fired.has(key)) return false;
    this.fired.add(key);
    return true;
  }

  /** Parses `saga:STEP[:error|timeout|crash][:compensation]`: see `parseStepFault`. */
  static parse(spec: string): StepFault {
    return parseStepFault(spec);
  }
}

/** An injected crash: the coordinator stops dead during a step, as a killed process would. */
export class CoordinatorCrash extends CoordinatorStop {
  override readonly name = 'CoordinatorCrash';

  constructor(step: string) {
    super(`the coordinator crashed during ${step} (injected)`);
  }
}

/**
 * The coordinator's step hook for a plan: the attempt fails, hangs until it times out, or
 * the coordinator crashes before or after the step's effect, as the plan says.
 */
export function faultHook(plan: FaultPlan): StepHook {
  return async ({ sagaId, step, compensation, attempt, signal }, run) => {
    const fault = plan.find(step, compensation);
    if (!fault) return run();
    const crashKey = `${sagaId}/${step}/${compensation}`;
    if (fault.mode === 'crash' && fault.crash === 'before' && plan.fireOnce(crashKey))
      throw new CoordinatorCrash(step);
    const faulty = fault.times === undefined || attempt <= fault.times;
    if (faulty && fault.mode === 'error')
      throw new Error(`injected failure of ${step}${compensation ? ' (compensation)' : ''}`);
    if (faulty && fault.mode === 'timeout') {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      signal.throwIfAborted();
    }
    const result = await run();
    if (fault.mode === 'crash' && fault.crash !== 'before' && plan.fireOnce(crashKey))
      throw new CoordinatorCrash(step);
    return result;
  };
}
