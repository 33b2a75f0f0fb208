import { describe, expect, it } from 'vitest';
import { importSummary } from '../../../cli/actions/teams.js';

describe("teams import's summary line", () => {
  it('writes every count with its thousands separated', () => {
    expect(
      importSummary(
        'teams.csv',
        { registered: 3000, updated: 1200, unchanged: 3000, failed: 0 },
        0,
      ),
    ).toBe('teams.csv: 3,000 teams registered, 1,200 updated, 3,000 unchanged');
    expect(
      importSummary('-', { registered: 1, updated: 0, unchanged: 0, failed: 1500 }, 1001),
    ).toBe(
      '-: 1 team registered, 0 updated, 0 unchanged, 1,001 rows rejected, 1,500 could not be stored',
    );
  });
});
