import { describe, expect, it } from 'vitest';
import { redriveSummaryLine } from '../../../cli/actions/deadLetters.js';

const letter = (i: number) => ({ id: `l${i}`, consumer: 'read-models' });

describe('a redrive summary line', () => {
  it('writes every count with thousands separators, as the letters taken', () => {
    const summary = {
      dry_run: false,
      letters: 4_356,
      redriven: Array.from({ length: 1_000 }, (_, i) => ({
        ...letter(i),
        through: 'x@1',
        events: 1,
      })),
      still_failing: Array.from({ length: 3_352 }, (_, i) => ({
        ...letter(i),
        error: 'e',
        attempts: 2,
      })),
      skipped: Array.from({ length: 4 }, (_, i) => ({
        ...letter(i),
        why: 'applied',
        removed: true,
      })),
    };

    expect(redriveSummaryLine(summary)).toBe(
      '4,356 dead letters taken: 1,000 redriven, 3,352 still failing, 4 skipped',
    );
    expect(redriveSummaryLine({ ...summary, dry_run: true })).toBe(
      'dry run: 4,356 dead letters taken: 1,000 would be redriven, 3,352 still failing, 4 skipped',
    );
  });
});
