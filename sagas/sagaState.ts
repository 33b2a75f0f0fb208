import type { EventEnvelope } from '../stream/EventEnvelope.js';

export type StepStatus = 'pending' | 'running' | 'retrying' | 'completed' | 'failed';
export type SagaLifecycle = 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';

/** An action or compensation as the saga's events tell it. */
export interface AttemptState {
  readonly status: StepStatus;
  readonly attempt: number;
  /** When the running attempt times out (ms since the epoch). */
  readonly deadline?: number;
  /** When the last attempt failed (ms since the epoch). */
  readonly failedAt?: number;
  readonly error?: string;
}

export interface StepState extends AttemptState {
  readonly name: string;
  readonly output?: unknown;
  readonly compensation: AttemptState;
}

/** A saga folded from its events: everything the coordinator decides on. */
export interface SagaState {
  readonly sagaId: string;
  readonly type: string;
  readonly data: unknown;
  readonly status: SagaLifecycle;
  readonly steps: readonly StepState[];
  readonly compensations: Readonly<Record<string, string>>;
  /** The step whose failure started the compensation. */
  readonly failedStep?: string;
  readonly error?: string;
  /** The stream's version (for the next append). */
  readonly version: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
}

const PENDING: AttemptState = { status: 'pending', attempt: 0 };

/** Folds a saga's events (its whole stream, in order) into its state; undefined before `SagaStarted`. */
export function foldSaga(events: readonly EventEnvelope[]): SagaState | undefined {
  let state: SagaState | undefined;
  for (const event of events) state = evolveSaga(state, event);
  return state;
}

function parse(text: unknown): unknown {
  if (typeof text !== 'string') return text ?? null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function evolveSaga(
  state: SagaState | undefined,
  event: EventEnvelope,
): SagaState | undefined {
  const d = event.data;
  if (event.event_type === 'SagaStarted') {
    return {
      sagaId: String(d.saga_id),
      type: String(d.saga_type),
      data: parse(d.data),
      status: 'running',
      steps: (d.steps as string[]).map((name) => ({ name, ...PENDING, compensation: PENDING })),
      compensations: (d.compensations as Record<string, string> | undefined) ?? {},
      version: event.sequence,
      startedAt: event.timestamp,
    };
  }
  if (!state) return state;
  const at = Date.parse(event.timestamp);
  const step = (change: (s: StepState) => StepState): SagaState['steps'] =>
    state.steps.map((s) => (s.name === d.step_name ? change(s) : s));
  const base = { ...state, version: event.sequence };
  switch (event.event_type) {
    case 'SagaStepStarted': {
      const attempt: AttemptState = {
        status: 'running',
        attempt: Number(d.attempt),
        deadline: Date.parse(String(d.deadline)),
      };
      return d.compensation
        ? { ...base, status: 'compensating', steps: step((s) => ({ ...s, compensation: attempt })) }
        : { ...base, steps: step((s) => ({ ...s, ...attempt, output: undefined })) };
    }
    case 'SagaStepCompleted':
      return {
        ...base,
        steps: step((s) => ({
          ...s,
          status: 'completed',
          attempt: Number(d.attempt),
          output: parse(d.output),
        })),
      };
    case 'SagaStepFailed': {
      const gaveUp = !d.will_retry;
      const failed = step((s) => ({
        ...s,
        status: gaveUp ? 'failed' : 'retrying',
        attempt: Number(d.attempt),
        failedAt: at,
        error: String(d.error),
      }));
      return gaveUp
        ? {
            ...base,
            steps: failed,
            status: 'compensating',
            failedStep: String(d.step_name),
            error: String(d.error),
          }
        : { ...base, steps: failed };
    }
    case 'SagaCompensationCompleted':
      return {
        ...base,
        steps: step((s) => ({
          ...s,
          compensation: { status: 'completed', attempt: Number(d.attempt) },
        })),
      };
    case 'SagaCompensationFailed': {
      const gaveUp = !d.will_retry;
      const steps = step((s) => ({
        ...s,
        compensation: {
          status: gaveUp ? 'failed' : 'retrying',
          attempt: Number(d.attempt),
          failedAt: at,
          error: String(d.error),
        },
      }));
      return gaveUp
        ? { ...base, steps, status: 'failed', finishedAt: event.timestamp }
        : { ...base, steps };
    }
    case 'SagaCompleted':
      return { ...base, status: 'completed', finishedAt: event.timestamp };
    case 'SagaCompensated':
      return { ...base, status: 'compensated', finishedAt: event.timestamp };
    default:
      return base;
  }
}
