import { describe, expect, it } from 'vitest';
import { AWAY, gameRows, HOME, NEUTRAL } from '../../../domain/rpi/gameRows.js';
import { LOSS, TIE, WIN } from '../../../domain/rpi/outcome.js';
import { resolveProfile } from '../../../domain/rpi/RpiProfile.js';
import { selectGames } from '../../../domain/rpi/selectGames.js';
import {
  meanPerTeam,
  opponentPercentages,
  strengthOfSchedule,
} from '../../../domain/rpi/strengthOfSchedule.js';
import { tallyRecords } from '../../../domain/rpi/tallyRecords.js';
import { game } from '../../support/games.js';

// The four-team season of computeRpi's hand-worked tests (home team first):
//   A 1-1 B, A 2-0 C, B 0-1 C (neutral), C 3-1 D
const profile = resolveProfile('ncaa-soccer-2024');
const counted = selectGames(
  [game('A 1-1 B'), game('A 2-0 C'), game('B 0-1 C', { neutral: true }), game('C 3-1 D')],
  { profile, listed: undefined, asOf: undefined, season: undefined },
);
const records = tallyRecords(counted, profile);
const id = (team: string) => counted.names.indexOf(team);
/** The game rows of one team, as the range `offset[t]..offset[t+1]`. */
const rowsOf = (offset: Int32Array, team: string) =>
  [offset[id(team)] as number, offset[id(team) + 1] as number] as const;

describe('gameRows', () => {
  it("lays each game out once for either side, in game order, with that side's result and site", () => {
    // Act
    const rows = gameRows(counted, records.played);

    // Assess
    const [start, end] = rowsOf(rows.offset, 'C');
    expect(Array.from(rows.opponent.slice(start, end))).toEqual([id('A'), id('B'), id('D')]);
    expect(Array.from(rows.result.slice(start, end))).toEqual([LOSS, WIN, WIN]);
    expect(Array.from(rows.site.slice(start, end))).toEqual([AWAY, NEUTRAL, HOME]);
    const [aStart, aEnd] = rowsOf(rows.offset, 'A');
    expect(Array.from(rows.result.slice(aStart, aEnd))).toEqual([TIE, WIN]);
  });
});

describe('opponentPercentages and meanPerTeam', () => {
  it("give each row the opponent's percentage without the team, and each team their mean", () => {
    // Prepare
    const rows = gameRows(counted, records.played);

    // Act
    const pct = opponentPercentages(rows, records, profile.sosTieValue);
    const owp = meanPerTeam(rows.offset, pct);

    // Assess
    // C's opponents without C: A 1-0-1 less its win over C is 0-0-1 (1/2), B 0-1-1 less its
    // loss to C is 0-0-1 (1/2), D has no other game (NaN, left out of the mean).
    const [start, end] = rowsOf(rows.offset, 'C');
    expect(Array.from(pct.slice(start, end))).toEqual([1 / 2, 1 / 2, Number.NaN]);
    expect(owp[id('C')]).toBe(1 / 2);
    expect(owp[id('B')]).toBe(3 / 4);
  });
});

describe('strengthOfSchedule', () => {
  it('averages the opponents per game for OWP, and their OWP per game for OOWP', () => {
    // Act
    const { owp, oowp } = strengthOfSchedule(counted, records, profile.sosTieValue);

    // Assess
    expect(Array.from(owp)).toEqual([1 / 2, 3 / 4, 1 / 2, 1 / 2]);
    expect(Array.from(oowp)).toEqual([5 / 8, 1 / 2, 7 / 12, 1 / 2]);
  });
});
