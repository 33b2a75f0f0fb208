import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../domain/DomainError.js';
import {
  type AdjustmentOverrides,
  parseAdjustmentOverrides,
} from '../../../domain/rpi/adjustments.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import {
  computeRpiVariant,
  type VariantRating,
  type VariantResult,
} from '../../../domain/rpi/computeRpiVariant.js';
import { resolveProfile } from '../../../domain/rpi/RpiProfile.js';
import { game } from '../../support/games.js';

function rating(result: VariantResult, team: string): VariantRating {
  const found = result.ratings.find((r) => r.team === team);
  if (!found) throw new Error(`no rating for ${team}`);
  return found;
}

// A league of twelve, T01 to T12, in which every lower number beats every higher one once
// (sites alternate), so the unadjusted ranks follow the numbers closely; T01-T06 play in C1,
// T07-T12 in C2. Six more non-conference games bring the upsets and ties under test.
const T = (i: number) => `T${String(i).padStart(2, '0')}`;
const ladder = Array.from({ length: 12 }, (_, i) => i + 1).flatMap((i) =>
  Array.from({ length: 12 - i }, (_, k) => i + k + 1).map((j) =>
    (i + j) % 2 === 0 ? game(`${T(i)} 2-0 ${T(j)}`) : game(`${T(j)} 0-1 ${T(i)}`),
  ),
);
const upsets = [
  game('T01 1-2 T08'), // T08 wins away at T01
  game('T09 3-1 T02'), // T09 wins at home over T02
  game('T10 1-0 T01', { neutral: true }), // T10 wins over T01 at a neutral site
  game('T07 1-1 T03'), // T07 ties T03 at home
  game('T05 0-1 T12'), // T05 loses at home to T12
  game('T11 2-2 T04'), // T11 ties T04 at home
];
const league = [...ladder, ...upsets];
const conferences: Record<string, string> = Object.fromEntries(
  Array.from({ length: 12 }, (_, i) => [T(i + 1), i < 6 ? 'C1' : 'C2']),
);

// Tiers scaled to twelve teams: bonuses against unadjusted ranks 1-2, 3-4, 5-6; penalties
// against the bottom 3-4 (ranks 9-10) and the bottom 1-2 (ranks 11-12). Amounts by site.
const sites = (home: number, neutral: number, away: number) => ({ home, neutral, away });
const table: AdjustmentOverrides = parseAdjustmentOverrides({
  tiers: {
    'bonus-1': {
      first: 1,
      last: 2,
      win: sites(0.002, 0.0022, 0.0024),
      tie: sites(0.0008, 0.001, 0.0012),
    },
    'bonus-2': {
      first: 3,
      last: 4,
      win: sites(0.0016, 0.0018, 0.002),
      tie: sites(0.0006, 0.0007, 0.0008),
    },
    'bonus-3': {
      first: 5,
      last: 6,
      win: sites(0.001, 0.0011, 0.0012),
      tie: sites(0.0004, 0.0005, 0.0006),
    },
    'penalty-1': {
      first: 3,
      last: 4,
      tie: sites(0.0006, 0.0004, 0.0002),
      loss: sites(0.002, 0.0017, 0.0015),
    },
    'penalty-2': {
      first: 1,
      last: 2,
      tie: sites(0.0013, 0.0011, 0.0009),
      loss: sites(0.0026, 0.0024, 0.0022),
    },
  },
});

describe('computeRpiVariant', () => {
  it('keeps computeRpi as the unadjusted variant, with the unadjusted value beside it', () => {
    // Act
    const plain = computeRpi(league);
    const variant = computeRpiVariant(league, { variant: 'unadjusted', conferences });

    // Assess
    expect(variant.ratings.map((r) => [r.team, r.rank, r.rpi])).toEqual(
      plain.ratings.map((r) => [r.team, r.rank, r.rpi]),
    );
    for (const r of variant.ratings) {
      expect([r.unadjustedRank, r.unadjustedRpi]).toEqual([r.rank, r.rpi]);
    }
    expect(variant.games).toMatchObject({ counted: 72, nonConference: 42, unknownConference: 0 });
  });

  describe('adjusted (ncaa-soccer-2024 with a supplied table)', () => {
    const profile = resolveProfile('ncaa-soccer-2024');
    const result = computeRpiVariant(league, {
      profile,
      variant: 'adjusted',
      conferences,
      adjustments: table,
    });
    const unadjustedRank = (team: string) => rating(result, team).unadjustedRank;

    it('ranks the league as built: T02, T01, T03, T04, T06, T05, T07 … T12', () => {
      expect(
        [...result.ratings]
          .sort((x, y) => (x.unadjustedRank ?? 0) - (y.unadjustedRank ?? 0))
          .map((r) => r.team),
      ).toEqual([
        'T02',
        'T01',
        'T03',
        'T04',
        'T06',
        'T05',
        'T07',
        'T08',
        'T09',
        'T10',
        'T11',
        'T12',
      ]);
    });

    it('gives a top-tier win its away, home and neutral bonus', () => {
      // T08 won away at #2 T01, T09 at home over #1 T02, T10 at a neutral site over #2 T01.
      expect([unadjustedRank('T01'), unadjustedRank('T02')]).toEqual([2, 1]);
      expect(rating(result, 'T08').adjustment).toBeCloseTo(0.0024, 15);
      expect(rating(result, 'T09').adjustment).toBeCloseTo(0.002, 15);
      expect(rating(result, 'T10').adjustment).toBeCloseTo(0.0022, 15);
    });

    it('gives a tie its tier’s amount on each side: a bonus for one, a penalty for the other', () => {
      // T11 (#11, second from the bottom) tied #4 T04 at home: bonus-2 tie, home (+0.0006);
      // T04 tied a bottom-2 team away: penalty-2 tie, away (-0.0009).
      expect(rating(result, 'T11').adjustment).toBeCloseTo(0.0006, 15);
      expect(rating(result, 'T04').adjustment).toBeCloseTo(-0.0009, 15);
      // T07 tied #3 T03 at home: bonus-2 tie, home; T03 tied #7 (bottom 6): no tier.
      expect(rating(result, 'T07').adjustment).toBeCloseTo(0.0006, 15);
      expect(rating(result, 'T03').adjustment).toBe(0);
    });

    it('penalises a loss to a bottom-tier team by site, and rewards the winner', () => {
      // T05 lost at home to #12 T12 (bottom 1): penalty-2 loss, home (-0.0026); T12 won away
      // over #6 T05: bonus-3 win, away (+0.0012).
      expect(rating(result, 'T05').adjustment).toBeCloseTo(-0.0026, 15);
      expect(rating(result, 'T12').adjustment).toBeCloseTo(0.0012, 15);
      // T01 lost at home to #8 (bottom 5, no tier) and at a neutral site to #10 T10 (bottom 3):
      // penalty-1 loss, neutral. T02 lost away to #9 T09 (bottom 4): penalty-1 loss, away.
      expect(rating(result, 'T01').adjustment).toBeCloseTo(-0.0017, 15);
      expect(rating(result, 'T02').adjustment).toBeCloseTo(-0.0015, 15);
    });

    it('adds the adjustment to the unadjusted RPI and re-ranks on the result', () => {
      for (const r of result.ratings) {
        expect(r.rpi).toBeCloseTo((r.unadjustedRpi ?? 0) + (r.adjustment ?? 0), 15);
      }
      const order = result.ratings.map((r) => r.rpi ?? 0);
      expect(order).toEqual([...order].sort((x, y) => y - x));
      expect(result.ratings.map((r) => r.rank)).toEqual(result.ratings.map((_, i) => i + 1));
      // Every value came from the user except the table's game scope.
      expect(result.unconfirmed).toEqual(['games']);
    });

    it('counts conference games too when the table says so', () => {
      // T01's ladder wins over #1, #3, #4, #6, #5 earn bonuses: away 0.0024, home 0.0016,
      // away 0.0020, home 0.0010, away 0.0012, besides the -0.0017 above.
      const all = computeRpiVariant(league, {
        profile,
        variant: 'adjusted',
        conferences,
        adjustments: { ...table, games: 'all' },
      });
      expect(rating(all, 'T01').adjustment).toBeCloseTo(
        0.0024 + 0.0016 + 0.002 + 0.001 + 0.0012 - 0.0017,
        15,
      );
    });

    it('gives no adjustment for a game with a team of unknown conference, and counts it', () => {
      const { T12: _, ...withoutT12 } = conferences;
      const unknown = computeRpiVariant(league, {
        profile,
        variant: 'adjusted',
        conferences: withoutT12,
        adjustments: table,
      });
      expect(rating(unknown, 'T05').adjustment).toBe(0);
      expect(rating(unknown, 'T12').adjustment).toBe(0);
      expect(unknown.games.unknownConference).toBe(12);
    });
  });

  it('refuses the adjusted RPI where the table has values no source gave, naming them', () => {
    const run = () =>
      computeRpiVariant(league, {
        profile: resolveProfile('ncaa-soccer-2024'),
        variant: 'adjusted',
        conferences,
      });
    expect(run).toThrow(DomainError);
    expect(run).toThrow(
      /gave: tiers\.bonus-1\.\*, tiers\.bonus-2\.\*, tiers\.bonus-3\.\*, tiers\.penalty-1\.\*, tiers\.penalty-2\.\* \(/,
    );
    // Boundaries given, one amount supplied: the rest are named by result, then by site.
    const partly = () =>
      computeRpiVariant(league, {
        profile: resolveProfile('ncaa-soccer-2023'),
        variant: 'adjusted',
        conferences,
        adjustments: parseAdjustmentOverrides({ tiers: { 'bonus-1': { win: { home: 0.002 } } } }),
      });
    expect(partly).toThrow(
      /gave: tiers\.bonus-1\.win\.neutral, tiers\.bonus-1\.win\.away, tiers\.bonus-1\.tie\.\*, tiers\.bonus-2\.win\.\*/,
    );
    expect(run).toThrow(/adjustments file/);
  });

  it.each(['ncaa-hockey', 'ncaa-hockey-2013', 'ncaa-basketball'])(
    'refuses the adjusted RPI for %s, which has no adjustment table',
    (name) => {
      expect(() =>
        computeRpiVariant(league, { profile: resolveProfile(name), variant: 'adjusted' }),
      ).toThrow(new RegExp(`profile "${name}" has no bonus and penalty table`));
    },
  );

  it('computes the non-conference RPI over non-conference games, opponents at full season', () => {
    // Prepare: A and B in C1, C and D in C2. A 1-0 B and C 1-1 D are conference games.
    const games = [
      game('A 1-0 B'),
      game('A 2-0 C'),
      game('C 1-1 D'),
      game('B 0-1 D'),
      game('C 1-0 B'),
    ];

    // Act
    const result = computeRpiVariant(games, {
      variant: 'non-conference',
      conferences: new Map([
        ['A', 'C1'],
        ['B', 'C1'],
        ['C', 'C2'],
        ['D', 'C2'],
      ]),
    });

    // Assess
    // Full records: A 2-0-0, B 0-3-0, C 1-1-1, D 1-0-1; classic OWP: A 3/8, B 7/12, C 2/3, D 1/4.
    // A: one non-conference game (beat C). WP 1; C without A 1-0-1 = 0.75; OOWP OWP(C) = 2/3.
    // B: lost to D and C. WP 0; D without B 0-0-1 = 0.5, C without B 0-1-1 = 0.25; OOWP
    //    (1/4 + 2/3)/2. C: lost to A, beat B. WP 1/2; A without C 1, B without C 0; OOWP
    //    (3/8 + 7/12)/2. D: beat B. WP 1; B without D 0-2 = 0; OOWP 7/12.
    const expected = {
      A: { games: 1, wp: 1, owp: 0.75, oowp: 2 / 3 },
      B: { games: 2, wp: 0, owp: 0.375, oowp: (1 / 4 + 2 / 3) / 2 },
      C: { games: 2, wp: 0.5, owp: 0.5, oowp: (3 / 8 + 7 / 12) / 2 },
      D: { games: 1, wp: 1, owp: 0, oowp: 7 / 12 },
    };
    for (const [team, e] of Object.entries(expected)) {
      const r = rating(result, team);
      expect(r.games).toBe(e.games);
      expect(r.wp).toBeCloseTo(e.wp, 14);
      expect(r.owp).toBeCloseTo(e.owp, 14);
      expect(r.oowp).toBeCloseTo(e.oowp, 14);
      expect(r.rpi).toBeCloseTo(0.25 * e.wp + 0.5 * e.owp + 0.25 * e.oowp, 14);
    }
    expect(result.ratings.map((r) => r.team)).toEqual(['A', 'C', 'D', 'B']);
    expect(rating(result, 'C')).toMatchObject({ wins: 1, losses: 1, ties: 0 });
    // The unadjusted (full-season) RPI stays beside it.
    const full = computeRpi(games);
    expect(rating(result, 'A').unadjustedRpi).toBe(full.ratings.find((r) => r.team === 'A')?.rpi);
    expect(result.games).toMatchObject({ nonConference: 3, unknownConference: 0 });
  });

  it('treats Independent as no conference and a team without one as unknown', () => {
    // A and B are independents; C has no conference.
    const games = [game('A 1-0 B'), game('B 1-0 C'), game('C 1-0 A')];

    const result = computeRpiVariant(games, {
      variant: 'non-conference',
      conferences: { A: 'Independent', B: 'independent' },
    });

    expect(rating(result, 'A')).toMatchObject({ games: 1, wins: 1 });
    expect(rating(result, 'C')).toMatchObject({ games: 0, rank: null, rpi: null });
    expect(result.games).toMatchObject({ nonConference: 1, unknownConference: 2 });
  });

  it('needs the conferences for the non-conference RPI', () => {
    expect(() => computeRpiVariant(league, { variant: 'non-conference' })).toThrow(
      /needs each team's conference: give the conferences/,
    );
  });
});

describe('parseAdjustmentOverrides', () => {
  it.each([
    [[], /\(root\) must be an object/],
    [{ tier: {} }, /tier is not a known field \(expected games, tiers\)/],
    [{ games: 'some' }, /games must be "non-conference" or "all", got "some"/],
    [
      { tiers: { 'bonus-1': { first: 0 } } },
      /tiers\.bonus-1\.first must be a whole number >= 1, got 0/,
    ],
    [
      { tiers: { 'bonus-1': { win: { home: '0.1' } } } },
      /tiers\.bonus-1\.win\.home must be a number/,
    ],
    [
      { tiers: { 'bonus-1': { win: { road: 0.1 } } } },
      /tiers\.bonus-1\.win\.road is not a known field/,
    ],
    [{ tiers: { 'bonus-1': { win: { home: -0.1 } } } }, /penalty is given as a positive amount/],
  ])('refuses %j, naming the field', (json, message) => {
    expect(() => parseAdjustmentOverrides(json)).toThrow(message);
  });

  it('refuses a tier the profile does not have, and overlapping tiers', () => {
    const profile = resolveProfile('ncaa-soccer-2024');
    expect(() =>
      computeRpiVariant(league, {
        profile,
        variant: 'adjusted',
        conferences,
        adjustments: parseAdjustmentOverrides({ tiers: { 'bonus-9': {} } }),
      }),
    ).toThrow(/tiers\.bonus-9 is not a tier of profile "ncaa-soccer-2024"; its tiers are bonus-1/);
    const overlapping = parseAdjustmentOverrides({
      tiers: { ...table.tiers, 'bonus-2': { ...table.tiers?.['bonus-2'], first: 2 } },
    });
    expect(() =>
      computeRpiVariant(league, {
        profile,
        variant: 'adjusted',
        conferences,
        adjustments: overlapping,
      }),
    ).toThrow(/tiers\.bonus-1 \(1-2\) and tiers\.bonus-2 \(2-4\) overlap/);
  });
});
