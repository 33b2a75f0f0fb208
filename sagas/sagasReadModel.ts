import type { DocumentStore } from '../projections/DocumentStore.js';
import type { DocChanges, DocKey, DocView, Projection } from '../projections/Projection.js';
import type { EventEnvelope } from '../stream/EventEnvelope.js';
import { type SagaDoc, type SagaSummary, sagaDocument, sagaSummary } from './sagaDocument.js';
import { currentName, currentStatus } from './sagaNames.js';
import {
  evolveSaga,
  isSagaEvent,
  SAGA_EVENT_TYPES,
  type SagaLifecycle,
  type SagaState,
} from './sagaState.js';

export type { SagaDoc, SagaStepDoc, SagaSummary } from './sagaDocument.js';
export type SagaStatus = SagaLifecycle;

/** What the read model keeps per saga: the fold's state, from which its document is made. */
interface StoredSaga {
  readonly state: SagaState;
}

const sagaKey = (aggregateId: string): DocKey => ({ pk: `saga#${aggregateId}`, sk: '-' });
const listKey = (startedAt: string, aggregateId: string): DocKey => ({
  pk: 'sagas',
  sk: `${startedAt}#${aggregateId}`,
});

/**
 * Saga status: each saga's state folded from its lifecycle events by the coordinator's own fold
 * (`evolveSaga`), so the read model, `saga show` and the API say what the coordinator decided on.
 * Version 2 keeps the fold's state (version 1 kept a second, diverging fold's document).
 */
export const sagasProjection: Projection = {
  name: 'sagas',
  version: 2,
  guardsRepeats: true,
  eventTypes: SAGA_EVENT_TYPES,
  reads: (event) => (isSagaEvent(event) ? [sagaKey(event.aggregate_id)] : []),
  evolve(view: DocView, event: EventEnvelope): DocChanges {
    // The saga events (every `Saga*` type of the catalog), folded by `evolveSaga`, whose
    // exhaustive switch decides about each; no other event is a saga's.
    if (!isSagaEvent(event)) return {};
    const stored = view.get(sagaKey(event.aggregate_id)) as Partial<StoredSaga> | undefined;
    // A document of version 1 has no state to go on from: it is rebuilt from the store.
    if (stored && !stored.state) return {};
    if (stored?.state && stored.state.version >= event.sequence) return {};
    const state = evolveSaga(stored?.state, event);
    if (!state) return {};
    return {
      put: [
        { ...sagaKey(event.aggregate_id), doc: { state } satisfies StoredSaga },
        { ...listKey(state.startedAt, event.aggregate_id), doc: sagaSummary(sagaDocument(state)) },
      ],
    };
  },
};

/** A document written by version 1, in today's names (its steps as they were then). */
function fromVersion1(doc: Record<string, unknown>): SagaDoc {
  return {
    ...(doc as unknown as SagaDoc),
    saga_type: currentName(String(doc.saga_type)),
    status: currentStatus(String(doc.status)) as SagaLifecycle,
  };
}

/** One saga by its id. */
export async function getSaga(store: DocumentStore, sagaId: string): Promise<SagaDoc | undefined> {
  const key = sagaKey(`saga:${sagaId}`);
  const stored = (await store.getMany([key])).get(`${key.pk}\u0000${key.sk}`);
  if (!stored) return undefined;
  const state = (stored as Partial<StoredSaga>).state;
  return state ? sagaDocument(state) : fromVersion1(stored as Record<string, unknown>);
}

/** Every saga's summary, oldest first (statuses of earlier releases in today's names). */
export async function sagaSummaries(store: DocumentStore): Promise<SagaSummary[]> {
  return (await store.query('sagas')).map((d) => {
    const summary = d.doc as unknown as SagaSummary;
    return {
      ...summary,
      saga_type: currentName(summary.saga_type),
      status: currentStatus(summary.status) as SagaLifecycle,
    };
  });
}

/** The saga started last, without its steps. */
export async function lastSaga(store: DocumentStore): Promise<SagaSummary | undefined> {
  return (await sagaSummaries(store)).at(-1);
}

/** Ids of the sagas still in progress or compensating (for the coordinator's sweep). */
export async function activeSagaIds(store: DocumentStore): Promise<string[]> {
  return (await sagaSummaries(store))
    .filter((s) => s.status === 'in_progress' || s.status === 'compensating')
    .map((s) => s.saga_id);
}

/** Saga metrics of the original design: completion, failure and compensation rates, duration. */
export async function sagaMetrics(store: DocumentStore) {
  const sagas = await sagaSummaries(store);
  const count = (status: SagaStatus) => sagas.filter((s) => s.status === status).length;
  const finished = sagas.filter(
    (s) => s.status === 'completed' || s.status === 'compensated' || s.status === 'failed',
  );
  const durations = finished.map((s) => Date.parse(s.updated_at) - Date.parse(s.started_at));
  const rate = (n: number) =>
    finished.length === 0 ? null : Number((n / finished.length).toFixed(4));
  return {
    total: sagas.length,
    running: count('in_progress') + count('compensating'),
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
