import { describe, expect, it } from 'vitest';
import { type SagaKill, sagaCrashScenario } from '../../../chaos/sagaCrash.js';
import { CLI_MODULES } from '../../support/cli.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();

describe('chaos: SIGKILL a saga in its steps and its compensations, resume, compare', () => {
  it('ends each saga as the same saga never killed ends, each effect once', async () => {
    // A fixed seed here (npm run chaos picks a new one each run and prints it).
    const seed = 11;

    const result = await sagaCrashScenario({
      dir: tmp.path('saga-crash'),
      cli: CLI_MODULES,
      seed,
      kills: 6,
      teams: 16,
      gamesPerTeam: 4,
    });

    // Six kills, aimed at the sagas' writes: some while a step ran, some while a
    // compensation ran, after which `saga resume` carried on.
    const kills = result.details.kills as SagaKill[];
    expect(kills).toHaveLength(6);
    expect(result.kills).toBe(6);
    expect(kills.filter((k) => k.phase === 'steps').length).toBeGreaterThan(0);
    expect(kills.filter((k) => k.phase === 'compensations').length).toBeGreaterThan(0);
    expect(kills.some((k) => k.command === 'saga resume')).toBe(true);
    // Sagas that complete and sagas that compensate (update_cache failing for good).
    expect(result.details.sagas).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ compensating: false }),
        expect.objectContaining({ compensating: true }),
      ]),
    );
    // Three failed attempts of update_cache in each compensating saga.
    expect(result.faults_injected).toBeGreaterThanOrEqual(3);
    // Each ended as the unkilled reference did: status, steps, calculation, cache, snapshots.
    expect(result.details.differences).toEqual([]);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, divergences: 0, passed: true });
    expect(result.events_applied).toBe(result.events_in);
  }, 420_000);
});
