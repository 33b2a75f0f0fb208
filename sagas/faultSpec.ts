import { currentName } from './sagaNames.js';

/**
 * The `--inject-fault` syntax, apart from `FaultPlan` (faults.ts) and the coordinator it
 * reaches: the CLI checks the option as it parses the command line, before it loads a saga.
 */

/** Where a saga step should fail on purpose (to watch a compensation happen). */
export interface StepFault {
  readonly step: string;
  /** error: every attempt throws; timeout: every attempt hangs; crash: the coordinator dies mid-step, once. */
  readonly mode: 'error' | 'timeout' | 'crash';
  /** In the step's action (default) or in its compensation. */
  readonly in?: 'action' | 'compensation';
  /** With crash: die before the step's effect, or after it (default: after). */
  readonly crash?: 'before' | 'after';
  /** With error or timeout: only the first attempts fail (default: every attempt). */
  readonly times?: number;
}

/**
 * Parses `saga:STEP[:error|timeout|crash][:compensation]` (the `--inject-fault` syntax); a step
 * name of an earlier release (`collect-matches`) means the step it is now (`collect_matches`).
 */
export function parseStepFault(spec: string): StepFault {
  const match = /^saga:([a-z0-9_-]+)(?::(error|timeout|crash))?(?::(compensation))?$/.exec(spec);
  if (!match)
    throw new Error(`fault "${spec}" is not saga:STEP[:error|timeout|crash][:compensation]`);
  return {
    step: currentName(match[1] ?? ''),
    mode: (match[2] ?? 'error') as StepFault['mode'],
    in: match[3] ? 'compensation' : 'action',
  };
}
