import type { Game } from '../domain/games/Game.js';

/** The header `writeGamesCsv` writes: every column of the games feed format. */
export const GAMES_CSV_HEADER =
  'match_id,season,date,home_team,away_team,home_score,away_score,neutral,decided_by,venue';

/** One field of a CSV row, quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One game as a CSV row in `GAMES_CSV_HEADER` order, without the line break. */
export function gameCsvRow(game: Game): string {
  return [
    csvField(game.matchId ?? ''),
    csvField(game.season),
    game.date,
    csvField(game.homeTeam),
    csvField(game.awayTeam),
    String(game.homeScore),
    String(game.awayScore),
    String(game.neutral),
    game.decidedBy,
    csvField(game.venue ?? ''),
  ].join(',');
}

/** One game as a JSON Lines record with the feed's keys, without the line break. */
export function gameJsonLine(game: Game): string {
  return JSON.stringify({
    match_id: game.matchId,
    season: game.season,
    date: game.date,
    home_team: game.homeTeam,
    away_team: game.awayTeam,
    home_score: game.homeScore,
    away_score: game.awayScore,
    neutral: game.neutral,
    decided_by: game.decidedBy,
    venue: game.venue,
  });
}
