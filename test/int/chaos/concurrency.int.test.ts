import { describe, expect, it } from 'vitest';
import { concurrencyScenario } from '../../../chaos/concurrency.js';

describe('chaos: many writers on the same aggregate', () => {
  it('keeps every change once, in a gapless stream, every loser retrying after a ConcurrencyError', async () => {
    const result = await concurrencyScenario({ seed: 7, writers: 8, changes: 15 });

    expect(result).toMatchObject({
      events_in: 120,
      events_applied: 120,
      lost: 0,
      duplicated: 0,
      divergences: 0,
      passed: true,
    });
    expect(result.details.concurrency_errors_retried).toBeGreaterThan(0);
    expect(result.faults_injected).toBe(result.details.concurrency_errors_retried);
    expect(result.details.other_errors_retried).toBe(0);
    expect(result.details.final_versions).toEqual([121]);
  }, 60_000);

  it('keeps each of several streams raced on at once gapless, with every change once', async () => {
    const result = await concurrencyScenario({ seed: 8, writers: 6, changes: 10, streams: 3 });

    expect(result).toMatchObject({
      events_in: 180,
      events_applied: 180,
      lost: 0,
      duplicated: 0,
      divergences: 0,
      passed: true,
    });
    expect(result.details.streams).toBe(3);
    expect(result.details.final_versions).toEqual([61]);
  }, 60_000);
});
