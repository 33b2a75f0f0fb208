import type { GameProblem, GameRow } from '../feeds/readGames.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';
import { seasonClosed } from './seasons.js';

type Row = GameRow | GameProblem;

/**
 * The rows of a closed season turned into rejects, for a store that cannot see the archive
 * (the deployed table opened without its bucket, a bare `--endpoint`). A closed season may have
 * been expired from the table: its match streams are then in the archive alone, and an append
 * to one of them in the table would start the stream again, beside the archived one. The
 * season's own `SeasonClosed` is never expired, so one read of its stream per season tells;
 * `advice` says where such rows can go. Other rows pass through as they are.
 *
 * @example refuseClosedSeasons(rows, store, 'give --bucket ARCHIVE_BUCKET')
 */
export async function* refuseClosedSeasons(
  batches: AsyncIterable<readonly Row[]>,
  store: Pick<EventStore, 'read'>,
  advice: string,
): AsyncGenerator<Row[]> {
  const closed = new Map<string, boolean>();
  for await (const batch of batches) {
    for (const item of batch) {
      const season = item.kind === 'game' ? item.game.season : undefined;
      if (season !== undefined && !closed.has(season))
        closed.set(season, (await seasonClosed(store, season)) !== undefined);
    }
    yield batch.map((item) =>
      item.kind === 'game' && closed.get(item.game.season)
        ? {
            kind: 'problem',
            line: item.line,
            reason: `season ${item.game.season} is closed, and may have been expired from the table into the archive, which this store does not read: ${advice}`,
            fields: item.fields,
          }
        : item,
    );
  }
}
