import { describe, expect, it } from 'vitest';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';

describe('generateSeason', () => {
  const season = generateSeason({ teams: 330, gamesPerTeam: 18, seed: 2026 });

  it('is the same for the same seed and different for another', () => {
    expect(generateSeason({ teams: 330, gamesPerTeam: 18, seed: 2026 })).toEqual(season);
    expect(generateSeason({ teams: 330, gamesPerTeam: 18, seed: 2027 }).games).not.toEqual(
      season.games,
    );
  });

  it('gives every team about the asked number of games, against others only', () => {
    const played = new Map<string, number>();
    for (const g of season.games) {
      expect(g.homeTeam).not.toBe(g.awayTeam);
      played.set(g.homeTeam, (played.get(g.homeTeam) ?? 0) + 1);
      played.set(g.awayTeam, (played.get(g.awayTeam) ?? 0) + 1);
    }
    expect(played.size).toBe(330);
    for (const n of played.values()) {
      expect(n).toBeGreaterThanOrEqual(17);
      expect(n).toBeLessThanOrEqual(20);
    }
    expect(season.games.length).toBeGreaterThan(2900);
    expect(season.games.length).toBeLessThan(3200);
  });

  it('looks like soccer: conferences, sites, ties, overtime and penalty kicks', () => {
    const n = season.games.length;
    const ties = season.games.filter((g) => g.homeScore === g.awayScore).length / n;
    const neutral = season.games.filter((g) => g.neutral).length / n;
    expect(ties).toBeGreaterThan(0.12);
    expect(ties).toBeLessThan(0.32);
    expect(neutral).toBeGreaterThan(0.01);
    expect(neutral).toBeLessThan(0.1);
    expect(
      season.games.some((g) => g.decidedBy === 'penalties' && g.homeScore === g.awayScore),
    ).toBe(true);
    expect(
      season.games.some((g) => g.decidedBy === 'overtime' && g.homeScore !== g.awayScore),
    ).toBe(true);
    const conferences = new Set(season.teams.map((t) => t.conference));
    expect(conferences.size).toBe(33);
    expect(new Set(season.teams.map((t) => t.team)).size).toBe(330);
  });

  it('orders games by date within the season, with unique match ids', () => {
    const dates = season.games.map((g) => g.date);
    expect([...dates].sort()).toEqual(dates);
    expect(dates[0]?.startsWith('2026-08')).toBe(true);
    expect(new Set(season.games.map((g) => g.matchId)).size).toBe(season.games.length);
    expect(season.games.every((g) => g.season === '2026')).toBe(true);
  });

  it('produces a season every team of which gets a rating', () => {
    const result = computeRpi(season.games);
    expect(result.ratings).toHaveLength(330);
    expect(result.ratings.every((r) => r.rpi !== null)).toBe(true);
  });

  it('refuses sizes out of range', () => {
    expect(() => generateSeason({ teams: 1, gamesPerTeam: 5, seed: 1 })).toThrow(
      /teams must be a whole number from 2/,
    );
    expect(() => generateSeason({ teams: 10, gamesPerTeam: 0, seed: 1 })).toThrow(/games per team/);
    expect(() => generateSeason({ teams: 10, gamesPerTeam: 5, seed: 1.5 })).toThrow(
      /seed must be an integer/,
    );
  });

  it('handles a tiny league', () => {
    const tiny = generateSeason({ teams: 2, gamesPerTeam: 3, seed: 9 });
    expect(tiny.games.length).toBeGreaterThan(0);
    expect(computeRpi(tiny.games).ratings).toHaveLength(2);
  });
});
