import type { Game } from '../domain/games/Game.js';
import {
  OPTIONAL_GAME_FIELDS,
  REQUIRED_GAME_FIELDS,
  type ValidateGameOptions,
  validateGame,
} from '../domain/games/validateGame.js';
import { type FeedProblem, type ReadFeedOptions, readFeed, spanOf } from './readFeed.js';

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
 * How to read a games feed: the file's options (`onUnknownColumn` hears of each column the
 * format does not know) and how its `neutral` column is written.
 */
export type ReadGamesOptions = Omit<ReadFeedOptions, 'requiredColumns' | 'knownColumns'> &
  ValidateGameOptions;

/** Every column of the games feed format. */
const GAME_COLUMNS: readonly string[] = [...REQUIRED_GAME_FIELDS, ...OPTIONAL_GAME_FIELDS];

/**
 * Streams a games feed (CSV with header, or JSON Lines with the same keys) in batches of
 * validated rows and problems, in file order: required `date, home_team, away_team,
 * home_score, away_score`; optional `neutral, decided_by, match_id, season, venue`. Other
 * columns are ignored, each told to `onUnknownColumn` once.
 */
export async function* streamGames(
  path: string,
  options: ReadGamesOptions = {},
): AsyncGenerator<(GameRow | GameProblem)[]> {
  const { neutral, ...feedOptions } = options;
  const validation: ValidateGameOptions = neutral ? { neutral } : {};
  for await (const batch of readFeed(path, {
    ...feedOptions,
    requiredColumns: REQUIRED_GAME_FIELDS,
    knownColumns: GAME_COLUMNS,
  })) {
    const out: (GameRow | GameProblem)[] = [];
    for (const item of batch) {
      if (item.kind === 'problem') {
        out.push(item);
        continue;
      }
      const result = validateGame(item.fields, validation);
      out.push(
        result.ok
          ? { kind: 'game', line: item.line, game: result.game, fields: item.fields }
          : {
              kind: 'problem',
              line: item.line,
              ...(item.lastLine === undefined ? {} : { lastLine: item.lastLine }),
              reason: `${spanOf(item)}${result.reasons.join('; ')}`,
              fields: item.fields,
            },
      );
    }
    yield out;
  }
}

/** Reads a whole games feed: every valid game, and every bad row with its line and reasons. */
export async function readGames(path: string, options: ReadGamesOptions = {}): Promise<GamesFeed> {
  const games: Game[] = [];
  const problems: FeedProblem[] = [];
  let rows = 0;
  for await (const batch of streamGames(path, options)) {
    for (const item of batch) {
      rows++;
      if (item.kind === 'game') games.push(item.game);
      else {
        const { fields: _, ...problem } = item;
        problems.push(problem);
      }
    }
  }
  return { games, problems, rows };
}
