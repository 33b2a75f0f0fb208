import { describe, expect, it } from 'vitest';
import { busFaultsScenario } from '../../../chaos/busFaults.js';
import { motoAvailable } from '../../support/moto.js';

describe.runIf(motoAvailable())('chaos: EventBridge faults (moto)', () => {
  it('puts every event on its bus, or dead-letters it, under throttling, 5xx, timeouts, lost answers and FailedEntryCount', async () => {
    const result = await busFaultsScenario({
      seed: 4,
      teams: 8,
      gamesPerTeam: 3,
      rates: { throttle: 0.03, serverError: 0.02, timeout: 0.01, lostAnswer: 0.02, partial: 0.3 },
    });

    expect(result).toMatchObject({ passed: true, lost: 0, duplicated: 0, divergences: 0 });
    expect(result.events_in).toBe(result.events_applied + result.dead_lettered);
    const injected = result.details.injected as Record<string, Record<string, number>>;
    // PutEvents itself failed in every way, partial failures (FailedEntryCount) included.
    expect(Object.values(injected.eventBridge ?? {})).not.toContain(0);
    // The fix (no more faults) and a redrive: nothing left dead-lettered, every event arrived.
    const afterFix = result.details.after_fix as Record<string, number>;
    expect(afterFix).toMatchObject({
      letters_left: 0,
      never_arrived: 0,
      second_redrive_letters: 0,
    });
    expect(afterFix.letters).toBeGreaterThan(0);
    expect(afterFix.redriven).toBe(afterFix.letters);
  }, 120_000);
});
