import { isDeepStrictEqual } from 'node:util';
import type { DynamoDocumentStore } from '../projections/DynamoDocumentStore.js';
import type { Projection } from '../projections/Projection.js';
import { Projector } from '../projections/Projector.js';
import { generationConsumer } from '../projections/ReadModelRegistry.js';
import { ReadModelTarget } from '../projections/ReadModelTarget.js';
import { AggregateSequencer } from '../stream/consumer/AggregateSequencer.js';
import { DynamoPositionStore } from '../stream/consumer/DynamoPositionStore.js';
import { DynamoReplayCheckpoints } from '../stream/replay/ReplayCheckpoints.js';
import { type ReplayProgress, replay } from '../stream/replay/replay.js';
import type { EmbeddedPipeline } from './embeddedPipeline.js';

export interface RebuildOptions {
  readonly segments?: number;
  /** Commits per scan page (default: 1 MB pages). */
  readonly pageSize?: number;
  /** Compare the new generation with the live one before switching. */
  readonly verify?: boolean;
  /** Build and catch up, but leave the active generation as it is. */
  readonly noSwitch?: boolean;
  readonly onProgress?: (progress: ReplayProgress) => void;
  readonly signal?: AbortSignal;
}

/** A document that differs between two generations. */
export interface DocumentDifference {
  readonly pk: string;
  readonly sk: string;
  readonly kind: 'missing' | 'extra' | 'changed';
}

export interface RebuildSummary {
  readonly projection: string;
  readonly generation: number;
  readonly table: string;
  readonly previous_generation: number;
  /** True when an interrupted rebuild of this generation was continued. */
  readonly resumed: boolean;
  /** False when interrupted: run it again to continue. */
  readonly completed: boolean;
  readonly switched: boolean;
  /** Events of the types the read model reads, applied by the replay. */
  readonly events: number;
  /** Commits (stored items) the replay read. */
  readonly scanned: number;
  /** How long the replay took (the rest is the catch-up, the comparison and the switch). */
  readonly replay_seconds: number;
  /** Commits read per second by the replay. */
  readonly scanned_per_second: number;
  readonly seconds: number;
  readonly events_per_second: number;
  /**
   * Stored events the replay could not read (corrupt bytes, an unknown schema) and the later
   * events of their streams, held back as the live consumer holds them: each dead-lettered
   * under the consumer `rebuild:<read model>`, with why.
   */
  readonly unreadable: number;
  /** Events the new generation's consumer applied while catching up from the stream. */
  readonly caught_up: number;
  /** With --verify: documents that differ from the live generation (0 when identical). */
  readonly differences: number | null;
  readonly difference_samples: readonly DocumentDifference[];
}

/**
 * Builds a new generation of a read model while the live one keeps serving and updating:
 * (1) replays the whole store into a new table, through the positions of the consumer that
 * will feed it; (2) starts that consumer on the stream, which skips what the replay applied
 * and applies what was appended since; (3) once it has caught up, optionally compares it with
 * the live generation; (4) switches the active generation in one registry write. The old
 * generation stays, still fed, until `projections drop`. Interrupted, it resumes.
 */
export async function rebuildReadModel(
  pipeline: EmbeddedPipeline,
  projection: Projection,
  options: RebuildOptions = {},
): Promise<RebuildSummary> {
  const { runtime, registry } = pipeline;
  const started = performance.now();
  const previous = await registry.active(projection);
  const generation = await registry.building(projection);
  const store = await pipeline.tableStore(generation.table);
  const projector = new Projector(projection, store);
  const consumer = generationConsumer(projection.name, generation.generation);
  const sequencer = new AggregateSequencer({
    consumer,
    store: runtime.store,
    positions: new DynamoPositionStore(runtime.dynamo, consumer),
    apply: (events) => projector.apply(events),
  });
  const replayed = await replay({
    source: runtime.store,
    target: new ReadModelTarget(
      projector,
      `read model ${projection.name} generation ${generation.generation}`,
      sequencer,
    ),
    name: `rebuild:${projection.name}:g${generation.generation}`,
    // Only what the read model reads: other streams get no positions from the replay; should
    // one of them move during the catch-up, the sequencer reads its earlier events then.
    ...(projection.eventTypes === '*' ? {} : { filters: { eventTypes: projection.eventTypes } }),
    checkpoints: await DynamoReplayCheckpoints.open(runtime.dynamo),
    ...(options.segments ? { segments: options.segments } : {}),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    onUnreadable: (event) =>
      runtime.deadLetters.send({
        consumer: `rebuild:${projection.name}`,
        event,
        error: event.error,
        attempts: 1,
        failed_at: new Date().toISOString(),
      }),
  });
  const base = {
    projection: projection.name,
    generation: generation.generation,
    table: generation.table,
    previous_generation: previous.generation,
    resumed: replayed.resumed,
    events: replayed.events,
    scanned: replayed.scanned,
    unreadable: replayed.unreadable,
    replay_seconds: replayed.seconds,
    scanned_per_second: Math.round(replayed.scanned / Math.max(replayed.seconds, 0.001)),
  };
  if (!replayed.completed) {
    return {
      ...base,
      completed: false,
      switched: false,
      seconds: replayed.seconds,
      events_per_second: replayed.events_per_second,
      caught_up: 0,
      differences: null,
      difference_samples: [],
    };
  }
  // Catch up from the stream: what was appended during the replay, and anything after.
  await runtime.addConsumer(consumer, (events) => projector.apply(events));
  await runtime.settle();
  const caughtUp = runtime.consumers.get(consumer)?.counts.applied ?? 0;
  let differences: DocumentDifference[] | null = null;
  if (options.verify) {
    differences = await compareTables(await pipeline.tableStore(previous.table), store);
  }
  const switched = !options.noSwitch;
  await registry.markBuilt(projection, generation.generation, switched);
  if (switched) pipeline.refreshReadModels();
  const seconds = (performance.now() - started) / 1000;
  return {
    ...base,
    completed: true,
    switched,
    seconds: Number(seconds.toFixed(3)),
    events_per_second: replayed.events_per_second,
    caught_up: caughtUp,
    differences: differences?.length ?? null,
    difference_samples: (differences ?? []).slice(0, 20),
  };
}

/** Every document that is not the same in both tables. */
export async function compareTables(
  live: DynamoDocumentStore,
  rebuilt: DynamoDocumentStore,
): Promise<DocumentDifference[]> {
  const load = async (store: DynamoDocumentStore) => {
    const docs = new Map<string, { pk: string; sk: string; doc: unknown }>();
    for await (const page of store.scanAll())
      for (const d of page) docs.set(`${d.pk}\u0000${d.sk}`, d);
    return docs;
  };
  const [a, b] = await Promise.all([load(live), load(rebuilt)]);
  const out: DocumentDifference[] = [];
  for (const [k, d] of a) {
    const other = b.get(k);
    if (!other) out.push({ pk: d.pk, sk: d.sk, kind: 'missing' });
    else if (!isDeepStrictEqual(d.doc, other.doc))
      out.push({ pk: d.pk, sk: d.sk, kind: 'changed' });
  }
  for (const [k, d] of b) if (!a.has(k)) out.push({ pk: d.pk, sk: d.sk, kind: 'extra' });
  return out;
}
