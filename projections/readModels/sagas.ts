import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import type { DocumentStore } from '../DocumentStore.js';
import type { DocChanges, DocKey, DocView, Projection } from '../Projection.js';

export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';
export type StepStatus =
  | 'pending'
  | 'running'
  | 'completed'
  | 'retrying'
  | 'failed'
  | 'compensating'
  | 'compensated'
  | 'compensation-failed';

/** A saga step as the status read model shows it. */
export interface SagaStep {
  readonly step_name: string;
  readonly status: StepStatus;
  /** The name of the step's compensation, when the saga definition gives one. */
  readonly compensation_function: string | null;
  readonly attempts: number;
  readonly error: string | null;
}

/** The saga structure of the original design: id, type, status, data, steps. */
export interface SagaDoc {
  readonly saga_id: string;
  readonly saga_type: string;
  readonly status: SagaStatus;
  readonly data: unknown;
  readonly steps: readonly SagaStep[];
  readonly started_at: string;
  readonly updated_at: string;
  readonly output: unknown;
  readonly version: number;
}

const sagaKey = (aggregateId: string): DocKey => ({ pk: `saga#${aggregateId}`, sk: '-' });
const listKey = (startedAt: string, aggregateId: string): DocKey => ({
  pk: 'sagas',
  sk: `${startedAt}#${aggregateId}`,
});

/** Saga status: each saga's state and its steps, from the saga lifecycle events. */
export const sagasProjection: Projection = {
  name: 'sagas',
  version: 1,
  eventTypes: [
    'SagaStarted',
    'SagaStepStarted',
    'SagaStepCompleted',
    'SagaStepFailed',
    'SagaCompensationCompleted',
    'SagaCompensationFailed',
    'SagaCompleted',
    'SagaCompensated',
  ],
  reads: (event) => [sagaKey(event.aggregate_id)],
  evolve(view: DocView, event: EventEnvelope): DocChanges {
    const current = view.get(sagaKey(event.aggregate_id)) as SagaDoc | undefined;
    if (current && current.version >= event.sequence) return {};
    const next = nextSaga(current, event);
    if (!next) return {};
    const { steps: _, data: __, output: ___, ...summary } = next;
    return {
      put: [
        { ...sagaKey(event.aggregate_id), doc: next },
        { ...listKey(next.started_at, event.aggregate_id), doc: summary },
      ],
    };
  },
};

function parse(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function nextSaga(current: SagaDoc | undefined, event: EventEnvelope): SagaDoc | undefined {
  const d = event.data;
  const step = (name: unknown, change: (s: SagaStep) => SagaStep) =>
    (current?.steps ?? []).map((s) => (s.step_name === name ? change(s) : s));
  const at = { updated_at: event.timestamp, version: event.sequence };
  if (event.event_type === 'SagaStarted') {
    const compensations = (d.compensations as Record<string, string> | undefined) ?? {};
    return {
      saga_id: String(d.saga_id),
      saga_type: String(d.saga_type),
      status: 'running',
      data: parse(d.data),
      steps: (d.steps as string[]).map((name) => ({
        step_name: name,
        status: 'pending',
        compensation_function: compensations[name] ?? null,
        attempts: 0,
        error: null,
      })),
      started_at: event.timestamp,
      output: null,
      ...at,
    };
  }
  if (!current) return undefined;
  switch (event.event_type) {
    case 'SagaStepStarted':
      return d.compensation
        ? {
            ...current,
            ...at,
            status: 'compensating',
            steps: step(d.step_name, (s) => ({
              ...s,
              status: 'compensating',
              attempts: Number(d.attempt),
            })),
          }
        : {
            ...current,
            ...at,
            steps: step(d.step_name, (s) => ({
              ...s,
              status: 'running',
              attempts: Number(d.attempt),
            })),
          };
    case 'SagaStepCompleted':
      return {
        ...current,
        ...at,
        steps: step(d.step_name, (s) => ({
          ...s,
          status: 'completed',
          attempts: Number(d.attempt),
          error: null,
        })),
      };
    case 'SagaStepFailed':
      return {
        ...current,
        ...at,
        status: d.will_retry ? current.status : 'compensating',
        steps: step(d.step_name, (s) => ({
          ...s,
          status: d.will_retry ? 'retrying' : 'failed',
          attempts: Number(d.attempt),
          error: String(d.error),
        })),
      };
    case 'SagaCompensationCompleted':
      return {
        ...current,
        ...at,
        status: 'compensating',
        steps: step(d.step_name, (s) => ({ ...s, status: 'compensated' })),
      };
    case 'SagaCompensationFailed':
      return {
        ...current,
        ...at,
        status: d.will_retry ? 'compensating' : 'failed',
        steps: step(d.step_name, (s) => ({
          ...s,
          status: d.will_retry ? 'compensating' : 'compensation-failed',
          error: String(d.error),
        })),
      };
    case 'SagaCompleted':
      return { ...current, ...at, status: 'completed', output: parse(d.output) };
    case 'SagaCompensated':
      return { ...current, ...at, status: 'compensated' };
    default:
      return undefined;
  }
}

/** One saga by its id. */
export async function getSaga(store: DocumentStore, sagaId: string): Promise<SagaDoc | undefined> {
  const key = sagaKey(`saga:${sagaId}`);
  return (await store.getMany([key])).get(`${key.pk}\u0000${key.sk}`) as SagaDoc | undefined;
}

/** The saga started last, without its steps. */
export async function lastSaga(
  store: DocumentStore,
): Promise<Omit<SagaDoc, 'steps' | 'data' | 'output'> | undefined> {
  return (await store.query('sagas')).at(-1)?.doc as
    | Omit<SagaDoc, 'steps' | 'data' | 'output'>
    | undefined;
}

/** Ids of the sagas still running or compensating (for the coordinator's sweep). */
export async function activeSagaIds(store: DocumentStore): Promise<string[]> {
  return (await store.query('sagas'))
    .map((d) => d.doc as Omit<SagaDoc, 'steps' | 'data' | 'output'>)
    .filter((s) => s.status === 'running' || s.status === 'compensating')
    .map((s) => s.saga_id);
}

/** Saga metrics of the original design: completion, failure and compensation rates, duration. */
export async function sagaMetrics(store: DocumentStore) {
  const sagas = (await store.query('sagas')).map(
    (d) => d.doc as Omit<SagaDoc, 'steps' | 'data' | 'output'>,
  );
  const count = (status: SagaStatus) => sagas.filter((s) => s.status === status).length;
  const finished = sagas.filter(
    (s) => s.status === 'completed' || s.status === 'compensated' || s.status === 'failed',
  );
  const durations = finished.map((s) => Date.parse(s.updated_at) - Date.parse(s.started_at));
  const rate = (n: number) =>
    finished.length === 0 ? null : Number((n / finished.length).toFixed(4));
  return {
    total: sagas.length,
    running: count('running') + count('compensating'),
    completed: count('completed'),
    compensated: count('compensated'),
    failed: count('failed'),
    completion_rate: rate(count('completed')),
    compensation_rate: rate(count('compensated')),
    failure_rate: rate(count('compensated') + count('failed')),
    mean_duration_ms:
      durations.length === 0
        ? null
        : Math.round(durations.reduce((a, b) => a + b, 0) / durations.length),
  };
}
