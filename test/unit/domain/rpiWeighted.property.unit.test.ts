import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECIDED_BY, type Game } from '../../../domain/games/Game.js';
import { parseAdjustmentOverrides } from '../../../domain/rpi/adjustments.js';
import { computeRpi } from '../../../domain/rpi/computeRpi.js';
import { computeRpiVariant } from '../../../domain/rpi/computeRpiVariant.js';
import {
  hasWeightedRules,
  PROFILES,
  type RpiProfile,
  resolveProfile,
} from '../../../domain/rpi/RpiProfile.js';

const TEAMS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];

const gameArb: fc.Arbitrary<Game> = fc
  .record({
    home: fc.integer({ min: 0, max: TEAMS.length - 1 }),
    offset: fc.integer({ min: 1, max: TEAMS.length - 1 }),
    homeScore: fc.integer({ min: 0, max: 4 }),
    awayScore: fc.integer({ min: 0, max: 4 }),
    neutral: fc.boolean(),
    decidedBy: fc.constantFrom(...DECIDED_BY),
  })
  .map((g) => ({
    season: '2024',
    date: '2024-09-01',
    homeTeam: TEAMS[g.home] ?? 'A',
    awayTeam: TEAMS[(g.home + g.offset) % TEAMS.length] ?? 'B',
    homeScore: g.homeScore,
    awayScore: g.awayScore,
    neutral: g.neutral,
    decidedBy: g.decidedBy,
  }));

const seasonArb = fc.array(gameArb, { maxLength: 50 });

const hockey = resolveProfile('ncaa-hockey-2013');
const weightedArb: fc.Arbitrary<RpiProfile> = fc
  .record({
    passes: fc.constantFrom('once', 'until-stable' as const),
    averaging: fc.constantFrom('site-weighted', 'per-game' as const),
    top: fc.integer({ min: 0, max: 8 }),
  })
  .map(({ passes, averaging, top }) => ({
    ...hockey,
    sosAveraging: averaging,
    badWins: { passes },
    qualityWinBonus: {
      ...(hockey.qualityWinBonus ?? { scale: 0.01, tieShare: 0.5, siteWeighted: true }),
      points: hockey.qualityWinBonus?.points.slice(0, top) ?? [],
    },
  }));

type Side = { opp: string; r: number; site: 'H' | 'A' | 'N'; id: number };

/** The 2013 hockey rules straight from their definition (README, "The RPI"), quadratic. */
function naiveHockey(games: readonly Game[], profile: RpiProfile) {
  const sides = new Map<string, Side[]>();
  games.forEach((g, id) => {
    const tie =
      g.homeScore === g.awayScore || (g.decidedBy === 'penalties' && profile.penaltiesAreTies);
    const hr = tie ? 0.5 : g.homeScore > g.awayScore ? 1 : 0;
    const push = (t: string, s: Side) => sides.set(t, [...(sides.get(t) ?? []), s]);
    push(g.homeTeam, { opp: g.awayTeam, r: hr, site: g.neutral ? 'N' : 'H', id });
    push(g.awayTeam, { opp: g.homeTeam, r: 1 - hr, site: g.neutral ? 'N' : 'A', id });
  });
  const { homeWin, roadWin } = profile.locationWeights;
  const winW = (s: Side) => (s.site === 'H' ? homeWin : s.site === 'A' ? roadWin : 1);
  const lossW = (s: Side) => (s.site === 'H' ? roadWin : s.site === 'A' ? homeWin : 1);
  const credit = (s: Side) => (s.r === 1 ? winW(s) : s.r === 0 ? 0 : profile.tieValue * winW(s));
  const weight = (s: Side) =>
    s.r === 1
      ? winW(s)
      : s.r === 0
        ? lossW(s)
        : profile.tieValue * winW(s) + (1 - profile.tieValue) * lossW(s);
  const pct = (o: string, without: string) => {
    const own = (sides.get(o) ?? []).filter((s) => s.opp !== without);
    if (own.length === 0) return undefined;
    return own.reduce((a, s) => a + (s.r === 0.5 ? profile.sosTieValue : s.r), 0) / own.length;
  };
  const owpClassic = (o: string) => {
    const vs = (sides.get(o) ?? []).map((s) => pct(s.opp, o)).filter((v) => v !== undefined);
    return vs.length === 0 ? undefined : vs.reduce((a, v) => a + v, 0) / vs.length;
  };
  const figures = (t: string, removed: ReadonlySet<number>) => {
    const kept = (sides.get(t) ?? []).filter((s) => !removed.has(s.id));
    const avg = (f: (s: Side) => number | undefined) => {
      let sum = 0;
      let n = 0;
      for (const s of kept) {
        const v = f(s);
        if (v === undefined) continue;
        const a = profile.sosAveraging === 'site-weighted' ? weight(s) : 1;
        sum += a * v;
        n += a;
      }
      return n > 0 ? sum / n : 0;
    };
    const wp = kept.reduce((a, s) => a + credit(s), 0) / kept.reduce((a, s) => a + weight(s), 0);
    const owp = avg((s) => pct(s.opp, t));
    const oowp = avg((s) => owpClassic(s.opp));
    const [w1, w2, w3] = profile.weights;
    return { wp, owp, oowp, rpi: w1 * wp + w2 * owp + w3 * oowp };
  };
  const base = new Map<string, ReturnType<typeof figures> & { removed: number }>();
  for (const t of sides.keys()) {
    const removed = new Set<number>();
    for (;;) {
      const current = figures(t, removed).rpi;
      const bad = (sides.get(t) ?? []).filter(
        (s) =>
          s.r === 1 &&
          !removed.has(s.id) &&
          figures(t, new Set([...removed, s.id])).rpi - current > 1e-12,
      );
      const remaining = (sides.get(t) ?? []).length - removed.size;
      if (bad.length === 0 || bad.length >= remaining) break;
      const after = new Set([...removed, ...bad.map((s) => s.id)]);
      if (!(figures(t, after).rpi - current > 1e-12)) break;
      for (const s of bad) removed.add(s.id);
      if (profile.badWins?.passes === 'once') break;
    }
    base.set(t, { ...figures(t, removed), removed: removed.size });
  }
  const values = [...base.values()].map((v) => v.rpi);
  const rank = (t: string) => 1 + values.filter((v) => v > (base.get(t)?.rpi ?? 0) + 1e-12).length;
  const qwb = profile.qualityWinBonus;
  return new Map(
    [...base].map(([t, v]) => {
      let points = 0;
      let total = 0;
      for (const s of sides.get(t) ?? []) {
        total += weight(s);
        const rk = rank(s.opp);
        if (!qwb || s.r === 0 || rk > qwb.points.length) continue;
        points +=
          (qwb.points[rk - 1] ?? 0) *
          (qwb.siteWeighted ? winW(s) : 1) *
          (s.r === 0.5 ? qwb.tieShare : 1);
      }
      const bonus = qwb ? (points / total) * qwb.scale : 0;
      return [t, { ...v, bonus, rpi: v.rpi + bonus }];
    }),
  );
}

const { badWins: _, ...withoutBadWins } = hockey;
const { qualityWinBonus: __, ...withoutBonus } = hockey;

describe('ncaa-hockey-2013 rules, properties', () => {
  it('equal their quadratic definition on random seasons', () => {
    fc.assert(
      fc.property(seasonArb, weightedArb, (games, profile) => {
        const fast = computeRpi(games, { profile });
        const naive = naiveHockey(games, profile);
        for (const r of fast.ratings) {
          const n = naive.get(r.team);
          expect(n).toBeDefined();
          if (!n) continue;
          expect(r.wp).toBeCloseTo(n.wp, 12);
          expect(r.owp).toBeCloseTo(n.owp, 12);
          expect(r.oowp).toBeCloseTo(n.oowp, 12);
          expect(r.bonus).toBeCloseTo(n.bonus, 12);
          expect(r.rpi).toBeCloseTo(n.rpi, 12);
          expect(r.removedWins).toBe(n.removed);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never lower a team’s RPI by removing bad wins, and never leave it without games', () => {
    fc.assert(
      fc.property(seasonArb, (games) => {
        const kept = computeRpi(games, { profile: withoutBadWins });
        const removed = computeRpi(games, { profile: withoutBonus });
        const before = new Map(kept.ratings.map((r) => [r.team, (r.rpi ?? 0) - (r.bonus ?? 0)]));
        for (const r of removed.ratings) {
          expect(r.rpi ?? 0).toBeGreaterThanOrEqual((before.get(r.team) ?? 0) - 1e-12);
          expect(r.wp).not.toBeNull();
        }
      }),
      { numRuns: 200 },
    );
  });
});

const classicArb = fc.constantFrom(...[...PROFILES.values()].filter((p) => !hasWeightedRules(p)));

describe('computeRpiVariant, properties', () => {
  it('gives the unadjusted RPI as the unadjusted variant, for every profile', () => {
    fc.assert(
      fc.property(seasonArb, fc.constantFrom(...PROFILES.values()), (games, profile) => {
        const plain = computeRpi(games, { profile });
        const variant = computeRpiVariant(games, { profile });
        expect(variant.ratings.map((r) => [r.team, r.rank, r.rpi, r.unadjustedRpi])).toEqual(
          plain.ratings.map((r) => [r.team, r.rank, r.rpi, r.rpi]),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('gives the unadjusted RPI as the non-conference RPI when every game is non-conference', () => {
    fc.assert(
      fc.property(seasonArb, classicArb, (games, profile) => {
        const own = Object.fromEntries(TEAMS.map((t) => [t, `conference of ${t}`]));
        const nc = computeRpiVariant(games, {
          profile,
          variant: 'non-conference',
          conferences: own,
        });
        for (const r of nc.ratings) {
          expect(r.rpi).toBeCloseTo(r.unadjustedRpi ?? Number.NaN, 12);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('moves each team by at most its games times the largest amount, and by 0 with a zero table', () => {
    const amount = fc.double({ min: 0, max: 0.01, noNaN: true });
    const siteArb = fc.record({ home: amount, neutral: amount, away: amount });
    fc.assert(
      fc.property(seasonArb, siteArb, siteArb, fc.boolean(), (games, win, loss, zero) => {
        const z = { home: 0, neutral: 0, away: 0 };
        const tiers = {
          'bonus-1': { first: 1, last: 2, win: zero ? z : win, tie: z },
          'bonus-2': { first: 3, last: 4, win: z, tie: z },
          'bonus-3': { first: 5, last: 5, win: z, tie: z },
          'penalty-1': { first: 3, last: 4, tie: z, loss: z },
          'penalty-2': { first: 1, last: 2, tie: z, loss: zero ? z : loss },
        };
        const result = computeRpiVariant(games, {
          profile: resolveProfile('ncaa-soccer-2024'),
          variant: 'adjusted',
          conferences: Object.fromEntries(TEAMS.map((t) => [t, t])),
          adjustments: parseAdjustmentOverrides({ tiers }),
        });
        const most = Math.max(...Object.values(win), ...Object.values(loss));
        for (const r of result.ratings) {
          const moved = Math.abs((r.rpi ?? 0) - (r.unadjustedRpi ?? 0));
          if (zero) expect(moved).toBe(0);
          else expect(moved).toBeLessThanOrEqual(r.games * most + 1e-15);
        }
      }),
      { numRuns: 200 },
    );
  });
});
