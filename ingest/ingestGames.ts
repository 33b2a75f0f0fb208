import { randomUUID } from 'node:crypto';
import type { GameProblem, GameRow } from '../feeds/readGames.js';
import type { NewEvent } from '../stream/EventEnvelope.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { ConcurrencyError, StoreError, storeStopped } from '../stream/StoreError.js';
import { uuidFromName } from '../stream/uuid.js';
import {
  currentResult,
  matchAggregateId,
  resultData,
  sameResult,
  teamAggregateId,
} from './matchEvents.js';

export interface IngestOptions {
  readonly store: EventStore;
  /** Appends in flight at once (default 16). */
  readonly concurrency?: number;
  /** Shared by every event of the run (default: a new UUID). */
  readonly correlationId?: string;
  /** Each row that is not stored: invalid, refused (its season expired), or failed to store after retries. */
  readonly onReject?: (reject: Reject) => void;
  /** After each row is settled. */
  readonly onRow?: (summary: IngestSummary) => void;
  /**
   * Whether an error of a row's request is one every request after it would meet too (AWS
   * refusing the credentials, expired during the run): the ingest then stops there as at a
   * store that stopped, rejecting no row for it. A `StoreStoppedError` always stops it.
   */
  readonly stopsAll?: (error: unknown) => boolean;
}

/** A row that did not make it into the store, with why and the row as read. */
export interface Reject {
  readonly line: number;
  readonly reason: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface IngestSummary {
  /** Data rows read. */
  read: number;
  /** Rows that recorded a new match. */
  appended: number;
  /** Rows whose result was already stored. */
  unchanged: number;
  /** Rows that changed a stored result. */
  corrected: number;
  /** Invalid rows, and rows changing a match of a closed season expired from the table. */
  rejected: number;
  /** Valid rows that could not be stored (store errors after retries). */
  failed: number;
  teams_registered: number;
  /** Teams whose registration could not be stored (reported as rejects of the row naming them). */
  teams_failed: number;
  events_appended: number;
}

/**
 * An ingest that met a store that had stopped (`StoreStoppedError`: a local server whose disk
 * is full, say). Every request after it would fail the same way, so the rows not yet under way
 * were not tried and none is rejected for it: what `summary` counts was stored, and running the
 * same feed again stores the rest (a row stored already is not appended twice).
 */
export class IngestStoppedError extends Error {
  readonly summary: IngestSummary;
  /** The store that stopped, or the error `stopsAll` stopped at (also the error's `cause`). */
  readonly stopped: Error;

  constructor(summary: IngestSummary, stopped: Error) {
    super(stopped.message, { cause: stopped });
    this.name = 'IngestStoppedError';
    this.summary = summary;
    this.stopped = stopped;
  }
}

/** Attempts at a correction when other writers keep moving the same match. */
const CORRECTION_ATTEMPTS = 5;

/** A summary of nothing ingested yet. */
export function emptyIngestSummary(): IngestSummary {
  return {
    read: 0,
    appended: 0,
    unchanged: 0,
    corrected: 0,
    rejected: 0,
    failed: 0,
    teams_registered: 0,
    teams_failed: 0,
    events_appended: 0,
  };
}

/**
 * Ingests a games feed into the event store. Each match is its own stream: a new match
 * appends `MatchRecorded`; the same result again appends nothing; a changed result appends
 * `MatchResultCorrected`; a team seen for the first time appends `TeamRegistered`.
 *
 * Appends run with bounded concurrency; rows of the same match run one after another in file
 * order. Event ids are derived from the stream, position and content, so a retried or
 * repeated run is recognised by the store instead of stored twice. Throttling and server
 * errors are retried with backoff by the DynamoDB client; a row that still fails is rejected
 * with the reason, never dropped. A row changing a match of a closed season that was expired
 * from the table is rejected (the store refuses it); the same row again is unchanged. A store
 * that stopped (`StoreStoppedError`) ends the ingest with `IngestStoppedError` once the rows
 * under way have settled: no row is rejected for it, and the feed run again stores the rest.
 */
export async function ingestGames(
  batches: AsyncIterable<readonly (GameRow | GameProblem)[]>,
  options: IngestOptions,
): Promise<IngestSummary> {
  const { store } = options;
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const correlationId = options.correlationId ?? randomUUID();
  const summary = emptyIngestSummary();
  const reject = (r: Reject) => options.onReject?.(r);
  const occurrences = new Map<string, number>();
  const teamsSeen = new Set<string>();
  const lanes = new Map<string, Promise<void>>();
  const running = new Set<Promise<void>>();
  // The store's server ended under a row: nothing more is tried (`IngestStoppedError`).
  let stopped: Error | undefined;
  const stopping = (error: unknown): Error | undefined =>
    storeStopped(error) ??
    (error instanceof Error && options.stopsAll?.(error) === true ? error : undefined);

  /** Runs `task` after the previous task of the same stream, holding one of the slots. */
  const schedule = async (stream: string, task: () => Promise<void>): Promise<void> => {
    while (running.size >= concurrency) await Promise.race(running);
    const previous = lanes.get(stream) ?? Promise.resolve();
    const next = previous.then(task);
    lanes.set(stream, next);
    running.add(next);
    void next.finally(() => {
      running.delete(next);
      if (lanes.get(stream) === next) lanes.delete(stream);
    });
  };

  const registerTeam = async (name: string): Promise<void> => {
    const id = teamAggregateId(name);
    try {
      const result = await store.append(id, 0, [
        {
          event_type: 'TeamRegistered',
          event_id: uuidFromName(`${id}#1#TeamRegistered`),
          correlation_id: correlationId,
          data: { team_id: name, name, conference: null, division: null, region: null },
        },
      ]);
      if (!result.duplicate || result.events[0]?.correlation_id === correlationId) {
        summary.teams_registered++;
        summary.events_appended++;
      }
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error; // registered before: nothing to do
    }
  };

  /**
   * Matches whose last row so far is their first result while a later one stands: the feed
   * run again (its later rows bring the match to where it stands), or one that puts the first
   * result back. Its end tells them apart: a row still here then is the match's last word.
   */
  const firstResultAgain = new Map<string, GameRow>();

  const ingestRow = async (row: GameRow, id: string): Promise<void> => {
    firstResultAgain.delete(id);
    const data = resultData(row.game, id);
    const recorded = await appendOrConflict(id, 0, { event_type: 'MatchRecorded', data });
    if (recorded === 'appended') {
      summary.appended++;
      return;
    }
    await correct(row, id, recorded === 'duplicate');
  };

  /** Brings the match to the row's result, unless it has it (`firstResult`: see above). */
  const correct = async (row: GameRow, id: string, firstResult: boolean): Promise<void> => {
    const data = resultData(row.game, id);
    for (let attempt = 1; ; attempt++) {
      const events = await store.read(id);
      const current = currentResult(events);
      if (current && sameResult(current, data)) {
        summary.unchanged++;
        return;
      }
      if (firstResult) {
        firstResultAgain.set(id, row);
        summary.unchanged++;
        return;
      }
      const version = events.at(-1)?.sequence ?? 0;
      const outcome = await appendOrConflict(id, version, {
        event_type: 'MatchResultCorrected',
        data: { ...data, venue: data.venue ?? current?.venue ?? null, reason: null },
      });
      if (outcome !== 'conflict') {
        summary.corrected += outcome === 'appended' ? 1 : 0;
        summary.unchanged += outcome === 'duplicate' ? 1 : 0;
        return;
      }
      if (attempt >= CORRECTION_ATTEMPTS) {
        throw new Error(`match ${id} kept changing under ${attempt} attempts to correct it`);
      }
    }
  };

  // The ids of the events this run stored: the same event again (a row repeated in the feed)
  // is not a retried write of this run but a repeat.
  const stored = new Set<string>();

  const appendOrConflict = async (
    id: string,
    expectedVersion: number,
    event: NewEvent<'MatchRecorded' | 'MatchResultCorrected'>,
  ): Promise<'appended' | 'duplicate' | 'conflict'> => {
    const content = JSON.stringify(event.data);
    const eventId = uuidFromName(`${id}#${expectedVersion + 1}#${event.event_type}#${content}`);
    try {
      const result = await store.append(id, expectedVersion, [
        { ...event, event_id: eventId, correlation_id: correlationId },
      ]);
      // A duplicate of this very run is our own write whose response was lost and retried,
      // unless this run stored it already (the feed repeats the row).
      if (
        result.duplicate &&
        (result.events[0]?.correlation_id !== correlationId || stored.has(eventId))
      )
        return 'duplicate';
      stored.add(eventId);
      summary.events_appended++;
      return 'appended';
    } catch (error) {
      if (error instanceof ConcurrencyError) return 'conflict';
      throw error;
    }
  };

  /** Runs the row's `work`, counting it settled unless it was (`again`). */
  const settle =
    (row: GameRow, work: () => Promise<void>, again = false) =>
    async () => {
      try {
        await work();
      } catch (error) {
        const stop = stopping(error);
        if (stop) {
          stopped ??= stop;
          return;
        }
        // A changed result for a match expired with its closed season is refused by the store:
        // the row is rejected with why, as an invalid one is; the store did not fail.
        const refused = error instanceof StoreError && error.code === 'STREAM_EXPIRED';
        if (refused) summary.rejected++;
        else summary.failed++;
        const message = error instanceof Error ? error.message : String(error);
        reject({
          line: row.line,
          reason: `${refused ? 'refused' : 'not stored'}: ${message}`,
          fields: row.fields,
        });
      }
      if (!again) options.onRow?.(summary);
    };

  for await (const batch of batches) {
    if (stopped) break;
    for (const item of batch) {
      if (stopped) break;
      summary.read++;
      if (item.kind === 'problem') {
        summary.rejected++;
        reject({
          line: item.line,
          reason: item.reason,
          ...(item.fields ? { fields: item.fields } : {}),
        });
        options.onRow?.(summary);
        continue;
      }
      const { game } = item;
      for (const team of [game.homeTeam, game.awayTeam]) {
        if (teamsSeen.has(team)) continue;
        teamsSeen.add(team);
        await schedule(teamAggregateId(team), async () => {
          try {
            await registerTeam(team);
          } catch (error) {
            teamsSeen.delete(team);
            const stop = stopping(error);
            if (stop) {
              stopped ??= stop;
              return;
            }
            // The row's match is still ingested; the failed registration is reported on the row.
            summary.teams_failed++;
            reject({
              line: item.line,
              reason: `team ${team} not registered: ${error instanceof Error ? error.message : String(error)}`,
              fields: item.fields,
            });
          }
        });
      }
      let occurrence = 0;
      if (!game.matchId) {
        const key = [game.season, game.date, game.homeTeam, game.awayTeam].join('\u0000');
        occurrence = (occurrences.get(key) ?? 0) + 1;
        occurrences.set(key, occurrence);
      }
      const id = matchAggregateId(game, occurrence);
      await schedule(
        id,
        settle(item, () => ingestRow(item, id)),
      );
    }
  }
  await Promise.all(running);
  await Promise.all(lanes.values());
  // The rows that put a match back to its first result, now known to be its last word.
  for (const [id, row] of firstResultAgain) {
    if (stopped) break;
    await schedule(
      id,
      settle(
        row,
        () => {
          summary.unchanged--;
          return correct(row, id, false);
        },
        true,
      ),
    );
  }
  await Promise.all(running);
  if (stopped) throw new IngestStoppedError(summary, stopped);
  return summary;
}
