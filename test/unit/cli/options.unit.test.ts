import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { isoInstant, seasonLabel } from '../../../cli/options.js';

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

describe('--since and --until', () => {
  it.each([
    ['2026-09-01', '2026-09-01T00:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2026-09-01T12:00', '2026-09-01T12:00:00.000Z'],
    ['2026-09-01 12:00:30', '2026-09-01T12:00:30.000Z'],
    ['2026-09-01T12:00:00.5Z', '2026-09-01T12:00:00.500Z'],
    ['2026-09-01T12:00:00+02:00', '2026-09-01T10:00:00.000Z'],
    ['2026-09-01T12:00-0500', '2026-09-01T17:00:00.000Z'],
  ])('takes %s as %s, in UTC whatever the time zone of the machine', (value, iso) => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
    try {
      expect(isoInstant(value)).toBe(iso);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it.each(['1', 'March 1', '2026', '2026-02-30', '2026-09-01T24:00', '2026-09-01T12:60', 'now'])(
    'refuses %s rather than guess',
    (value) => {
      expect(() => isoInstant(value)).toThrow(InvalidArgumentError);
    },
  );
});
