import type { DecidedBy, Game } from '../../domain/games/Game.js';

/**
 * A game from a compact score line, for hand-computed tests.
 *
 * @example game('A 2-1 B') // A at home beat B; game('A 1-1 B', { decidedBy: 'penalties' })
 */
export function game(
  line: string,
  extra: {
    neutral?: boolean;
    decidedBy?: DecidedBy;
    date?: string;
    matchId?: string;
    season?: string;
    venue?: string;
  } = {},
): Game {
  const match = /^(.+?) (\d+)-(\d+) (.+)$/.exec(line);
  if (!match) throw new Error(`bad score line: ${line}`);
  const [, homeTeam = '', homeScore = '', awayScore = '', awayTeam = ''] = match;
  return {
    ...(extra.matchId ? { matchId: extra.matchId } : {}),
    season: extra.season ?? '2024',
    date: extra.date ?? '2024-09-01',
    homeTeam,
    awayTeam,
    homeScore: Number(homeScore),
    awayScore: Number(awayScore),
    neutral: extra.neutral ?? false,
    decidedBy: extra.decidedBy ?? 'regulation',
    ...(extra.venue ? { venue: extra.venue } : {}),
  };
}

/** Games as one batch of a feed's rows (from line 2, after the header), as `ingestGames` reads them. */
export async function* feedRows(games: readonly Game[]) {
  yield games.map((game, i) => ({ kind: 'game' as const, line: i + 2, game, fields: {} }));
}
