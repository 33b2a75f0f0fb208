import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { topRankings } from '../../../cli/actions/saga.js';
import { topTable } from '../../../cli/actions/start.js';
import { rankingsTable } from '../../../cli/output/rankings.js';
import type { Game } from '../../../domain/games/Game.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';

/** The terminal column where the first match of `pattern` starts in a line. */
function columnOf(line: string, pattern: RegExp): number {
  const found = pattern.exec(line);
  if (!found) throw new Error(`no ${pattern} in ${line}`);
  return stringWidth(line.slice(0, found.index));
}

const game = (home: string, away: string, homeScore: number, awayScore: number): Game => ({
  matchId: `${home}-${away}`,
  season: '2026',
  date: '2026-09-01',
  homeTeam: home,
  awayTeam: away,
  homeScore,
  awayScore,
  neutral: false,
  decidedBy: 'regulation',
});

describe('tables for people', () => {
  it('keep the rankings columns aligned with wide (CJK), combining and long team names', () => {
    // Prepare: names whose character counts differ from their widths on a terminal.
    const teams = [
      '東京大学',
      'Universität Zürich',
      'Cafe\u0301 United',
      'A Very Long Name Of A University In Some Faraway Place That Goes On And On',
      'B',
    ];
    const games = teams.flatMap((home, i) =>
      teams.slice(i + 1).map((away, j) => game(home, away, (i + j) % 3, j % 2)),
    );

    // Act
    const lines = rankingsTable(computeRpi(games), computeRpi(games).ratings).split('\n');

    // Assess: every row's W-L-T column starts at the same terminal column as the header's.
    const rows = lines.slice(2).filter((l) => l !== '');
    expect(rows).toHaveLength(teams.length + 1);
    const columns = new Set(rows.map((l) => columnOf(l, /W-L-T|\d+-\d+-\d+/)));
    expect(columns.size).toBe(1);
    expect(new Set(rows.map((l) => stringWidth(l))).size).toBe(1);
  });

  it('keep the columns of the top that start and saga start print aligned with wide names', () => {
    // Prepare: ranked teams whose names take more terminal cells than characters, or fewer.
    const teams = ['東京大学', 'Cafe\u0301 United', 'B'];
    const ratings = computeRpi(
      teams.flatMap((home, i) => teams.slice(i + 1).map((away) => game(home, away, i, 1))),
    ).ratings;

    // Act
    const start = topTable(ratings);
    const saga = topRankings(
      'unadjusted',
      ratings.map((r) => ({
        rank: r.rank,
        team: r.team,
        rpi: r.rpi,
        unadjusted_rank: r.rank,
        unadjusted_rpi: r.rpi,
        adjustment: null,
      })),
    )
      .split('\n')
      .slice(2, -1);

    // Assess: every line of each table ends at the same terminal column, its columns straight.
    expect(start).toHaveLength(teams.length + 1);
    expect(new Set(start.map((l) => columnOf(l, /W-L-T|\d+-\d+-\d+/))).size).toBe(1);
    expect(new Set(start.map((l) => stringWidth(l))).size).toBe(1);
    expect(saga).toHaveLength(teams.length + 1);
    expect(new Set(saga.map((l) => stringWidth(l))).size).toBe(1);
  });
});
