import { describe, expect, it } from 'vitest';
import { latestPerMatch } from '../../../domain/games/latestPerMatch.js';
import { game } from '../../support/games.js';

describe('latestPerMatch', () => {
  it('keeps the last row of a match id in the place of the first, and every game without id', () => {
    const first = game('A 1-0 B', { matchId: 'm1' });
    const other = game('C 0-0 D');
    const corrected = game('A 1-1 B', { matchId: 'm1' });
    const again = game('C 0-0 D');

    const result = latestPerMatch([first, other, corrected, again]);

    expect(result.games).toEqual([corrected, other, again]);
    expect(result.superseded).toBe(1);
  });
});
