import type { SagaEventType } from '../schemas/events.js';
import { type EnvelopeOf, type EventEnvelope, unhandled } from '../stream/EventEnvelope.js';
import { currentName } from './sagaNames.js';

export type StepStatus = 'pending' | 'in_progress' | 'retrying' | 'completed' | 'failed';
export type SagaLifecycle = 'in_progress' | 'compensating' | 'completed' | 'compensated' | 'failed';

/** An action or compensation as the saga's events tell it. */
export interface AttemptState {
  readonly status: StepStatus;
  readonly attempt: number;
  /** When the running attempt times out (ms since the epoch). */
  readonly deadline?: number;
  /**
   * The running attempt's timeout (ms), as it started with it: its deadline less the instant
   * its `SagaStepStarted` is dated, which is the instant the deadline was counted from.
   */
  readonly timeoutMs?: number;
  /** While an open breaker holds the attempt: when it starts again (ms since the epoch). */
  readonly heldUntil?: number;
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

/** Every saga event type, listed as a record so the compiler checks the list is complete. */
const SAGA_EVENTS: Readonly<Record<SagaEventType, true>> = {
  SagaStarted: true,
  SagaStepStarted: true,
  SagaStepHeld: true,
  SagaStepCompleted: true,
  SagaStepFailed: true,
  SagaCompensationCompleted: true,
  SagaCompensationFailed: true,
  SagaCompleted: true,
  SagaCompensated: true,
};

/** The events that move a saga (appended by the coordinator to the saga's stream). */
export const SAGA_EVENT_TYPES = Object.keys(SAGA_EVENTS) as readonly SagaEventType[];

/** True for the events that move a saga. */
export function isSagaEvent(event: EventEnvelope): event is EventEnvelope<SagaEventType> {
  return Object.hasOwn(SAGA_EVENTS, event.event_type);
}

/** Whether a saga has not begun work: it runs, and its first step has not started. */
export function hasNotBegun(state: SagaState): boolean {
  return state.status === 'in_progress' && state.steps.every((s) => s.status === 'pending');
}

/** Whether a saga has ended: completed, compensated or failed. */
export function hasEnded(state: SagaState): boolean {
  return (
    state.status === 'completed' || state.status === 'compensated' || state.status === 'failed'
  );
}

const PENDING: AttemptState = { status: 'pending', attempt: 0 };

/**
 * Folds a saga's events (its whole stream, in order) into its state; undefined before
 * `SagaStarted`. The one fold of saga events: the coordinator decides on it, and the sagas read
 * model, `saga show` and the API show it.
 */
export function foldSaga(events: readonly EventEnvelope[]): SagaState | undefined {
  let state: SagaState | undefined;
  for (const event of events) {
    // Only the coordinator appends to a saga's stream; an event of another kind there would
    // still take a place in it, which the next append must count.
    state = isSagaEvent(event)
      ? evolveSaga(state, event)
      : state && { ...state, version: event.sequence };
  }
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

/** JSON text as the value it holds; text that is not JSON as itself. */
function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The saga after one more event of its stream; undefined until `SagaStarted`. */
export function evolveSaga(
  state: SagaState | undefined,
  event: EventEnvelope<SagaEventType>,
): SagaState | undefined {
  if (event.event_type === 'SagaStarted') return started(event);
  return state && advanced(state, event);
}

function started(event: EnvelopeOf<'SagaStarted'>): SagaState {
  const d = event.data;
  return {
    sagaId: d.saga_id,
    type: currentName(d.saga_type),
    data: parse(d.data),
    status: 'in_progress',
    steps: d.steps.map((name) => ({
      name: currentName(name),
      ...PENDING,
      compensation: PENDING,
    })),
    compensations: Object.fromEntries(
      Object.entries(d.compensations).map(([step, name]) => [currentName(step), currentName(name)]),
    ),
    version: event.sequence,
    startedAt: event.timestamp,
    updatedAt: event.timestamp,
  };
}

/** A step with its attempt's state replaced: a deadline or a hold ends with its attempt. */
function withAttempt(s: StepState, attempt: AttemptState): StepState {
  const { deadline: _, heldUntil: __, timeoutMs: ___, ...rest } = s;
  return { ...rest, ...attempt };
}

function advanced(
  state: SagaState,
  event: EventEnvelope<Exclude<SagaEventType, 'SagaStarted'>>,
): SagaState {
  const at = Date.parse(event.timestamp);
  const step = (name: string, change: (s: StepState) => StepState): SagaState['steps'] => {
    const current = currentName(name);
    return state.steps.map((s) => (s.name === current ? change(s) : s));
  };
  const base = { ...state, version: event.sequence, updatedAt: event.timestamp };
  switch (event.event_type) {
    case 'SagaStepStarted': {
      const d = event.data;
      const attempt: AttemptState = {
        status: 'in_progress',
        attempt: d.attempt,
        deadline: Date.parse(d.deadline),
        timeoutMs: Date.parse(d.deadline) - Date.parse(event.timestamp),
      };
      return d.compensation
        ? {
            ...base,
            status: 'compensating',
            steps: step(d.step_name, (s) => ({ ...s, compensation: attempt })),
          }
        : {
            ...base,
            steps: step(d.step_name, (s) => ({ ...withAttempt(s, attempt), output: undefined })),
          };
    }
    case 'SagaStepHeld': {
      const d = event.data;
      // Not running while held: no deadline until the attempt starts again.
      const attempt: AttemptState = {
        status: 'in_progress',
        attempt: d.attempt,
        heldUntil: Date.parse(d.retry_at),
      };
      return d.compensation
        ? {
            ...base,
            status: 'compensating',
            steps: step(d.step_name, (s) => ({ ...s, compensation: attempt })),
          }
        : { ...base, steps: step(d.step_name, (s) => withAttempt(s, attempt)) };
    }
    case 'SagaStepCompleted': {
      const d = event.data;
      const output = parse(d.output);
      return {
        ...base,
        data: withStepData(state.data, output),
        steps: step(d.step_name, (s) => ({
          ...s,
          status: 'completed',
          attempt: d.attempt,
          output,
        })),
      };
    }
    case 'SagaStepFailed': {
      const d = event.data;
      const gaveUp = !d.will_retry;
      const failed = step(d.step_name, (s) => ({
        ...s,
        status: gaveUp ? 'failed' : 'retrying',
        attempt: d.attempt,
        failedAt: at,
        error: d.error,
      }));
      return gaveUp
        ? {
            ...base,
            steps: failed,
            status: 'compensating',
            failedStep: currentName(d.step_name),
            error: d.error,
          }
        : { ...base, steps: failed };
    }
    case 'SagaCompensationCompleted': {
      const d = event.data;
      return {
        ...base,
        steps: step(d.step_name, (s) => ({
          ...s,
          compensation: { status: 'completed', attempt: d.attempt },
        })),
      };
    }
    case 'SagaCompensationFailed': {
      const d = event.data;
      const gaveUp = !d.will_retry;
      const steps = step(d.step_name, (s) => ({
        ...s,
        compensation: {
          status: gaveUp ? 'failed' : 'retrying',
          attempt: d.attempt,
          failedAt: at,
          error: d.error,
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
      return unhandled(event);
  }
}
