import { describe, expect, it } from 'vitest';
import { badInputScenario } from '../../../chaos/badInput.js';
import { CLI } from '../../support/cli.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

describe('chaos: bad input among good', () => {
  it('refuses every bad row and the oversized event with a reason, stores every good row, and the counts reconcile', async () => {
    const result = await badInputScenario({
      dir: tmp.path('bad'),
      cli: CLI,
      seed: 11,
      teams: 12,
      gamesPerTeam: 4,
    });

    expect(result).toMatchObject({ passed: true, lost: 0, duplicated: 0, divergences: 0 });
    expect(result.events_in).toBe(result.events_applied + result.rejected + result.dead_lettered);
    expect(result.details.reasons).toEqual(
      expect.arrayContaining([
        expect.stringContaining('starts like a spreadsheet formula'),
        expect.stringContaining('contains markup characters'),
        expect.stringContaining('not valid UTF-8'),
        expect.stringContaining('longer than 200 characters'),
      ]),
    );
    expect(result.details.oversized_event).toContain('team:Oversized');
  }, 60_000);
});
