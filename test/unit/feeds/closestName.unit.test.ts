import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../../feeds/closestName.js';

const COLUMNS = [
  'date',
  'home_team',
  'away_team',
  'home_score',
  'away_score',
  'neutral',
  'decided_by',
  'match_id',
  'season',
  'venue',
];

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
    expect(editDistance('match_id', 'match_id')).toBe(0);
    expect(editDistance('matchid', 'match_id')).toBe(1);
    expect(editDistance('home_scores', 'home_score')).toBe(1);
    expect(editDistance('home-team', 'home_team')).toBe(1);
    expect(editDistance('nuetral', 'neutral')).toBe(1);
    expect(editDistance('', 'date')).toBe(4);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('closestName', () => {
  it('finds the column a typo meant, and none for a column of its own', () => {
    expect(closestName('matchid', COLUMNS)).toBe('match_id');
    expect(closestName('nuetral', COLUMNS)).toBe('neutral');
    expect(closestName('hometeam', COLUMNS)).toBe('home_team');
    expect(closestName('away_scor', COLUMNS)).toBe('away_score');
    expect(closestName('dates', COLUMNS)).toBe('date');
    expect(closestName('seasons', COLUMNS)).toBe('season');
    // Too far for a short name, or not a typo at all.
    expect(closestName('time', COLUMNS)).toBeUndefined();
    expect(closestName('attendance', COLUMNS)).toBeUndefined();
    expect(closestName('kickoff', COLUMNS)).toBeUndefined();
    expect(closestName('home', COLUMNS)).toBeUndefined();
  });
});
