import { describe, expect, it } from 'vitest';
import { computeRpi, type RpiResult, type TeamRating } from '../../../domain/rpi/computeRpi.js';
import { resolveProfile } from '../../../domain/rpi/RpiProfile.js';
import { game } from '../../support/games.js';

function rating(result: RpiResult, team: string): TeamRating {
  const found = result.ratings.find((r) => r.team === team);
  if (!found) throw new Error(`no rating for ${team}`);
  return found;
}

const hockey = resolveProfile('ncaa-hockey-2013');

describe('ncaa-hockey-2013, by hand', () => {
  it('weights WP, OWP and OOWP by site and adds the quality-win bonus (ties earn half)', () => {
    // Prepare (home team first): A wins at B and at home over C; B and C tie at B.
    const games = [game('B 1-2 A'), game('A 3-0 C'), game('B 1-1 C')];

    // Act
    const result = computeRpi(games, { profile: hockey });

    // Assess
    // A: road win (1.2) and home win (0.8): WP 2.0/2.0 = 1. B without A tied C (0.5), C
    //   without A tied B (0.5): OWP (1.2·0.5 + 0.8·0.5)/2 = 0.5; classic OWP of B and C is
    //   0.5 each: OOWP 0.5. RPI 0.25 + 0.21·0.5 + 0.54·0.5 = 0.625. Both wins are worth
    //   exactly 0.625, so neither is a bad win.
    // B: home loss (1.2), home tie (credit 0.4, weight 1.0): WP 0.4/2.2. A without B 1-0 (1),
    //   C without B 0-1 (0): OWP 1.2/2.2; OOWP 0.5. RPI 0.43.
    // C: road loss (0.8), road tie (credit 0.6, weight 1.0): WP 0.6/1.8; OWP 0.8/1.8; OOWP
    //   0.5. RPI 0.25/3 + 0.21·0.8/1.8 + 0.27 = 0.446667. Ranks: A 1, C 2, B 3.
    // Bonus: A beat #3 on the road (4.50 × 1.2) and #2 at home (4.75 × 0.8): 9.2 / 2.0 / 100.
    //   B tied #2 at home: 4.75 × 0.8 × 1/2 / 2.2 / 100. C tied #3 away: 4.50 × 1.2 × 1/2 / 1.8 / 100.
    const a = rating(result, 'A');
    expect(a.wp).toBeCloseTo(1, 12);
    expect(a.owp).toBeCloseTo(0.5, 12);
    expect(a.oowp).toBeCloseTo(0.5, 12);
    expect(a.bonus).toBeCloseTo(0.046, 12);
    expect(a.rpi).toBeCloseTo(0.625 + 0.046, 12);
    expect(a.removedWins).toBe(0);
    const b = rating(result, 'B');
    expect(b.wp).toBeCloseTo(0.4 / 2.2, 12);
    expect(b.owp).toBeCloseTo(1.2 / 2.2, 12);
    expect(b.bonus).toBeCloseTo(1.9 / 2.2 / 100, 12);
    expect(b.rpi).toBeCloseTo(0.43 + 1.9 / 2.2 / 100, 12);
    const c = rating(result, 'C');
    expect(c.wp).toBeCloseTo(0.6 / 1.8, 12);
    expect(c.owp).toBeCloseTo(0.8 / 1.8, 12);
    expect(c.bonus).toBeCloseTo(0.015, 12);
    expect(c.rpi).toBeCloseTo(0.25 / 3 + (0.21 * 0.8) / 1.8 + 0.27 + 0.015, 12);
    expect(result.ratings.map((r) => r.team)).toEqual(['A', 'C', 'B']);
  });

  it('leaves out a win that lowers the team’s RPI, from its own figures only', () => {
    // Prepare: A beats B and D at home; D loses every game.
    const games = [
      game('A 1-0 B'),
      game('B 1-0 C'),
      game('C 1-0 B'),
      game('A 1-0 D'),
      game('B 1-0 D'),
      game('C 1-0 D'),
    ];

    // Act
    const result = computeRpi(games, { profile: hockey });

    // Assess
    // A's games weigh 0.8 each. Its win over B is worth 0.25 + 0.21·(2/3) + 0.54·0.75 = 0.795
    // (B without A is 2-1; B's classic OWP is (1 + 1 + 1 + 0)/4); over D 0.25 + 0 + 0.54·
    // (1 + 1/3 + 1/2)/3 = 0.58. The RPI with both is 0.6875, so the D win is a bad win: without
    // it A's figures are those of the B game alone.
    const a = rating(result, 'A');
    expect(a.removedWins).toBe(1);
    expect(a).toMatchObject({ games: 2, wins: 2, wp: 1 });
    expect(a.owp).toBeCloseTo(2 / 3, 12);
    expect(a.oowp).toBeCloseTo(0.75, 12);
    expect((a.rpi ?? 0) - (a.bonus ?? 0)).toBeCloseTo(0.795, 12);
    // D's own figures still count its loss to A; it has no win to leave out.
    expect(rating(result, 'D')).toMatchObject({ games: 3, losses: 3, wp: 0, removedWins: 0 });
  });

  it('keeps the old hockey profile and the default profile free of the new fields', () => {
    const games = [game('A 1-0 B'), game('B 1-0 C')];

    for (const profile of [resolveProfile('ncaa-hockey'), resolveProfile()]) {
      const r = rating(computeRpi(games, { profile }), 'A');
      expect(r).not.toHaveProperty('bonus');
      expect(r).not.toHaveProperty('removedWins');
    }
  });
});
