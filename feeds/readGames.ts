import type { Game } from '../domain/games/Game.js';
import { REQUIRED_GAME_FIELDS, validateGame } from '../domain/games/validateGame.js';
import { type FeedProblem, type ReadFeedOptions, readFeed } from './readFeed.js';

/** A valid row of a games feed: the game, where it is, and the row as read (for rejects). */
export interface GameRow {
  readonly kind: 'game';
  readonly line: number;
  readonly game: Game;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A row that could not be used, with the row as read when there is one. */
export interface GameProblem extends FeedProblem {
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface GamesFeed {
  /** The valid games, in file order. */
  readonly games: Game[];
  /** The rows that were not usable, each with its line and reasons. */
  readonly problems: FeedProblem[];
  /** Data rows read (valid or not), the header excluded. */
  readonly rows: number;
}

/**
 * Streams a games feed (CSV with header, or JSON Lines with the same keys) in batches of
 * validated rows and problems, in file order: required `date, home_team, away_team,
 * home_score, away_score`; optional `neutral, decided_by, match_id, season`.
 */
export async function* streamGames(
  path: string,
  options: Omit<ReadFeedOptions, 'requiredColumns'> = {},
): AsyncGenerator<(GameRow | GameProblem)[]> {
  for await (const batch of readFeed(path, { ...options, requiredColumns: REQUIRED_GAME_FIELDS })) {
    const out: (GameRow | GameProblem)[] = [];
    for (const item of batch) {
      if (item.kind === 'problem') {
        out.push(item);
        continue;
      }
      const result = validateGame(item.fields);
      out.push(
        result.ok
          ? { kind: 'game', line: item.line, game: result.game, fields: item.fields }
          : {
              kind: 'problem',
              line: item.line,
              reason: result.reasons.join('; '),
              fields: item.fields,
            },
      );
    }
    yield out;
  }
}

/** Reads a whole games feed: every valid game, and every bad row with its line and reasons. */
export async function readGames(
  path: string,
  options: Omit<ReadFeedOptions, 'requiredColumns'> = {},
): Promise<GamesFeed> {
  const games: Game[] = [];
  const problems: FeedProblem[] = [];
  let rows = 0;
  for await (const batch of streamGames(path, options)) {
    for (const item of batch) {
      rows++;
      if (item.kind === 'game') games.push(item.game);
      else problems.push({ kind: 'problem', line: item.line, reason: item.reason });
    }
  }
  return { games, problems, rows };
}
