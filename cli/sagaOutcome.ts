import { sagaStream } from '../sagas/SagaCoordinator.js';
import { type SagaStepDoc, sagaDocument } from '../sagas/sagaDocument.js';
import { currentName } from '../sagas/sagaNames.js';
import { foldSaga, type SagaState } from '../sagas/sagaState.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';

/** How a saga ended, for summaries: its status and the compensations that ran, in order. */
export interface SagaOutcome {
  readonly id: string;
  readonly status: SagaState['status'];
  readonly failed_step: string | null;
  readonly error: string | null;
  /** Compensations that completed, in the order they ran (the reverse of the steps). */
  readonly compensations: readonly string[];
  /** Each step as the saga document shows it: its attempts and error, and its compensation's. */
  readonly steps: readonly SagaStepDoc[];
  readonly seconds: number | null;
}

/** Reads a saga's outcome from its stream, with the fold the coordinator decides on. */
export async function sagaOutcome(store: EventStore, sagaId: string): Promise<SagaOutcome> {
  const events = await store.read(sagaStream(sagaId));
  const state = foldSaga(events);
  if (!state) throw new Error(`there is no saga ${sagaId}`);
  const compensations = events
    .filter((e) => e.event_type === 'SagaCompensationCompleted')
    .map((e) => {
      const step = currentName(String(e.data.step_name));
      return state.compensations[step] ?? `compensate ${step}`;
    });
  return {
    id: sagaId,
    status: state.status,
    failed_step: state.failedStep ?? null,
    error: state.error ?? null,
    compensations,
    steps: sagaDocument(state).steps,
    seconds: state.finishedAt
      ? Number(((Date.parse(state.finishedAt) - Date.parse(state.startedAt)) / 1000).toFixed(2))
      : null,
  };
}

/**
 * Why a saga that ended did not complete, for its error line: the step that failed and its
 * error; for a saga left failed, also the compensation that failed and its error (the
 * failure that set the compensations off is not what left it failed), and where to look.
 * Undefined for a saga that completed or has not ended.
 */
export function whyNotCompleted(outcome: SagaOutcome): string | undefined {
  if (outcome.status !== 'compensated' && outcome.status !== 'failed') return undefined;
  const first = `after ${outcome.failed_step ?? 'a step'} failed: ${outcome.error ?? ''}`;
  if (outcome.status === 'compensated') return first;
  const stuck = outcome.steps.find((s) => s.compensation.status === 'failed');
  const compensation = stuck
    ? `, and ${stuck.compensation_function ?? 'the compensation'} (compensating ${stuck.step_name}) failed: ${stuck.compensation.error ?? ''}`
    : '';
  return `${first}${compensation}; see "matchstream saga show ${outcome.id}"`;
}
