import type { SagaEventType } from '../schemas/events.js';
import { type EventEnvelope, unhandled } from '../stream/EventEnvelope.js';
import { currentName } from './sagaNames.js';
import { isSagaEvent } from './sagaState.js';

/** One attempt of a step's action or compensation, from its start to its end. */
export interface TimelineEntry {
  readonly step_name: string;
  readonly kind: 'step' | 'compensation';
  readonly attempt: number;
  readonly started_at: string;
  /** When it completed, failed or was held; null while it runs. */
  readonly ended_at: string | null;
  /**
   * `held`: an open circuit breaker held it before its work, to start again at `retry_at`;
   * `timed_out`: it failed by running past its deadline.
   */
  readonly outcome: 'running' | 'completed' | 'failed' | 'timed_out' | 'held';
  readonly error: string | null;
  /** Whether the coordinator tries it again after this failure. */
  readonly will_retry: boolean | null;
  /** With `held`: when the attempt starts again. */
  readonly retry_at: string | null;
}

/** A saga's attempts in the order they started, and when the saga began and ended. */
export interface SagaTimeline {
  readonly started_at: string | null;
  /** When it completed, compensated, or failed (a compensation given up on); null while it runs. */
  readonly finished_at: string | null;
  readonly entries: readonly TimelineEntry[];
}

/**
 * The timeline of a saga from its stream's events: each attempt of each step and
 * compensation as a span (a `SagaStepStarted` to the event that ends it), what ended it and
 * why. A view of the events themselves, not of the folded state (`foldSaga` keeps the last
 * attempt of each step only).
 *
 * @example sagaTimeline(await store.read('saga:1f0e...')).entries[0]?.outcome
 */
export function sagaTimeline(events: readonly EventEnvelope[]): SagaTimeline {
  const entries: TimelineEntry[] = [];
  const open = new Map<string, number>();
  const keyOf = (step: string, kind: TimelineEntry['kind'], attempt: number) =>
    `${kind}\u0000${currentName(step)}\u0000${attempt}`;
  const end = (
    step: string,
    kind: TimelineEntry['kind'],
    attempt: number,
    at: string,
    ending: Pick<TimelineEntry, 'outcome' | 'error' | 'will_retry' | 'retry_at'>,
  ) => {
    const key = keyOf(step, kind, attempt);
    const index = open.get(key);
    // An ending without its start (an attempt started by a release that kept no start):
    // a span of no length at its end.
    const entry = index === undefined ? undefined : entries[index];
    const ended: TimelineEntry = {
      step_name: currentName(step),
      kind,
      attempt,
      started_at: entry?.started_at ?? at,
      ended_at: at,
      ...ending,
    };
    if (index === undefined) entries.push(ended);
    else entries[index] = ended;
    open.delete(key);
  };
  let startedAt: string | null = null;
  let finishedAt: string | null = null;
  for (const event of events) {
    if (!isSagaEvent(event)) continue;
    const e = event as EventEnvelope<SagaEventType>;
    const at = e.timestamp;
    switch (e.event_type) {
      case 'SagaStarted':
        startedAt = at;
        break;
      case 'SagaStepStarted': {
        const kind = e.data.compensation ? 'compensation' : 'step';
        open.set(keyOf(e.data.step_name, kind, e.data.attempt), entries.length);
        entries.push({
          step_name: currentName(e.data.step_name),
          kind,
          attempt: e.data.attempt,
          started_at: at,
          ended_at: null,
          outcome: 'running',
          error: null,
          will_retry: null,
          retry_at: null,
        });
        break;
      }
      case 'SagaStepHeld':
        end(e.data.step_name, e.data.compensation ? 'compensation' : 'step', e.data.attempt, at, {
          outcome: 'held',
          error: `held by ${e.data.breaker}`,
          will_retry: true,
          retry_at: new Date(Number(e.data.retry_at)).toISOString(),
        });
        break;
      case 'SagaStepCompleted':
        end(e.data.step_name, 'step', e.data.attempt, at, {
          outcome: 'completed',
          error: null,
          will_retry: null,
          retry_at: null,
        });
        break;
      case 'SagaStepFailed':
        end(e.data.step_name, 'step', e.data.attempt, at, {
          outcome: e.data.timed_out ? 'timed_out' : 'failed',
          error: e.data.error,
          will_retry: e.data.will_retry,
          retry_at: null,
        });
        break;
      case 'SagaCompensationCompleted':
        end(e.data.step_name, 'compensation', e.data.attempt, at, {
          outcome: 'completed',
          error: null,
          will_retry: null,
          retry_at: null,
        });
        break;
      case 'SagaCompensationFailed':
        end(e.data.step_name, 'compensation', e.data.attempt, at, {
          outcome: 'failed',
          error: e.data.error,
          will_retry: e.data.will_retry,
          retry_at: null,
        });
        // A compensation given up on ends the saga, failed (as `foldSaga` has it).
        if (!e.data.will_retry) finishedAt = at;
        break;
      case 'SagaCompleted':
      case 'SagaCompensated':
        finishedAt = at;
        break;
      default:
        return unhandled(e);
    }
  }
  return { started_at: startedAt, finished_at: finishedAt, entries };
}
