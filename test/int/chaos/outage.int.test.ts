import { describe, expect, it } from 'vitest';
import { outageScenario } from '../../../chaos/outage.js';

describe('chaos: a dependency out for a stretch', () => {
  it('opens the breakers, holds the work, closes them, applies every event once and dead-letters nothing, with far fewer calls than without them', async () => {
    const lines: string[] = [];
    const result = await outageScenario({
      seed: 11,
      teams: 12,
      gamesPerTeam: 4,
      outageMs: 3_000,
      log: (line) => lines.push(line),
    });

    const context = lines.join('\n');
    expect(result, context).toMatchObject({
      lost: 0,
      duplicated: 0,
      divergences: 0,
      dead_lettered: 0,
      passed: true,
    });
    expect(result.events_applied, context).toBe(result.events_in);
    const details = result.details as {
      with_breakers: { calls: number; dead_lettered: number };
      without_breakers: { calls: number; dead_lettered: number };
      breakers: { name: string; opened: number; closed: number; state: string }[];
    };
    expect(details.with_breakers.dead_lettered, context).toBe(0);
    // Without the breakers the same outage ran the consumers out of retries.
    expect(details.without_breakers.dead_lettered, context).toBeGreaterThan(0);
    expect(details.with_breakers.calls * 2, context).toBeLessThanOrEqual(
      details.without_breakers.calls,
    );
    expect(
      details.breakers.map((b) => b.name),
      context,
    ).toContain('read-models/read-model-tables');
  }, 240_000);
});
