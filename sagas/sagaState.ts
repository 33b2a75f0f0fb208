import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { currentName } from './sagaNames.js';

export type StepStatus = 'pending' | 'in_progress' | 'retrying' | 'completed' | 'failed';
export type SagaLifecycle = 'in_progress' | 'compensating' | 'completed' | 'compensated' | 'failed';

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
  /** What the saga was started with, and what its steps added (`saga_data` of their outputs). */
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
  /** When its last event was appended. */
  readonly updatedAt: string;
  readonly finishedAt?: string;
}

/** The events that move a saga (appended by the coordinator to the saga's stream). */
export const SAGA_EVENT_TYPES = [
  'SagaStarted',
  'SagaStepStarted',
  'SagaStepCompleted',
  'SagaStepFailed',
  'SagaCompensationCompleted',
  'SagaCompensationFailed',
  'SagaCompleted',
  'SagaCompensated',
] as const;

const PENDING: AttemptState = { status: 'pending', attempt: 0 };

/**
 * Folds a saga's events (its whole stream, in order) into its state; undefined before
 * `SagaStarted`. The one fold of saga events: the coordinator decides on it, and the sagas read
 * model, `saga show` and the API show it.
 */
export function foldSaga(events: readonly EventEnvelope[]): SagaState | undefined {
  let state: SagaState | undefined;
  for (const event of events) state = evolveSaga(state, event);
  return state;
}

/** A step's output may add to the saga's data: `{ ..., saga_data: { date_range: ... } }`. */
function withStepData(data: unknown, output: unknown): unknown {
  const added = isObject(output) ? output.saga_data : undefined;
  return isObject(data) && isObject(added) ? { ...data, ...added } : data;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
    const compensations = (d.compensations as Record<string, string> | undefined) ?? {};
    return {
      sagaId: String(d.saga_id),
      type: currentName(String(d.saga_type)),
      data: parse(d.data),
      status: 'in_progress',
      steps: (d.steps as string[]).map((name) => ({
        name: currentName(name),
        ...PENDING,
        compensation: PENDING,
      })),
      compensations: Object.fromEntries(
        Object.entries(compensations).map(([step, name]) => [currentName(step), currentName(name)]),
      ),
      version: event.sequence,
      startedAt: event.timestamp,
      updatedAt: event.timestamp,
    };
  }
  if (!state) return state;
  const at = Date.parse(event.timestamp);
  const stepName = currentName(String(d.step_name));
  const step = (change: (s: StepState) => StepState): SagaState['steps'] =>
    state.steps.map((s) => (s.name === stepName ? change(s) : s));
  const base = { ...state, version: event.sequence, updatedAt: event.timestamp };
  switch (event.event_type) {
    case 'SagaStepStarted': {
      const attempt: AttemptState = {
        status: 'in_progress',
        attempt: Number(d.attempt),
        deadline: Date.parse(String(d.deadline)),
      };
      return d.compensation
        ? { ...base, status: 'compensating', steps: step((s) => ({ ...s, compensation: attempt })) }
        : { ...base, steps: step((s) => ({ ...s, ...attempt, output: undefined })) };
    }
    case 'SagaStepCompleted': {
      const output = parse(d.output);
      return {
        ...base,
        data: withStepData(state.data, output),
        steps: step((s) => ({ ...s, status: 'completed', attempt: Number(d.attempt), output })),
      };
    }
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
            failedStep: stepName,
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
