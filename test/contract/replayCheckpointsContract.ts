import { describe, expect, it } from 'vitest';
import type { ReplayCheckpoint, ReplayCheckpoints } from '../../stream/replay/replay.js';

/** What the contract needs of an adapter under test. */
export interface ReplayCheckpointsUnderTest {
  /** Checkpoints on the adapter's storage; each call is another run of the command. */
  open(): ReplayCheckpoints;
}

let counter = 0;
/** A replay name no other test of the run uses (adapters may share one table). */
function replayName(): string {
  counter++;
  return `replay-${process.pid}-${counter}`;
}

/** A checkpoint as an interrupted four-segment replay saves it. */
function interrupted(name: string, overrides: Partial<ReplayCheckpoint> = {}): ReplayCheckpoint {
  return {
    name,
    status: 'running',
    fingerprint: '{"target":"read model matches (generation 2)","filters":{},"segments":4}',
    segments: 4,
    // Segment 0 is under way, 1 is done, 2 and 3 have not started.
    keys: [
      { aggregate_id: { S: 'match:2026-00018' }, sequence: { N: '3' } },
      null,
      undefined,
      undefined,
    ],
    streams_done: 0,
    target_position: 0,
    events: 1_234,
    scanned: 1_200,
    unreadable: 1,
    poisoned_streams: { 'match:2026-00020': '7f1c2e9a-5d4b-4c3e-9a8f-1b2c3d4e5f60' },
    started_at: '2026-09-03T10:00:00.000Z',
    updated_at: '2026-09-03T10:00:05.250Z',
    ...overrides,
  };
}

/**
 * The contract of replay checkpoints (how far a named replay went, so that an interrupted
 * replay goes on): every adapter must pass exactly these tests.
 */
export function replayCheckpointsContract(
  name: string,
  setup: () => ReplayCheckpointsUnderTest,
): void {
  describe(`ReplayCheckpoints contract: ${name}`, () => {
    it('has no checkpoint for a replay never saved', async () => {
      expect(await setup().open().load(replayName())).toBeUndefined();
    });

    it('loads what was saved, a segment not started apart from a finished one', async () => {
      // Prepare
      const checkpoints = setup().open();
      const saved = interrupted(replayName());

      // Act
      await checkpoints.save(saved);
      const loaded = await checkpoints.load(saved.name);

      // Assess: a finished segment (null) is skipped on resume, one not started (undefined)
      // is scanned from its start; mistaking one for the other skips a segment's events.
      expect(loaded).toEqual(saved);
      expect(loaded?.keys).toHaveLength(4);
      expect(loaded?.keys.map((key) => (key === undefined ? 'not started' : key))).toEqual([
        saved.keys[0],
        null,
        'not started',
        'not started',
      ]);
    });

    it('keeps the checkpoint of a replay that has not started any segment yet', async () => {
      const checkpoints = setup().open();
      const saved = interrupted(replayName(), {
        keys: [undefined, undefined, undefined, undefined],
        events: 0,
        scanned: 0,
      });

      await checkpoints.save(saved);

      const loaded = await checkpoints.load(saved.name);
      expect(loaded?.keys).toEqual([undefined, undefined, undefined, undefined]);
      expect(loaded?.keys.every((key) => key === undefined)).toBe(true);
    });

    it('keeps a replay by stream ids and a finished replay as saved', async () => {
      const checkpoints = setup().open();
      const [byIds, finished] = [replayName(), replayName()];
      const savedByIds = interrupted(byIds, { segments: 1, keys: [undefined], streams_done: 17 });
      const savedFinished = interrupted(finished, {
        status: 'done',
        keys: [null, null, null, null],
        target_position: 52_113,
      });

      await checkpoints.save(savedByIds);
      await checkpoints.save(savedFinished);

      expect(await checkpoints.load(byIds)).toEqual(savedByIds);
      expect(await checkpoints.load(finished)).toEqual(savedFinished);
    });

    it('replaces a replay’s checkpoint with the next, and keeps replays apart', async () => {
      const checkpoints = setup().open();
      const [first, second] = [replayName(), replayName()];
      await checkpoints.save(interrupted(first));
      await checkpoints.save(interrupted(second, { events: 5 }));

      const later = interrupted(first, {
        keys: [null, null, { aggregate_id: { S: 'team:sea' }, sequence: { N: '1' } }, undefined],
        events: 2_000,
      });
      await checkpoints.save(later);

      expect(await checkpoints.load(first)).toEqual(later);
      expect((await checkpoints.load(second))?.events).toBe(5);
    });

    it('is read by the next run: another opening of the storage loads it', async () => {
      const under = setup();
      const saved = interrupted(replayName());

      await under.open().save(saved);

      expect(await under.open().load(saved.name)).toEqual(saved);
    });

    it('keeps what was saved whatever the caller does with its copies', async () => {
      const checkpoints = setup().open();
      const saved = interrupted(replayName());
      const keys = [...saved.keys];
      await checkpoints.save({ ...saved, keys });

      keys[2] = null;
      const loaded = await checkpoints.load(saved.name);
      // The replay copies the keys it loads; a careless caller must not reach the store either.
      (loaded?.keys as unknown[])[3] = null;

      expect(await checkpoints.load(saved.name)).toEqual(saved);
    });
  });
}
