import { describe, expect, it } from 'vitest';
import { measure, PEER_SCENARIOS, type PeerResult } from '../../../bench/peers.js';

/**
 * The peer benchmarks run once on a tiny season so they cannot rot: both sides must append and
 * replay every event and end with the same read model. No timing assertions.
 */
const TINY = { teams: 6, gamesPerTeam: 3, rounds: 1, warmUp: false } as const;

/** The first scenario against this peer (its season is replaced by the tiny one). */
function scenario(peer: 'castore' | 'emmett') {
  const found = PEER_SCENARIOS.find((s) => s.peer === peer);
  if (!found) throw new Error(`no ${peer} scenario`);
  return found;
}

/** Every run of either side appended, replayed and applied every planned event; models agree. */
function expectEveryEventReplayed(result: PeerResult) {
  const planned = result.check.events_planned;
  expect(planned).toBe(result.events);
  expect(planned).toBeGreaterThan(result.matches);
  for (const side of [...result.check.ours, ...result.check.peer]) {
    expect(side.appended).toBe(planned);
    expect(side.replayed).toBe(planned);
    expect(side.applied).toBe(planned);
  }
  expect(result.check.documents).toBeGreaterThan(0);
  expect(result.check.read_models_agree).toBe(true);
  // Only that each figure was measured, not how fast.
  for (const figure of result.figures) {
    expect(figure.value).toBeGreaterThan(0);
    expect(figure.baseline).toBeGreaterThan(0);
  }
}

describe('peer benchmarks on tiny inputs', () => {
  it('Castore on dynalite: ingest and per-aggregate replay against ours', async () => {
    // Prepare / Act
    const result = await measure(scenario('castore'), TINY);

    // Assess
    expect(result.figures.map((f) => f.figure)).toEqual(['ingest', 'replay']);
    expect(result.check.ours).toHaveLength(1);
    expect(result.check.peer).toHaveLength(2);
    expectEveryEventReplayed(result);
  });

  it('Emmett in memory: append, read and replay against our in-memory store', async () => {
    // Prepare / Act
    const result = await measure(scenario('emmett'), TINY);

    // Assess
    expect(result.figures.map((f) => f.figure)).toEqual(['append', 'read', 'replay']);
    for (const side of [...result.check.ours, ...result.check.peer]) {
      expect(side.read).toBe(result.check.events_planned);
    }
    expectEveryEventReplayed(result);
  });
});
