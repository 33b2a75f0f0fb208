import { describe, expect, it } from 'vitest';
import { deliveryScenario } from '../../../chaos/delivery.js';

describe('chaos: delivery faults', () => {
  it('applies every event once under duplicated, delayed, reordered records and a shard split and merge mid-run', async () => {
    const result = await deliveryScenario({ seed: 9, teams: 12, gamesPerTeam: 4 });

    expect(result).toMatchObject({ lost: 0, duplicated: 0, divergences: 0, passed: true });
    expect(result.events_applied).toBe(result.events_in);
    expect(result.details.records_redelivered).toBeGreaterThan(0);
    // Every copy was put, and none after the pipeline stopped.
    expect(result.details.redelivery_errors).toEqual([]);
    expect(result.details.reshards).toEqual([
      expect.stringMatching(/^split /),
      expect.stringMatching(/^merged /),
    ]);
  }, 120_000);
});
