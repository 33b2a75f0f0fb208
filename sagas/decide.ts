import type { SagaEventType } from '../schemas/events.js';
import type { DependencyUnavailable } from '../stream/breaker/DependencyUnavailable.js';
import type { NewEvent } from '../stream/EventEnvelope.js';
import { retryDelay, type SagaDefinition } from './SagaDefinition.js';
import { SagaError } from './SagaError.js';
import { hasEnded, hasNotBegun, type SagaState, type StepState } from './sagaState.js';

/** A saga event to append next. */
export type SagaEventToAppend = NewEvent<SagaEventType>;

/**
 * The shortest hold of a step (ms): a breaker whose trial is under way gives its trial time as
 * now, and a saga held until now would run the step, be held and record it again at once.
 */
export const HELD_POLL_MS = 1000;

/** What the coordinator does next for a saga. */
export type Decision =
  | { readonly kind: 'append'; readonly event: SagaEventToAppend }
  | {
      readonly kind: 'run';
      readonly step: string;
      readonly attempt: number;
      readonly deadline: number;
      /** The attempt's timeout, as it started with it (the settings may have changed since). */
      readonly timeoutMs: number;
      readonly compensation: boolean;
    }
  | { readonly kind: 'wait'; readonly until: number }
  | { readonly kind: 'done' };

/**
 * The next move of a saga, from its state and the clock alone (pure): start, retry or time
 * out the current step; complete the saga; or, once a step failed for good, compensate what ran
 * — the failed step and the completed ones before it — in reverse order.
 */
export function decide<D>(state: SagaState, definition: SagaDefinition<D>, now: number): Decision {
  const sagaId = state.sagaId;
  if (hasEnded(state)) return { kind: 'done' };
  const settings = (name: string) => definition.steps.find((s) => s.name === name);

  if (state.status === 'in_progress') {
    const notBefore = definition.notBefore?.(definition.parseData(state.data));
    if (notBefore !== undefined && hasNotBegun(state) && now < Date.parse(notBefore)) {
      return { kind: 'wait', until: Date.parse(notBefore) };
    }
    for (const step of state.steps) {
      if (step.status === 'completed') continue;
      const def = settings(step.name);
      if (!def)
        throw new SagaError(
          'UNKNOWN_DEFINITION',
          `saga ${sagaId}: step ${step.name} is not in the ${definition.type} definition`,
          { retryable: false, context: { sagaId, step: step.name } },
        );
      return next(
        step,
        def.timeoutMs,
        def.retry.maxAttempts,
        (attempt) => retryDelay(def.retry, attempt),
        now,
        sagaId,
        false,
      );
    }
    return {
      kind: 'append',
      event: {
        event_type: 'SagaCompleted',
        data: { saga_id: sagaId, output: JSON.stringify(lastOutput(state)) },
      },
    };
  }

  // Compensating: the failed step first, then each completed step before it, last first.
  const failedAt = state.steps.findIndex((s) => s.name === state.failedStep);
  const toUndo = state.steps
    .slice(0, failedAt + 1)
    .filter((s) => s.status === 'completed' || s.status === 'failed')
    .reverse();
  for (const step of toUndo) {
    if (step.compensation.status === 'completed') continue;
    const def = settings(step.name);
    const timeoutMs = def?.timeoutMs ?? 30_000;
    const policy = definition.compensationRetry;
    return next(
      { ...step, ...step.compensation },
      timeoutMs,
      policy.maxAttempts,
      (attempt) => retryDelay(policy, attempt),
      now,
      sagaId,
      true,
    );
  }
  return {
    kind: 'append',
    event: {
      event_type: 'SagaCompensated',
      data: { saga_id: sagaId, failed_step: state.failedStep ?? '', error: state.error ?? '' },
    },
  };
}

function next(
  step: StepState,
  timeoutMs: number,
  maxAttempts: number,
  delay: (attempt: number) => number,
  now: number,
  sagaId: string,
  compensation: boolean,
): Decision {
  const started = (attempt: number): Decision => ({
    kind: 'append',
    event: {
      event_type: 'SagaStepStarted',
      // Dated at the instant the deadline counts from, so the fold knows the attempt's timeout.
      timestamp: new Date(now).toISOString(),
      data: {
        saga_id: sagaId,
        step_name: step.name,
        attempt,
        compensation,
        deadline: new Date(now + timeoutMs).toISOString(),
      },
    },
  });
  switch (step.status) {
    case 'pending':
      return started(1);
    case 'in_progress':
      // Held by an open breaker, the attempt is not running and cannot time out: it starts
      // again at the trial time, with its whole timeout from then.
      if (step.heldUntil !== undefined)
        return now >= step.heldUntil
          ? started(step.attempt)
          : { kind: 'wait', until: step.heldUntil };
      if (step.deadline !== undefined && now >= step.deadline) {
        return failure(
          sagaId,
          step.name,
          step.attempt,
          `timed out after ${step.timeoutMs ?? timeoutMs} ms`,
          step.attempt < maxAttempts,
          true,
          compensation,
        );
      }
      return {
        kind: 'run',
        step: step.name,
        attempt: step.attempt,
        deadline: step.deadline ?? now + timeoutMs,
        timeoutMs: step.deadline !== undefined ? (step.timeoutMs ?? timeoutMs) : timeoutMs,
        compensation,
      };
    case 'retrying': {
      const at = (step.failedAt ?? now) + delay(step.attempt);
      return now >= at ? started(step.attempt + 1) : { kind: 'wait', until: at };
    }
    default:
      return { kind: 'done' };
  }
}

/**
 * The event recording an attempt that an open breaker held: no attempt is spent and no time,
 * and the attempt starts again at the breaker's trial time (at least `HELD_POLL_MS` from now).
 * Recorded, so that a saga the sweep resumes after a crash, or after a short-lived caller left
 * it waiting, still knows the attempt never ran out of time.
 */
export function held(
  sagaId: string,
  decision: Extract<Decision, { kind: 'run' }>,
  by: DependencyUnavailable,
  now: number,
): SagaEventToAppend {
  return {
    event_type: 'SagaStepHeld',
    data: {
      saga_id: sagaId,
      step_name: decision.step,
      attempt: decision.attempt,
      compensation: decision.compensation,
      breaker: by.breaker,
      retry_at: new Date(Math.max(by.retryAt, now + HELD_POLL_MS)).toISOString(),
    },
  };
}

/** The event recording a failed attempt. */
export function failure(
  sagaId: string,
  step: string,
  attempt: number,
  error: string,
  willRetry: boolean,
  timedOut: boolean,
  compensation: boolean,
): Decision {
  return {
    kind: 'append',
    event: compensation
      ? {
          event_type: 'SagaCompensationFailed',
          data: { saga_id: sagaId, step_name: step, attempt, error, will_retry: willRetry },
        }
      : {
          event_type: 'SagaStepFailed',
          data: {
            saga_id: sagaId,
            step_name: step,
            attempt,
            error,
            will_retry: willRetry,
            timed_out: timedOut,
          },
        },
  };
}

function lastOutput(state: SagaState): unknown {
  return state.steps.at(-1)?.output ?? null;
}
