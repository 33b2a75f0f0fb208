import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { seasonLabel } from '../../../cli/options.js';

describe('--season', () => {
  it('drops the spaces around a label, as a feed season cell loses them', () => {
    expect(seasonLabel(' 2026')).toBe('2026');
    expect(seasonLabel('2026-27 ')).toBe('2026-27');
    expect(seasonLabel('Fall 2026')).toBe('Fall 2026');
  });

  it.each([[''], ['   '], ['20\t26'], ['x'.repeat(201)]])('refuses %j', (value) => {
    expect(() => seasonLabel(value)).toThrow(InvalidArgumentError);
  });

  it('takes 200 characters with spaces around them', () => {
    expect(seasonLabel(` ${'x'.repeat(200)} `)).toBe('x'.repeat(200));
  });
});
