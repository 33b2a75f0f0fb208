import type { Game } from '../games/Game.js';
import type { RpiProfile } from './RpiProfile.js';

/** A game's result for one side, as stored in the engine's typed arrays. */
export const LOSS = 0;
export const TIE = 1;
export const WIN = 2;

/** The result for the home side; the away side's is `WIN - result`. */
export function resultForHome(game: Game, profile: RpiProfile): number {
  if (game.homeScore === game.awayScore) return TIE;
  if (game.decidedBy === 'penalties' && profile.penaltiesAreTies) return TIE;
  return game.homeScore > game.awayScore ? WIN : LOSS;
}
