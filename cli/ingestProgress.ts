import type { GameProblem, GameRow } from '../feeds/readGames.js';
import { estimateRows } from './estimateRows.js';
import type { Phase } from './phases.js';
import type { CountWords } from './progress.js';

/** What an ingest's progress counts. */
export const ROWS_STORED: CountWords = { unit: 'rows', verb: 'stored' };

/** Feeds an ingest's progress (see `rowsStored`). */
export interface RowsStored {
  /** Passes the feed's rows through, learning the exact total when the reader reaches the end. */
  source<T extends GameRow | GameProblem>(
    batches: AsyncIterable<readonly T[]>,
  ): AsyncGenerator<readonly T[]>;
  /** For `ingestGames`' `onRow`: one more row settled (stored, unchanged or rejected). */
  readonly settled: () => void;
}

/**
 * An ingest's progress in rows settled, the work itself, against the rows the feed holds:
 * estimated from the file's line breaks at first, exact once the reader reached the end. The
 * reader runs ahead of the writes, so the bytes it read say nothing of what is stored.
 * `expected` gives the total up front (a generated season).
 */
export function rowsStored(file: string | undefined, phase: Phase, expected?: number): RowsStored {
  let done = 0;
  let total = expected;
  let estimated = false;
  const show = () => phase.progress(total === undefined ? { done } : { done, total, estimated });
  if (file !== undefined && expected === undefined) {
    void estimateRows(file).then((rows) => {
      if (rows === undefined || total !== undefined) return;
      total = rows;
      estimated = true;
      show();
    });
  }
  return {
    async *source(batches) {
      let read = 0;
      for await (const batch of batches) {
        read += batch.length;
        yield batch;
      }
      total = read;
      estimated = false;
      show();
    },
    settled: () => {
      done++;
      show();
    },
  };
}
