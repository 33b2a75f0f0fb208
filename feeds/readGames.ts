import type { Game } from '../domain/games/Game.js';
import { REQUIRED_GAME_FIELDS, validateGame } from '../domain/games/validateGame.js';
import { type FeedProblem, type ReadFeedOptions, readFeed } from './readFeed.js';

export interface GamesFeed {
  /** The valid games, in file order. */
  readonly games: Game[];
  /** The rows that were not usable, each with its line and reasons. */
  readonly problems: FeedProblem[];
  /** Data rows read (valid or not), the header excluded. */
  readonly rows: number;
}

/**
 * Reads a games feed (CSV with header, or JSON Lines with the same keys): required
 * `date, home_team, away_team, home_score, away_score`; optional `neutral, decided_by,
 * match_id, season`. Bad rows are reported with their line; good rows all come through.
 */
export async function readGames(
  path: string,
  options: Omit<ReadFeedOptions, 'requiredColumns'> = {},
): Promise<GamesFeed> {
  const games: Game[] = [];
  const problems: FeedProblem[] = [];
  let rows = 0;
  const feed = readFeed(path, { ...options, requiredColumns: REQUIRED_GAME_FIELDS });
  for await (const batch of feed) {
    for (const item of batch) {
      rows++;
      if (item.kind === 'problem') {
        problems.push(item);
        continue;
      }
      const result = validateGame(item.fields);
      if (result.ok) games.push(result.game);
      else problems.push({ kind: 'problem', line: item.line, reason: result.reasons.join('; ') });
    }
  }
  return { games, problems, rows };
}
