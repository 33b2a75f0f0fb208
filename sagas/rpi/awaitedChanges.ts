import { setTimeout as sleep } from 'node:timers/promises';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { keyString } from '../../projections/Projection.js';
import { matchVersions } from '../../projections/readModels/matches.js';
import { SagaError } from '../SagaError.js';

/** A stored change of a match stream: its aggregate id and the sequence of its event. */
export interface MatchChange {
  readonly aggregate_id: string;
  readonly sequence: number;
}

/** How long the saga's working documents are kept (seconds), as its snapshots are. */
const KEPT_SECONDS = 30 * 86_400;

const awaitsOf = (sagaId: string) => `saga#${sagaId}#awaits`;

/**
 * Records that a saga must count this change: its `collect_matches` step will not read the
 * matches before the matches read model has applied it. Written before the saga's first step
 * starts, it is seen by that step (which reads these documents after it started); whoever
 * writes it must check afterwards that the step had not started yet.
 */
export async function awaitChange(
  work: DocumentStore,
  sagaId: string,
  change: MatchChange,
): Promise<void> {
  await work.write(
    [
      {
        pk: awaitsOf(sagaId),
        sk: `${change.aggregate_id}#${change.sequence}`,
        doc: { ...change },
        expires_at: Math.ceil(Date.now() / 1000) + KEPT_SECONDS,
      },
    ],
    [],
  );
}

const quietOf = (sagaId: string) => ({ pk: `saga#${sagaId}#quiet`, sk: 'rpi' });

/**
 * Records that a saga that has not begun should wait until `until` (ms since the epoch): results
 * are still arriving, and each one a saga takes in pushes its start on (see
 * `RecalculationRequests`). A matter of timing only: a saga that began already ignores it, and
 * every change it takes in is counted either way.
 */
export async function deferStart(
  work: DocumentStore,
  sagaId: string,
  until: number,
): Promise<void> {
  await work.write(
    [
      {
        ...quietOf(sagaId),
        doc: { until: new Date(until).toISOString() },
        expires_at: Math.ceil(Date.now() / 1000) + KEPT_SECONDS,
      },
    ],
    [],
  );
}

/** Until when a saga's start was deferred (ms since the epoch); undefined when it never was. */
export async function deferredStart(
  work: DocumentStore,
  sagaId: string,
): Promise<number | undefined> {
  const key = quietOf(sagaId);
  const doc = (await work.getMany([key])).get(keyString(key)) as
    | { readonly until?: string }
    | undefined;
  return doc?.until ? Date.parse(doc.until) : undefined;
}

/** The changes a saga must count, the latest per match stream. */
export async function awaitedChanges(work: DocumentStore, sagaId: string): Promise<MatchChange[]> {
  const latest = new Map<string, number>();
  for (const { doc } of await work.query(awaitsOf(sagaId))) {
    const change = doc as unknown as MatchChange;
    latest.set(
      change.aggregate_id,
      Math.max(change.sequence, latest.get(change.aggregate_id) ?? 0),
    );
  }
  return [...latest].map(([aggregate_id, sequence]) => ({ aggregate_id, sequence }));
}

/** Those of these changes the matches read model has not applied yet. */
export async function notApplied(
  matches: DocumentStore,
  changes: readonly MatchChange[],
): Promise<MatchChange[]> {
  if (changes.length === 0) return [];
  const versions = await matchVersions(
    matches,
    changes.map((c) => c.aggregate_id),
  );
  return changes.filter((c) => (versions.get(c.aggregate_id) ?? 0) < c.sequence);
}

/** How often a saga waiting for the matches read model looks again. */
export const CATCH_UP_POLL_MS = 100;

/**
 * Resolves once the matches read model has applied every change the saga must count, looking
 * every `CATCH_UP_POLL_MS` for `patienceMs` at most; then fails with a retryable
 * `READ_MODEL_BEHIND` naming a change it lacks (the step's retries wait longer).
 */
export async function untilApplied(
  deps: { readonly matches: DocumentStore; readonly work: DocumentStore },
  sagaId: string,
  patienceMs: number,
  signal: AbortSignal,
): Promise<void> {
  let missing = await notApplied(deps.matches, await awaitedChanges(deps.work, sagaId));
  // Counted in looks, not by the clock: a busy machine waits longer, never shorter.
  for (let looks = 0; missing.length > 0 && looks * CATCH_UP_POLL_MS < patienceMs; looks++) {
    await sleep(CATCH_UP_POLL_MS, undefined, { signal });
    missing = await notApplied(deps.matches, missing);
  }
  const first = missing[0];
  if (first)
    throw new SagaError(
      'READ_MODEL_BEHIND',
      `the matches read model has not applied ${missing.length} change(s) this calculation must count, such as ${first.aggregate_id} up to event ${first.sequence}`,
      {
        retryable: true,
        context: {
          sagaId,
          step: 'collect_matches',
          aggregateId: first.aggregate_id,
          sequence: first.sequence,
        },
      },
    );
}
