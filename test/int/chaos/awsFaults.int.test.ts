import { describe, expect, it } from 'vitest';
import { awsFaultsScenario } from '../../../chaos/awsFaults.js';

describe('chaos: injected AWS faults', () => {
  it('converges to the same read models and rankings under throttling, 5xx, timeouts, lost answers and partial batch failures', async () => {
    const result = await awsFaultsScenario({
      seed: 5,
      teams: 12,
      gamesPerTeam: 4,
      rates: { throttle: 0.03, serverError: 0.02, timeout: 0.01, lostAnswer: 0.02, partial: 0.3 },
    });

    expect(result).toMatchObject({ lost: 0, duplicated: 0, divergences: 0, passed: true });
    expect(result.events_applied).toBe(result.events_in);
    // Every kind of fault was injected at least once.
    expect(Object.values(result.details.injected as Record<string, number>)).not.toContain(0);
  }, 180_000);
});
