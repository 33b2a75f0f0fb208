import type { Game } from './Game.js';

export interface LatestGames {
  /** One game per match id (the last row given for it), and every game without an id. */
  readonly games: Game[];
  /** Earlier rows of a match id that a later row replaced (corrections and repeats). */
  readonly superseded: number;
}

/**
 * Keeps the last row of each `matchId`, in the position of its first row: a feed that
 * repeats a match carries its corrected result, as `matchstream ingest` treats it. Games
 * without a match id are all kept.
 *
 * @example latestPerMatch([{ matchId: 'm1', ... '2-1' }, { matchId: 'm1', ... '2-2' }]).games // the 2-2 row
 */
export function latestPerMatch(games: readonly Game[]): LatestGames {
  const position = new Map<string, number>();
  const latest: Game[] = [];
  let superseded = 0;
  for (const game of games) {
    const id = game.matchId;
    const at = id === undefined ? undefined : position.get(id);
    if (at === undefined) {
      if (id !== undefined) position.set(id, latest.length);
      latest.push(game);
    } else {
      latest[at] = game;
      superseded++;
    }
  }
  return { games: latest, superseded };
}
