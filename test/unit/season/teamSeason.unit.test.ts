import { describe, expect, it } from 'vitest';
import type { Game } from '../../../domain/games/Game.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { teamSeason, weekEnd } from '../../../domain/season/teamSeason.js';

const game = (date: string, home: string, away: string, hg: number, ag: number): Game => ({
  season: '2026',
  date,
  homeTeam: home,
  awayTeam: away,
  homeScore: hg,
  awayScore: ag,
  neutral: false,
  decidedBy: 'regulation',
});

describe('a team season week by week', () => {
  it('ends weeks on Sundays', () => {
    // 2026-09-06 is a Sunday.
    expect(weekEnd('2026-09-01')).toBe('2026-09-06');
    expect(weekEnd('2026-09-06')).toBe('2026-09-06');
    expect(weekEnd('2026-09-07')).toBe('2026-09-13');
  });

  it("rates the team as of each week's end, the last week on the last game day", () => {
    // Prepare: two weeks of games, A playing in both.
    const games = [
      game('2026-09-02', 'A', 'B', 2, 0),
      game('2026-09-03', 'C', 'D', 1, 1),
      game('2026-09-09', 'A', 'C', 0, 1),
      game('2026-09-10', 'B', 'D', 3, 2),
    ];

    // Act
    const { weeks } = teamSeason(games, 'A', { season: '2026' });

    // Assess
    expect(weeks.map((w) => w.week_end)).toEqual(['2026-09-06', '2026-09-10']);
    const first = computeRpi(games, { asOf: '2026-09-06' }).ratings.find((r) => r.team === 'A');
    const whole = computeRpi(games).ratings.find((r) => r.team === 'A');
    expect(weeks[0]).toMatchObject({
      games: 1,
      rank: first?.rank,
      rpi: first?.rpi,
      teams_rated: 4,
    });
    expect(weeks[1]).toMatchObject({ games: 2, rank: whole?.rank, rpi: whole?.rpi });
  });

  it("gives each opponent's part in the team's OWP, hand-checked", () => {
    // Prepare: A beat B and lost to C. Without their games against A, B went 1-1 (WP 0.5),
    // C 1-0 with a tie (ties 1/2 in OWP: 1.5 / 2 = 0.75). A's OWP: (0.5 + 0.75) / 2 = 0.625.
    const games = [
      game('2026-09-02', 'A', 'B', 2, 0),
      game('2026-09-03', 'C', 'D', 1, 1),
      game('2026-09-09', 'A', 'C', 0, 1),
      game('2026-09-10', 'B', 'D', 3, 2),
      game('2026-09-11', 'E', 'B', 1, 0),
      game('2026-09-12', 'C', 'E', 2, 0),
    ];

    // Act
    const { opponents } = teamSeason(games, 'A', { season: '2026' });

    // Assess: C helped by (0.75 - 0.625) x 1/2, B hurt by as much.
    expect(opponents).toEqual([
      { opponent: 'C', games: 1, wins: 0, losses: 1, ties: 0, opponent_wp: 0.75, effect: 0.0625 },
      { opponent: 'B', games: 1, wins: 1, losses: 0, ties: 0, opponent_wp: 0.5, effect: -0.0625 },
    ]);
    const owp = computeRpi(games).ratings.find((r) => r.team === 'A')?.owp;
    expect(owp).toBeCloseTo(0.625, 12);
  });

  it("averages the opponents' percentages to the engine's OWP on a generated season", () => {
    const season = generateSeason({ teams: 40, gamesPerTeam: 8, seed: 4 });
    const ratings = computeRpi(season.games).ratings;
    for (const rating of ratings.slice(0, 10)) {
      const { opponents, weeks } = teamSeason(season.games, rating.team, { season: '2026' });
      const averaged = opponents.filter((o) => o.opponent_wp !== null);
      const games = averaged.reduce((n, o) => n + o.games, 0);
      const owp = averaged.reduce((n, o) => n + (o.opponent_wp ?? 0) * o.games, 0) / games;
      expect(owp).toBeCloseTo(rating.owp ?? 0, 12);
      expect(Math.abs(opponents.reduce((n, o) => n + o.effect, 0))).toBeLessThan(1e-12);
      expect(weeks.at(-1)).toMatchObject({ rpi: rating.rpi, rank: rating.rank });
    }
  });
});
