import { parseRpiSagaData, RPI_SAGA } from './rpi/rpiSagaData.js';
import type { AttemptState, SagaLifecycle, SagaState, StepStatus } from './sagaState.js';

/** A compensation that has not run shows `not_run`. */
export type CompensationStatus = Exclude<StepStatus, 'pending'> | 'not_run';

/** A step's compensation as the saga document shows it. */
export interface CompensationDoc {
  readonly status: CompensationStatus;
  readonly attempts: number;
  readonly error: string | null;
}

/** A step as the saga document shows it: its own attempts and error, and its compensation's. */
export interface SagaStepDoc {
  readonly step_name: string;
  readonly status: StepStatus;
  readonly attempts: number;
  /** The last attempt's error, while the step is not completed. */
  readonly error: string | null;
  /** The name of the step's compensation. */
  readonly compensation_function: string | null;
  readonly compensation: CompensationDoc;
}

/**
 * The saga structure of the design: id, type, status (`in_progress`, `compensating`,
 * `completed`, `compensated`, `failed`), data, steps; with where it failed and when.
 */
export interface SagaDoc {
  readonly saga_id: string;
  readonly saga_type: string;
  readonly status: SagaLifecycle;
  readonly data: unknown;
  readonly steps: readonly SagaStepDoc[];
  /** The step whose failure started the compensation, and its error. */
  readonly failed_step: string | null;
  readonly error: string | null;
  /** The last step's output, once completed. */
  readonly output: unknown;
  readonly started_at: string;
  readonly updated_at: string;
  readonly finished_at: string | null;
  /** The saga stream's version this document reflects. */
  readonly version: number;
}

/** A saga without its data, steps and output (for lists). */
export type SagaSummary = Omit<SagaDoc, 'steps' | 'data' | 'output'>;

function compensationDoc(c: AttemptState): CompensationDoc {
  return {
    status: c.status === 'pending' ? 'not_run' : c.status,
    attempts: c.attempt,
    error: c.error ?? null,
  };
}

/** What each saga type's data shows (older sagas' data completed with today's fields). */
const DATA_VIEWS: Readonly<Record<string, (data: unknown, startedAt: string) => unknown>> = {
  [RPI_SAGA]: parseRpiSagaData,
};

/**
 * The document of a saga, from its folded state (`foldSaga`): what the sagas read model
 * keeps, the API and `saga show` print.
 */
export function sagaDocument(state: SagaState): SagaDoc {
  const completed = state.status === 'completed';
  return {
    saga_id: state.sagaId,
    saga_type: state.type,
    status: state.status,
    data: DATA_VIEWS[state.type]?.(state.data, state.startedAt) ?? state.data,
    steps: state.steps.map((s) => ({
      step_name: s.name,
      status: s.status,
      attempts: s.attempt,
      error: s.status === 'completed' ? null : (s.error ?? null),
      compensation_function: state.compensations[s.name] ?? null,
      compensation: compensationDoc(s.compensation),
    })),
    failed_step: state.failedStep ?? null,
    error: state.error ?? null,
    output: completed ? (state.steps.at(-1)?.output ?? null) : null,
    started_at: state.startedAt,
    updated_at: state.updatedAt,
    finished_at: state.finishedAt ?? null,
    version: state.version,
  };
}

/** The summary of a saga document. */
export function sagaSummary(doc: SagaDoc): SagaSummary {
  const { steps: _, data: __, output: ___, ...summary } = doc;
  return summary;
}
