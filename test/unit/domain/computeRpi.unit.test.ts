import { describe, expect, it } from 'vitest';
import { computeRpi, type RpiResult, type TeamRating } from '../../../domain/rpi/computeRpi.js';
import { resolveProfile } from '../../../domain/rpi/RpiProfile.js';
import { game } from '../../support/games.js';

function rating(result: RpiResult, team: string): TeamRating {
  const found = result.ratings.find((r) => r.team === team);
  if (!found) throw new Error(`no rating for ${team}`);
  return found;
}

// A four-team season worked out by hand (home team first):
//   A 1-1 B, A 2-0 C, B 0-1 C, C 3-1 D
// Own records: A 1-0-1, B 0-1-1, C 2-1-0, D 0-1-0.
const fourTeams = [game('A 1-1 B'), game('A 2-0 C'), game('B 0-1 C'), game('C 3-1 D')];

describe('computeRpi, by hand', () => {
  it('counts a tie as 1/3 of a win in WP and 1/2 inside OWP and OOWP (ncaa-soccer-2024)', () => {
    // Act
    const result = computeRpi(fourTeams, { profile: resolveProfile('ncaa-soccer-2024') });

    // Assess
    // WP: A (1 + 1/3)/2, B (1/3)/2, C 2/3, D 0.
    // OWP, each opponent without its games against the rated team, ties 1/2:
    //   A: B(without A) 0/1, C(without A) 2/2          -> (0 + 1)/2     = 1/2
    //   B: A(without B) 1/1, C(without B) 1/2          -> (1 + 1/2)/2   = 3/4
    //   C: A(without C) 1/2 (the tie), B(without C) 1/2, D has no other game (left out) -> 1/2
    //   D: C(without D) 1/2                            -> 1/2
    // OOWP: A (3/4 + 1/2)/2 = 5/8, B (1/2 + 1/2)/2 = 1/2, C (1/2 + 3/4 + 1/2)/3 = 7/12, D 1/2.
    const expected = {
      A: { wp: 2 / 3, owp: 1 / 2, oowp: 5 / 8 },
      B: { wp: 1 / 6, owp: 3 / 4, oowp: 1 / 2 },
      C: { wp: 2 / 3, owp: 1 / 2, oowp: 7 / 12 },
      D: { wp: 0, owp: 1 / 2, oowp: 1 / 2 },
    };
    for (const [team, e] of Object.entries(expected)) {
      const r = rating(result, team);
      expect(r.wp).toBeCloseTo(e.wp, 14);
      expect(r.owp).toBeCloseTo(e.owp, 14);
      expect(r.oowp).toBeCloseTo(e.oowp, 14);
      expect(r.rpi).toBeCloseTo(0.25 * e.wp + 0.5 * e.owp + 0.25 * e.oowp, 14);
    }
    expect(result.ratings.map((r) => r.team)).toEqual(['A', 'C', 'B', 'D']);
    expect(result.ratings.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
    expect(rating(result, 'A')).toMatchObject({ games: 2, wins: 1, losses: 0, ties: 1 });
  });

  it('counts a tie as 1/2 everywhere under ncaa-soccer-2023', () => {
    const result = computeRpi(fourTeams, { profile: resolveProfile('ncaa-soccer-2023') });

    expect(rating(result, 'A').wp).toBeCloseTo(3 / 4, 14);
    expect(rating(result, 'B').wp).toBeCloseTo(1 / 4, 14);
    // Strength of schedule does not change: ties were already 1/2 there.
    expect(rating(result, 'A').owp).toBeCloseTo(1 / 2, 14);
    expect(rating(result, 'C').oowp).toBeCloseTo(7 / 12, 14);
  });

  it("removes the rated team's games from its opponents' records (head to head)", () => {
    // X beat Y twice; Y beat Z. Without head-to-head removal Y would be 1-2 for X's OWP.
    const result = computeRpi([game('X 1-0 Y'), game('Y 0-1 X'), game('Y 2-0 Z')]);

    // Y without its games against X: 1-0 -> 1, once per meeting.
    expect(rating(result, 'X').owp).toBe(1);
    // Z's only opponent is Y; Y without Z is 0-2.
    expect(rating(result, 'Z').owp).toBe(0);
  });

  it('counts an opponent met twice twice (per-game average, not per-opponent)', () => {
    // A meets B twice and C once. B without A: beat C (1/1). C without A: lost to B (0/1).
    const result = computeRpi([game('A 1-0 B'), game('B 2-1 A'), game('A 3-0 C'), game('B 1-0 C')]);

    // (1 + 1 + 0) / 3, where a per-opponent average would give (1 + 0) / 2.
    expect(rating(result, 'A').owp).toBeCloseTo(2 / 3, 14);
  });

  it('rates a team with a single game', () => {
    // D of the four-team season: one loss to C.
    const d = rating(computeRpi(fourTeams), 'D');

    expect(d).toMatchObject({ games: 1, wins: 0, losses: 1, ties: 0, wp: 0, owp: 0.5, oowp: 0.5 });
    expect(d.rpi).toBeCloseTo(0.375, 14);
  });

  it('gives OWP and OOWP of 0 when no opponent has another counted game (documented)', () => {
    const result = computeRpi([game('A 1-0 B')]);

    expect(rating(result, 'A')).toMatchObject({ wp: 1, owp: 0, oowp: 0, rpi: 0.25 });
    expect(rating(result, 'B')).toMatchObject({ wp: 0, owp: 0, oowp: 0, rpi: 0 });
  });

  it('weights WP by site under ncaa-basketball and leaves OWP unweighted', () => {
    // X: home win over P, road win at Q, home loss to R, neutral win over S.
    const games = [
      game('X 70-60 P'),
      game('Q 50-55 X'),
      game('X 60-61 R'),
      game('X 80-70 S', { neutral: true }),
      game('P 70-60 Q'),
    ];
    const result = computeRpi(games, { profile: resolveProfile('ncaa-basketball') });

    // Wins 0.6 + 1.4 + 1.0 = 3.0; losses: a home loss weighs 1.4. WP = 3.0 / 4.4.
    expect(rating(result, 'X').wp).toBeCloseTo(3 / 4.4, 14);
    // R won its only game on the road: 1.4 / 1.4.
    expect(rating(result, 'R').wp).toBe(1);
    // P at home beat Q once, lost at X once: 0.6 / (0.6 + 0.6).
    expect(rating(result, 'P').wp).toBeCloseTo(0.5, 14);
    // X's OWP, unweighted: P without X 1-0, Q without X 0-1, R and S have no other game.
    expect(rating(result, 'X').owp).toBeCloseTo(0.5, 14);
  });

  it('counts a penalty-kick result as a tie for soccer, by the score otherwise', () => {
    const games = [game('A 2-1 B', { decidedBy: 'penalties' }), game('B 1-0 C')];

    const soccer = computeRpi(games);
    const basketball = computeRpi(games, { profile: resolveProfile('ncaa-basketball') });

    expect(rating(soccer, 'A')).toMatchObject({ wins: 0, ties: 1, wp: 1 / 3 });
    expect(rating(basketball, 'A')).toMatchObject({ wins: 1, ties: 0, wp: 1 });
  });

  it('counts only games played on or before the as-of day', () => {
    const games = [
      game('A 1-0 B', { date: '2024-09-01' }),
      game('B 1-0 A', { date: '2024-09-08' }),
      game('C 1-0 D', { date: '2024-09-09' }),
    ];

    const result = computeRpi(games, { asOf: '2024-09-08' });

    expect(result.games).toMatchObject({ total: 3, counted: 2, afterAsOf: 1 });
    expect(result.ratings.map((r) => r.team).sort()).toEqual(['A', 'B']);
    expect(rating(result, 'A')).toMatchObject({ wins: 1, losses: 1 });
  });

  it('counts only games between listed teams, and lists a listed team with none unrated', () => {
    const games = [
      game('A 1-0 B'),
      game('B 1-0 C'),
      game('A 3-0 Outsider'),
      game('D 0-1 Outsider'),
    ];

    const result = computeRpi(games, { teams: ['A', 'B', 'C', 'D'] });

    expect(result.games).toMatchObject({ counted: 2, notBetweenListedTeams: 2 });
    expect(rating(result, 'A')).toMatchObject({ games: 1, wins: 1 });
    expect(result.ratings.find((r) => r.team === 'Outsider')).toBeUndefined();
    expect(result.ratings.at(-1)).toEqual({
      rank: null,
      team: 'D',
      games: 0,
      wins: 0,
      losses: 0,
      ties: 0,
      wp: null,
      owp: null,
      oowp: null,
      rpi: null,
    });
  });

  it('counts only the games of the season asked for', () => {
    const games = [game('A 1-0 B', { season: '2023' }), game('B 1-0 A', { season: '2024' })];

    const result = computeRpi(games, { season: '2024' });

    expect(result.games).toMatchObject({ counted: 1, otherSeason: 1 });
    expect(rating(result, 'B').wins).toBe(1);
  });

  it('gives teams with the same RPI the same rank, in name order', () => {
    const result = computeRpi([game('A 1-0 B'), game('C 1-0 D')]);

    expect(result.ratings.map((r) => [r.rank, r.team])).toEqual([
      [1, 'A'],
      [1, 'C'],
      [3, 'B'],
      [3, 'D'],
    ]);
  });

  it('refuses an unknown as-of day and a team playing itself', () => {
    expect(() => computeRpi([], { asOf: '2024-02-30' })).toThrow(/as-of date "2024-02-30"/);
    expect(() => computeRpi([game('A 1-0 A', { matchId: 'm7' })])).toThrow(
      /team "A" cannot play itself \(match m7\)/,
    );
  });

  it('returns no ratings for no games', () => {
    expect(computeRpi([]).ratings).toEqual([]);
  });
});
