import { describe, expect, it } from 'vitest';
import { poisonedStoreScenario } from '../../../chaos/poisonedStore.js';

describe('chaos: a poisoned store', () => {
  it('dead-letters every unreadable item with a reason, holds back what follows one, applies the rest, and rebuilds agree', async () => {
    const result = await poisonedStoreScenario({ seed: 17, teams: 12, gamesPerTeam: 4 });

    expect(result).toMatchObject({ passed: true, lost: 0, duplicated: 0, divergences: 0 });
    expect(result.events_in).toBe(result.events_applied + result.dead_lettered);
    expect(result.dead_lettered).toBe(10);
    const planted = result.details.planted as { kind: string; reason?: string }[];
    const reason = (kind: string) => planted.find((p) => p.kind === kind)?.reason;
    expect(reason('corrupt Avro')).toMatch(/cannot decode the stored bytes/);
    expect(reason('unknown fingerprint')).toMatch(/no registered schema has this fingerprint/);
    expect(reason('not a commit')).toMatch(/match:planted-malformed/);
    // Held back: its record fails on the corrupt event before it, which it names.
    expect(reason('good event after a corrupt one')).toMatch(/cannot decode the stored bytes/);
    expect(reason('unregistered event type')).toMatch(/no registered schema has this fingerprint/);
    expect(reason('correction behind an unregistered type')).toMatch(
      /no registered schema has this fingerprint/,
    );
    // Every rebuild skipped what the consumers held back of the types it reads; the events of
    // types nobody can read (and the item that is not a commit) every rebuild meets.
    expect(result.details.rebuild_unreadable).toEqual({
      teams: 5,
      matches: 10,
      standings: 10,
      rankings: 5,
      sagas: 5,
      'pipeline-stats': 10,
    });
    // The fix registered MatchAbandoned: its two events and the correction held back behind one
    // were redriven (by every consumer that had given up on them), a second redrive applied
    // nothing, and only letters of what is still unreadable are left.
    expect(result.details.after_fix).toMatchObject({
      left_readable: 0,
      second_redrive: { redriven: 0 },
      still_unreadable: 7,
    });
    expect(
      (result.details.after_fix as { events_redriven: number }).events_redriven,
    ).toBeGreaterThan(0);
  }, 120_000);
});
