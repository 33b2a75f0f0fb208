import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECIDED_BY, type Game } from '../../../domain/games/Game.js';
import { computeRpi, type RpiResult } from '../../../domain/rpi/computeRpi.js';
import {
  hasWeightedRules,
  PROFILES,
  type RpiProfile,
  resolveProfile,
} from '../../../domain/rpi/RpiProfile.js';
import { naiveRpi } from '../../support/naiveRpi.js';

const TEAMS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];

const gameArb: fc.Arbitrary<Game> = fc
  .record({
    home: fc.integer({ min: 0, max: TEAMS.length - 1 }),
    offset: fc.integer({ min: 1, max: TEAMS.length - 1 }),
    homeScore: fc.integer({ min: 0, max: 4 }),
    awayScore: fc.integer({ min: 0, max: 4 }),
    neutral: fc.boolean(),
    decidedBy: fc.constantFrom(...DECIDED_BY),
    day: fc.integer({ min: 1, max: 28 }),
  })
  .map((g) => ({
    season: '2024',
    date: `2024-09-${String(g.day).padStart(2, '0')}`,
    homeTeam: TEAMS[g.home] ?? 'A',
    awayTeam: TEAMS[(g.home + g.offset) % TEAMS.length] ?? 'B',
    homeScore: g.homeScore,
    awayScore: g.awayScore,
    neutral: g.neutral,
    decidedBy: g.decidedBy,
  }));

const seasonArb = fc.array(gameArb, { maxLength: 60 });

const profileArb: fc.Arbitrary<RpiProfile> = fc.oneof(
  fc.constantFrom(...PROFILES.values()),
  fc
    .record({
      a: fc.integer({ min: 0, max: 100 }),
      b: fc.integer({ min: 0, max: 100 }),
      tie: fc.double({ min: 0, max: 1, noNaN: true }),
      sosTie: fc.double({ min: 0, max: 1, noNaN: true }),
      home: fc.double({ min: 0.1, max: 3, noNaN: true }),
      road: fc.double({ min: 0.1, max: 3, noNaN: true }),
    })
    .filter(({ a, b }) => a + b <= 100)
    .map(({ a, b, tie, sosTie, home, road }) =>
      resolveProfile('ncaa-soccer-2024', {
        weights: [a / 100, b / 100, (100 - a - b) / 100],
        tieValue: tie,
        sosTieValue: sosTie,
        locationWeights: [home, road],
      }),
    ),
);

function byTeam(result: RpiResult) {
  return new Map(result.ratings.map((r) => [r.team, r]));
}

describe('computeRpi, properties', () => {
  it('equals the direct quadratic definition on random seasons and profiles', () => {
    // The quadratic reference is the classic formula; rpiWeighted.property checks the rest.
    const classicArb = profileArb.filter((p) => !hasWeightedRules(p));
    fc.assert(
      fc.property(seasonArb, classicArb, fc.subarray(TEAMS), (games, profile, listed) => {
        const teamList = listed.length >= 2 ? listed : undefined;
        const fast = computeRpi(games, { profile, ...(teamList ? { teams: teamList } : {}) });
        const naive = naiveRpi(games, profile, teamList);

        const rated = fast.ratings.filter((r) => r.rpi !== null);
        expect(rated.map((r) => r.team).sort()).toEqual([...naive.keys()].sort());
        for (const r of rated) {
          const n = naive.get(r.team);
          expect(n).toBeDefined();
          if (!n) continue;
          expect([r.wins, r.losses, r.ties]).toEqual([n.wins, n.losses, n.ties]);
          expect(r.wp).toBeCloseTo(n.wp, 12);
          expect(r.owp).toBeCloseTo(n.owp, 12);
          expect(r.oowp).toBeCloseTo(n.oowp, 12);
          expect(r.rpi).toBeCloseTo(n.rpi, 12);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the order of the games', () => {
    fc.assert(
      fc.property(
        seasonArb.chain((games) =>
          fc.tuple(fc.constant(games), fc.shuffledSubarray(games, { minLength: games.length })),
        ),
        profileArb,
        ([games, shuffled], profile) => {
          const a = byTeam(computeRpi(games, { profile }));
          const b = byTeam(computeRpi(shuffled, { profile }));
          expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
          for (const [team, r] of a) {
            const s = b.get(team);
            expect(s?.wp).toBeCloseTo(r.wp ?? Number.NaN, 12);
            expect(s?.owp).toBeCloseTo(r.owp ?? Number.NaN, 12);
            expect(s?.oowp).toBeCloseTo(r.oowp ?? Number.NaN, 12);
            expect(s?.rpi).toBeCloseTo(r.rpi ?? Number.NaN, 12);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every percentage and the RPI within [0, 1], and ranks best first', () => {
    fc.assert(
      fc.property(seasonArb, profileArb, (games, profile) => {
        const { ratings } = computeRpi(games, { profile });
        for (const r of ratings) {
          // Under ncaa-hockey-2013 the RPI is a [0, 1] figure plus a quality-win bonus of at
          // most 0.06 (5 points for #1 × 1.2 on the road / 100); taking it off costs an ulp.
          const beforeBonus = r.rpi === null ? null : r.rpi - (r.bonus ?? 0);
          const ulp = r.bonus == null ? 0 : 1e-12;
          for (const v of [r.wp, r.owp, r.oowp, beforeBonus]) {
            expect(v).not.toBeNull();
            expect(v).toBeGreaterThanOrEqual(-ulp);
            expect(v).toBeLessThanOrEqual(1 + ulp);
          }
          expect(r.bonus ?? 0).toBeGreaterThanOrEqual(0);
          expect(r.bonus ?? 0).toBeLessThanOrEqual(0.06);
          expect(r.wins + r.losses + r.ties).toBe(r.games);
        }
        for (let i = 1; i < ratings.length; i++) {
          expect(ratings[i - 1]?.rpi ?? 0).toBeGreaterThanOrEqual(ratings[i]?.rpi ?? 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
