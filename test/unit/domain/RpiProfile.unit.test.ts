import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../domain/DomainError.js';
import { PROFILES, resolveProfile } from '../../../domain/rpi/RpiProfile.js';

describe('resolveProfile', () => {
  it('defaults to ncaa-soccer-2024 with the published parameters', () => {
    expect(resolveProfile()).toMatchObject({
      name: 'ncaa-soccer-2024',
      weights: [0.25, 0.5, 0.25],
      tieValue: 1 / 3,
      sosTieValue: 1 / 2,
      locationWeights: { homeWin: 1, roadWin: 1 },
      penaltiesAreTies: true,
    });
  });

  it('has the five built-in profiles with their weights, ncaa-hockey-2013 the last', () => {
    expect([...PROFILES.keys()]).toEqual([
      'ncaa-soccer-2024',
      'ncaa-soccer-2023',
      'ncaa-basketball',
      'ncaa-hockey',
      'ncaa-hockey-2013',
    ]);
    expect(resolveProfile('ncaa-hockey-2013')).toMatchObject({
      weights: [0.25, 0.21, 0.54],
      locationWeights: { homeWin: 0.8, roadWin: 1.2 },
      sosAveraging: 'site-weighted',
      badWins: { passes: 'once' },
    });
    expect(resolveProfile('ncaa-soccer-2023').tieValue).toBe(0.5);
    expect(resolveProfile('ncaa-basketball').locationWeights).toEqual({
      homeWin: 0.6,
      roadWin: 1.4,
    });
    expect(resolveProfile('ncaa-hockey').weights).toEqual([0.25, 0.21, 0.54]);
  });

  it('applies overrides and marks the name as custom', () => {
    const profile = resolveProfile('ncaa-soccer-2024', {
      weights: [0.3, 0.4, 0.3],
      tieValue: 0.5,
      locationWeights: [0.6, 1.4],
    });

    expect(profile).toMatchObject({
      name: 'ncaa-soccer-2024+custom',
      weights: [0.3, 0.4, 0.3],
      tieValue: 0.5,
      sosTieValue: 0.5,
      locationWeights: { homeWin: 0.6, roadWin: 1.4 },
    });
  });

  it.each([
    [{ weights: [0.5, 0.5, 0.5] }, /weights must sum to 1/],
    [{ weights: [0.3, 0.3, 0.3] }, /^weights must sum to 1, got 0\.3 \+ 0\.3 \+ 0\.3 = 0\.9$/],
    [{ weights: [0.5, 0.5] }, /three numbers/],
    [{ weights: [-0.5, 1, 0.5] }, /WP weight must be a number from 0 to 1/],
    [{ tieValue: 1.5 }, /tie value must be a number from 0 to 1/],
    [{ sosTieValue: Number.NaN }, /SOS tie value/],
    [{ locationWeights: [0, 1] }, /location weights must be positive/],
    [{ locationWeights: [1] }, /two numbers/],
  ])('refuses %o', (overrides, message) => {
    expect(() => resolveProfile('ncaa-soccer-2024', overrides)).toThrow(message);
  });

  it('names the known profiles when asked for an unknown one', () => {
    let error: unknown;
    try {
      resolveProfile('ncaa-curling');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'UNKNOWN_PROFILE' });
    expect(String(error)).toMatch(/ncaa-curling.*ncaa-soccer-2024, ncaa-soccer-2023/);
  });
});
